"""What the dbt Python models in python_models/clv/ call (they stay thin)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd

from segmentation.clv.model import (
    INPUT_COLUMNS,
    REGISTRY_COLUMNS,
    REGISTRY_DTYPES,
    FitDidNotConverge,
    check_inputs,
    counts_fit_status,
    fingerprint,
    fit_status,
    registry_row,
    score_customers,
)
from segmentation.clv.settings import FIT_SETTINGS, ClvSettings
from segmentation.dbt_glue import (
    is_spark,
    latest_registry_row,
    model_result,
    python_thread_limit,
    relation_frame,
    score_every_customer,
    training_frame,
    with_columns,
)
from segmentation.retrain import RetrainDecision, RetrainSchedule, retrain_decision

NOT_CONVERGED = ("no CLV model: the fit did not converge on these inputs, even at var "
                 "clv_fallback_penalizer_coef; raise that var or clv_penalizer_coef")


def clv_settings(settings_json: str) -> ClvSettings:
    """The settings the dbt config ``clv_settings`` passes in (all clv_* vars), checked."""
    return ClvSettings.from_mapping(json.loads(settings_json))


@dataclass(frozen=True)
class WholeInput:
    """What Spark counted over the whole CLV input when only a sample of it was collected.

    Attributes
    ----------
    n_customers, n_purchasers : int
        Rows, and rows with ``has_purchases``.
    n_repeat : int
        Rows with ``frequency > 0`` (what :func:`fit_status` counts).
    fingerprint : str
        sha256 of the fit settings, the row count and the sum of every row's
        ``xxhash64`` (same rows, same value on every run and partitioning; not the pandas
        fingerprint of smaller inputs, so a model never matches across the two).
    as_of_date : date or None
        Latest ``as_of_date`` of the input.
    """

    n_customers: int
    n_purchasers: int
    n_repeat: int
    fingerprint: str
    as_of_date: Any


def clv_input(relation: Any, settings: ClvSettings, purchasers_sample: bool = True
              ) -> tuple[pd.DataFrame | None, WholeInput | None]:
    """The CLV input for a model: whole (DuckDB, or Spark up to the sample size) or sampled.

    DuckDB: the whole input, and None. Spark: Spark counts the input; up to var
    clv_training_sample_size customers it is collected whole (the demo: the same frame, the
    same fit and fingerprint as DuckDB), and None. Above, it is checked in Spark as
    :func:`check_inputs` checks it, and only the first var clv_training_sample_size
    purchasers in the order of ``xxhash64(customer_id, random_state)`` are collected (none
    when ``purchasers_sample`` is false), with the :class:`WholeInput` counts.

    Raises
    ------
    ValueError
        As :func:`check_inputs`, on the whole Spark input.
    """
    if not is_spark(relation):
        return relation_frame(relation), None
    whole = _spark_whole_input(relation, settings)
    if whole.n_customers <= settings.training_sample_size:
        return relation_frame(relation), None
    if not purchasers_sample:
        return None, whole
    from pyspark.sql import functions as F

    purchasers = relation.filter(F.coalesce(F.col("has_purchases").cast("boolean"), F.lit(False)))
    sample, _ = training_frame(purchasers, settings.training_sample_size, settings.random_state)
    return sample, whole


def _spark_whole_input(relation: Any, settings: ClvSettings) -> WholeInput:
    from pyspark.sql import functions as F

    missing = [c for c in INPUT_COLUMNS if c not in relation.columns]
    if missing:
        raise ValueError(f"CLV input lacks column(s) {missing}; it has {list(relation.columns)}")
    buyer = F.coalesce(F.col("has_purchases").cast("boolean"), F.lit(False))
    f, r, t, m = (F.col(name).cast("double") for name in ("frequency", "recency", "t", "monetary_value"))
    bad = buyer & (f.isNull() | r.isNull() | t.isNull() | (f < 0) | (r < 0) | (r > t) | (f % 1 != 0)
                   | ((f > 0) & ~F.coalesce(m > 0, F.lit(False))))
    row_hash = F.xxhash64(F.col("customer_id").cast("string"), buyer, f, r, t, m).cast("decimal(38, 0)")
    aggregates = [
        F.count(F.lit(1)).alias("n_customers"),
        F.count("customer_id").alias("n_ids"),
        F.count_distinct("customer_id").alias("n_distinct_ids"),
        F.sum(F.when(buyer, 1).otherwise(0)).alias("n_purchasers"),
        F.sum(F.when(f > 0, 1).otherwise(0)).alias("n_repeat"),
        F.sum(F.when(bad, 1).otherwise(0)).alias("n_bad"),
        F.sum(row_hash).cast("string").alias("row_hash"),
    ]
    if "as_of_date" in relation.columns:
        aggregates.append(F.max("as_of_date").alias("as_of_date"))
    counts = relation.agg(*aggregates).collect()[0].asDict()
    n_customers = int(counts["n_customers"])
    if counts["n_ids"] != n_customers or counts["n_distinct_ids"] != n_customers:
        raise ValueError("CLV input: customer_id must be unique and not null")
    if counts["n_bad"]:
        example = relation.filter(bad).limit(1).collect()[0].asDict()
        raise ValueError(f"CLV input: {counts['n_bad']} customer(s) with impossible values, "
                         f"for example {example}")
    digest = hashlib.sha256(settings.fit_json().encode("utf-8"))
    digest.update(f"spark xxhash64 sum;{n_customers};{counts['row_hash']}".encode())
    return WholeInput(n_customers=n_customers, n_purchasers=int(counts["n_purchasers"] or 0),
                      n_repeat=int(counts["n_repeat"] or 0), fingerprint=digest.hexdigest(),
                      as_of_date=counts.get("as_of_date"))


def clv_registry_rows(frame: pd.DataFrame, settings: ClvSettings, previous: dict[str, Any] | None,
                      empty_like: pd.DataFrame | None, whole: WholeInput | None = None,
                      schedule: RetrainSchedule | None = None) -> pd.DataFrame:
    """The rows to append to clv_models this build: one new fit, or none.

    The rows of :func:`clv_registry_update` (which also says why).
    """
    return clv_registry_update(frame, settings, previous, empty_like, whole, schedule)[0]


def clv_registry_update(frame: pd.DataFrame, settings: ClvSettings, previous: dict[str, Any] | None,
                        empty_like: pd.DataFrame | None, whole: WholeInput | None = None,
                        schedule: RetrainSchedule | None = None) -> tuple[pd.DataFrame, str]:
    """The rows to append to clv_models this build (one new fit, or none) and why.

    None in score mode (which needs a stored model), none when the latest fit has the same
    fingerprint (same fit settings and inputs: the rerun reuses it), none when the retrain
    schedule says the stored fit still scores this build (:func:`clv_decision`), none when
    the input cannot carry a model (customer_predictions then says why). ``schedule`` None:
    the schedule is off (every change of data refits, as before issue 13). A new row keeps
    the decision's reason in ``retrain_reason``.
    With ``whole`` (:func:`clv_input` on Spark above the sample size) ``frame`` is the
    purchasers' sample: the status, fingerprint, as-of date, ``n_customers`` and
    ``n_purchasers`` come from Spark's counts, and ``notes_json`` says the fit saw a sample.

    Raises
    ------
    ValueError
        In score mode with no stored model.
    """
    empty = (with_columns(empty_like, {name: REGISTRY_DTYPES.get(name, "float64") for name in REGISTRY_COLUMNS})
             if empty_like is not None else empty_registry())
    if settings.mode == "score":
        if previous is None:
            raise ValueError("var clv_mode is 'score' but clv_models holds no model yet: "
                             "build once with clv_mode: train")
        return empty, f"scored with model {int(previous['model_version'])}: score mode never refits"
    data = check_inputs(frame)
    status = (fit_status(data, settings) if whole is None
              else counts_fit_status(whole.n_purchasers, whole.n_repeat, settings))
    if status is not None:
        return empty, f"no fit: {status}"
    digest = fingerprint(data, settings) if whole is None else whole.fingerprint
    if whole is None:
        as_of = frame["as_of_date"].max() if "as_of_date" in frame.columns and len(frame) else None
    else:
        as_of = whole.as_of_date
    as_of = None if as_of is None or pd.isna(as_of) else pd.Timestamp(as_of)
    decision = clv_decision(previous, settings, digest, len(data) if whole is None else whole.n_customers,
                            as_of, schedule)
    if not decision.trains:
        return empty, decision.reason
    with python_thread_limit():
        try:
            row = registry_row(data, settings, previous, digest=digest, as_of_date=as_of)
        except FitDidNotConverge:
            # Documented treatment: no new fit; customer_predictions marks everyone unscored
            # with the reason instead of failing the whole build.
            return empty, f"no fit: {NOT_CONVERGED}"
    row["retrain_reason"] = decision.reason
    if whole is not None:
        row.update(n_customers=whole.n_customers, n_purchasers=whole.n_purchasers,
                   notes_json=json.dumps([*json.loads(row["notes_json"]),
                                          f"fitted on a hash-ordered sample of {len(data)} of "
                                          f"{whole.n_purchasers} purchasers (var clv_training_sample_size)"]))
    new = pd.DataFrame([row], columns=list(REGISTRY_COLUMNS))
    return new.astype({name: REGISTRY_DTYPES.get(name, "float64") for name in REGISTRY_COLUMNS}), decision.reason


def clv_decision(previous: dict[str, Any] | None, settings: ClvSettings, digest: str, n_customers: int,
                 as_of_date: Any, schedule: RetrainSchedule | None) -> RetrainDecision:
    """:func:`segmentation.retrain.retrain_decision` for clv_models (train mode).

    The settings changed when the stored fit's fit settings (``FIT_SETTINGS`` of its
    ``settings_json``) differ from ``settings``'; scoring-only settings (horizons, discount
    rate, churn bands) never refit. ``schedule`` None: the schedule is off.
    """
    changed = False
    if previous is not None:
        try:
            stored = json.loads(previous.get("settings_json") or "{}")
        except (TypeError, ValueError):
            stored = {}
        changed = {key: stored.get(key) for key in FIT_SETTINGS} != json.loads(settings.fit_json())
    return retrain_decision(previous, mode=settings.mode, settings_changed=changed, fingerprint=digest,
                            n_customers=n_customers, as_of_date=as_of_date,
                            schedule=schedule if schedule is not None else RetrainSchedule(after_days=0))


def empty_registry() -> pd.DataFrame:
    """clv_models with no row, typed (so a first build that fits nothing makes the right table)."""
    return pd.DataFrame({name: pd.Series(dtype=REGISTRY_DTYPES.get(name, "float64")) for name in REGISTRY_COLUMNS})


def clv_predictions(frame: pd.DataFrame, registry: pd.DataFrame, settings: ClvSettings,
                    schedule: RetrainSchedule | None = None) -> pd.DataFrame:
    """Every customer of the CLV input scored with the latest stored fit.

    In train mode the latest fit is used if its fingerprint matches this input or the
    retrain schedule lets it score this input (:func:`clv_decision`, the decision
    clv_models made); else the input could not carry a model (or the due refit did not
    converge) and every customer is unscored with the reason. In score mode the latest fit
    scores whatever comes in.
    """
    data = check_inputs(frame)
    as_of = frame["as_of_date"].max() if "as_of_date" in frame.columns and len(frame) else None
    latest, reason = _scoring_model(registry, settings, lambda: fit_status(data, settings),
                                    lambda: fingerprint(data, settings), schedule,
                                    len(data), None if as_of is None or pd.isna(as_of) else as_of)
    with python_thread_limit():
        return score_customers(data, latest, settings, no_model_reason=reason)


def _scoring_model(registry: pd.DataFrame, settings: ClvSettings, status, digest,
                   schedule: RetrainSchedule | None = None, n_customers: int | None = None,
                   as_of_date: Any = None) -> tuple[dict[str, Any] | None, str | None]:
    """The fit that scores this input (or None) and, without one, the reason."""
    latest = latest_registry_row(registry)
    reason = None
    if settings.mode == "train":
        reason = status()
        if reason is None and latest is None:
            reason = NOT_CONVERGED
        elif reason is None:
            this = digest()
            if latest.get("fingerprint") != this and clv_decision(
                    latest, settings, this, n_customers, as_of_date, schedule).trains:
                reason = NOT_CONVERGED
        if reason is not None:
            latest = None
    elif latest is None:
        reason = "no CLV model stored (clv_mode: score)"
    return latest, reason


def _score_batch(batch: pd.DataFrame, latest: dict[str, Any] | None, settings: ClvSettings,
                 reason: str | None) -> pd.DataFrame:
    with python_thread_limit():
        return score_customers(check_inputs(batch), latest, settings, no_model_reason=reason)


def clv_models_result(relation: Any, settings: ClvSettings, previous: dict[str, Any] | None,
                      empty_like: pd.DataFrame | None, session: Any,
                      schedule: RetrainSchedule | None = None) -> Any:
    """What the clv_models model returns: :func:`clv_registry_update` of :func:`clv_input`.

    Prints the decision and its reason (the build's log line).
    """
    frame, whole = clv_input(relation, settings)
    rows, reason = clv_registry_update(frame, settings, previous, empty_like, whole, schedule)
    print(f"clv_models: {reason}", flush=True)
    return model_result(rows, session)


def clv_predictions_result(relation: Any, registry: pd.DataFrame, settings: ClvSettings, session: Any,
                           schedule: RetrainSchedule | None = None) -> Any:
    """What the customer_predictions model returns: every customer of ``relation`` scored.

    DuckDB, and Spark up to var clv_training_sample_size customers: :func:`clv_predictions`
    of the whole input. Spark above: nothing is collected; the fit (or the reason there is
    none) is chosen from Spark's counts and fingerprint (:class:`WholeInput`), and each
    partition is scored where it lies (:func:`score_every_customer`).
    """
    frame, whole = clv_input(relation, settings, purchasers_sample=False)
    if whole is None:
        return model_result(clv_predictions(frame, registry, settings, schedule), session, arrow=True)
    latest, reason = _scoring_model(
        registry, settings, lambda: counts_fit_status(whole.n_purchasers, whole.n_repeat, settings),
        lambda: whole.fingerprint, schedule, whole.n_customers, whole.as_of_date)
    return score_every_customer(relation, session, partial(_score_batch, latest=latest, settings=settings,
                                                           reason=reason))
