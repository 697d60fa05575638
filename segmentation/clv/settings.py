"""Validated settings of the customer-lifetime-value models (the clv_* dbt vars)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

CLV_MODES = ("train", "score")
PURCHASE_MODELS = ("bgnbd", "pareto_nbd")
TIME_UNITS = {"days": 1, "weeks": 7}

#: Settings that change a fit (and so its fingerprint). The others only change scoring:
#: a new horizon, discount rate or band edge rescores with the stored fit.
FIT_SETTINGS = ("purchase_model", "time_unit", "training_sample_size", "min_training_customers",
                "penalizer_coef", "fallback_penalizer_coef", "random_state")


@dataclass(frozen=True)
class ClvSettings:
    """Every CLV setting, checked. Build one with :meth:`from_mapping`.

    Attributes mirror the dbt vars: ``mode`` is ``clv_mode``, ``purchase_model`` is
    ``clv_purchase_model`` and so on (see docs/vars.md).
    """

    mode: str = "train"
    purchase_model: str = "bgnbd"
    time_unit: str = "weeks"
    horizons_days: tuple[int, ...] = (90, 365)
    annual_discount_rate: float = 0.1
    churn_risk_edges: tuple[float, float] = (0.3, 0.7)
    training_sample_size: int = 100_000
    min_training_customers: int = 20
    penalizer_coef: float = 0.0
    fallback_penalizer_coef: float | None = 0.001
    max_frequency_monetary_correlation: float = 0.3
    random_state: int = 42

    @property
    def days_per_unit(self) -> int:
        return TIME_UNITS[self.time_unit]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> ClvSettings:
        """Check every value; raise ``ValueError`` naming the var of a bad one.

        Parameters
        ----------
        raw : mapping
            Keys as in the dbt config ``clv_settings`` (the var names without ``clv_``).

        Raises
        ------
        ValueError
            On an unknown key or a value out of range; the message names the var.
        """
        raw = dict(raw)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown CLV setting(s): {', '.join(unknown)}")
        values = {**asdict(cls()), **{k: v for k, v in raw.items() if v is not None or k == "fallback_penalizer_coef"}}
        if values["mode"] not in CLV_MODES:
            raise ValueError(f"var clv_mode must be 'train' or 'score', got {values['mode']!r}")
        if values["purchase_model"] not in PURCHASE_MODELS:
            raise ValueError("var clv_purchase_model must be 'bgnbd' or 'pareto_nbd', "
                             f"got {values['purchase_model']!r}")
        if values["time_unit"] not in TIME_UNITS:
            raise ValueError(f"var clv_time_unit must be 'days' or 'weeks', got {values['time_unit']!r}")
        horizons = values["horizons_days"]
        if (isinstance(horizons, (str, bytes)) or not hasattr(horizons, "__iter__") or len(horizons) == 0
                or any(not _is_int(h) or h < 1 for h in horizons) or len(set(horizons)) != len(horizons)):
            raise ValueError("var clv_horizons_days must be a non-empty list of distinct positive "
                             f"whole days, got {horizons!r}")
        values["horizons_days"] = tuple(int(h) for h in horizons)
        rate = values["annual_discount_rate"]
        if not _is_number(rate) or not 0 <= rate < 1:
            raise ValueError(f"var clv_annual_discount_rate must be a number in [0, 1), got {rate!r}")
        edges = values["churn_risk_edges"]
        if (isinstance(edges, (str, bytes)) or not hasattr(edges, "__iter__") or len(edges) != 2
                or not all(_is_number(e) for e in edges) or not 0 < edges[0] < edges[1] < 1):
            raise ValueError("var clv_churn_risk_edges must be two ascending probabilities strictly "
                             f"between 0 and 1 (high risk below the first, low risk from the second), got {edges!r}")
        values["churn_risk_edges"] = (float(edges[0]), float(edges[1]))
        for name, var, minimum in (("training_sample_size", "clv_training_sample_size", 1),
                                   ("min_training_customers", "clv_min_training_customers", 2)):
            if not _is_int(values[name]) or values[name] < minimum:
                raise ValueError(f"var {var} must be an integer >= {minimum}, got {values[name]!r}")
        if not _is_number(values["penalizer_coef"]) or values["penalizer_coef"] < 0:
            raise ValueError(f"var clv_penalizer_coef must be a number >= 0, got {values['penalizer_coef']!r}")
        fallback = values["fallback_penalizer_coef"]
        if fallback is not None and (not _is_number(fallback) or fallback <= 0):
            raise ValueError(f"var clv_fallback_penalizer_coef must be a number > 0 or null, got {fallback!r}")
        corr = values["max_frequency_monetary_correlation"]
        if not _is_number(corr) or not 0 < corr <= 1:
            raise ValueError(f"var clv_max_frequency_monetary_correlation must be in (0, 1], got {corr!r}")
        if not _is_int(values["random_state"]):
            raise ValueError(f"var random_state must be an integer, got {values['random_state']!r}")
        return cls(**values)

    def fit_json(self) -> str:
        """The settings that shape a fit, as canonical JSON (part of the fingerprint)."""
        return json.dumps({k: getattr(self, k) for k in FIT_SETTINGS}, sort_keys=True)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
