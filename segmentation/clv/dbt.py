"""What the dbt Python models in python_models/clv/ call (they stay thin)."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from segmentation.clv.model import (
    REGISTRY_COLUMNS,
    REGISTRY_DTYPES,
    FitDidNotConverge,
    check_inputs,
    fingerprint,
    fit_status,
    registry_row,
    score_customers,
)
from segmentation.clv.settings import ClvSettings
from segmentation.dbt_glue import latest_registry_row, python_thread_limit

NOT_CONVERGED = ("no CLV model: the fit did not converge on these inputs, even at var "
                 "clv_fallback_penalizer_coef; raise that var or clv_penalizer_coef")


def clv_settings(settings_json: str) -> ClvSettings:
    """The settings the dbt config ``clv_settings`` passes in (all clv_* vars), checked."""
    return ClvSettings.from_mapping(json.loads(settings_json))


def clv_registry_rows(frame: pd.DataFrame, settings: ClvSettings, previous: dict[str, Any] | None,
                      empty_like: pd.DataFrame | None) -> pd.DataFrame:
    """The rows to append to clv_models this build: one new fit, or none.

    None in score mode (which needs a stored model), none when the latest fit has the same
    fingerprint (same fit settings and inputs: the rerun reuses it), none when the input
    cannot carry a model (customer_predictions then says why).

    Raises
    ------
    ValueError
        In score mode with no stored model.
    """
    empty = empty_like if empty_like is not None else empty_registry()
    if settings.mode == "score":
        if previous is None:
            raise ValueError("var clv_mode is 'score' but clv_models holds no model yet: "
                             "build once with clv_mode: train")
        return empty
    data = check_inputs(frame)
    if fit_status(data, settings) is not None:
        return empty
    if previous is not None and previous.get("fingerprint") == fingerprint(data, settings):
        return empty
    as_of = frame["as_of_date"].max() if "as_of_date" in frame.columns and len(frame) else None
    with python_thread_limit():
        try:
            row = registry_row(data, settings, previous, as_of_date=None if pd.isna(as_of) else pd.Timestamp(as_of))
        except FitDidNotConverge:
            # Documented treatment: no new fit; customer_predictions marks everyone unscored
            # with the reason instead of failing the whole build.
            return empty
    new = pd.DataFrame([row], columns=list(REGISTRY_COLUMNS))
    return new.astype({name: REGISTRY_DTYPES.get(name, "float64") for name in REGISTRY_COLUMNS})


def empty_registry() -> pd.DataFrame:
    """clv_models with no row, typed (so a first build that fits nothing makes the right table)."""
    return pd.DataFrame({name: pd.Series(dtype=REGISTRY_DTYPES.get(name, "float64")) for name in REGISTRY_COLUMNS})


def clv_predictions(frame: pd.DataFrame, registry: pd.DataFrame, settings: ClvSettings) -> pd.DataFrame:
    """Every customer of the CLV input scored with the latest stored fit.

    In train mode the latest fit is used only if its fingerprint matches this input (else
    the input could not carry a model and every customer is unscored with the reason); in
    score mode the latest fit scores whatever comes in.
    """
    data = check_inputs(frame)
    latest = latest_registry_row(registry)
    reason = None
    if settings.mode == "train":
        reason = fit_status(data, settings)
        if reason is None and (latest is None or latest.get("fingerprint") != fingerprint(data, settings)):
            reason = NOT_CONVERGED
        if reason is not None:
            latest = None
    elif latest is None:
        reason = "no CLV model stored (clv_mode: score)"
    with python_thread_limit():
        return score_customers(data, latest, settings, no_model_reason=reason)
