"""When a registry (cluster_models, clv_models) trains a new model, and when a build scores
with the stored one instead: the retrain schedule (issue 13).

One pure function, :func:`retrain_decision`, decides for both registries from the stored
model's row, whether the settings changed, the data's fingerprint, the customer count and the
two as-of dates. The dbt Python models only gather those values and act on the decision.

The rules, in order (the first that applies decides):

1. score mode (var clustering_mode / clv_mode): score with the stored model, never train;
2. no stored model: train;
3. the stored model has this build's fingerprint (same data and settings, a rerun): reuse
   it (no new registry row, so reruns stay identical);
4. settings changed: train;
5. no as-of date on either side (a model stored before the schedule existed): train, as
   before the schedule;
6. this build's as-of date is before the stored model's (a replay of a past date): train,
   as before the schedule (a model never scores a date earlier than the data it saw);
7. var retrain_after_days is 0: train (the schedule is off: every change of data retrains);
8. the number of customers moved by more than var retrain_max_customer_change (a share of
   the stored model's n_customers): train early;
9. the stored model is retrain_after_days or more days old (as-of date to as-of date): train;
10. otherwise: score every customer with the stored model.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: Actions of a :class:`RetrainDecision`.
TRAIN, SCORE = "train", "score"


@dataclasses.dataclass(frozen=True)
class RetrainSchedule:
    """The retrain schedule vars, checked.

    Attributes
    ----------
    after_days : int
        var retrain_after_days: a model whose as-of date is this many days or more before
        the build's is retrained; 0 retrains on every change of data (the schedule off).
    max_customer_change : float or None
        var retrain_max_customer_change: retrain early when the customer count differs from
        the stored model's by more than this share (0.1 = 10%); None = no such trigger.
    """

    after_days: int = 30
    max_customer_change: float | None = 0.1

    def __post_init__(self):
        days = self.after_days
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"var retrain_after_days must be a whole number of days >= 0, got {days!r}")
        change = self.max_customer_change
        if change is not None and (isinstance(change, bool) or not isinstance(change, (int, float))
                                   or not change >= 0 or change == float("inf")):
            raise ValueError("var retrain_max_customer_change must be a share >= 0 (0.1 = 10%) or null, "
                             f"got {change!r}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> RetrainSchedule:
        """From the dbt config ``retrain_schedule`` (keys after_days, max_customer_change)."""
        mapping = dict(mapping or {})
        unknown = sorted(set(mapping) - {"after_days", "max_customer_change"})
        if unknown:
            raise ValueError(f"unknown retrain schedule key(s) {unknown}; allowed: after_days, max_customer_change")
        days = mapping.get("after_days", cls.after_days)
        if isinstance(days, float) and days.is_integer():
            days = int(days)
        return cls(after_days=days, max_customer_change=mapping.get("max_customer_change", cls.max_customer_change))

    @classmethod
    def from_json(cls, text: str | None) -> RetrainSchedule:
        return cls.from_mapping(json.loads(text) if text else None)


@dataclasses.dataclass(frozen=True)
class RetrainDecision:
    """What a build does with a registry: ``action`` ``'train'`` or ``'score'``, and why.

    ``model_version`` is the stored model that scores (None when training).
    """

    action: str
    reason: str
    model_version: int | None = None

    @property
    def trains(self) -> bool:
        return self.action == TRAIN


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(value).date()


def retrain_decision(previous: Mapping[str, Any] | None, *, mode: str, settings_changed: bool,
                     fingerprint: str | None, n_customers: int | None, as_of_date: Any,
                     schedule: RetrainSchedule) -> RetrainDecision:
    """Whether this build trains a new model or scores with the stored one (module docstring).

    Parameters
    ----------
    previous : mapping or None
        The stored model's registry row (keys ``model_version``, ``fingerprint``,
        ``as_of_date``, ``n_customers``), None when the registry is empty.
    mode : {'train', 'score'}
    settings_changed : bool
        True when the settings that shape a model differ from the stored model's.
    fingerprint : str or None
        This build's fingerprint (settings and data).
    n_customers : int or None
        Customers of this build's input.
    as_of_date : date-like or None
        This build's as-of date.
    schedule : RetrainSchedule

    Returns
    -------
    RetrainDecision

    Raises
    ------
    ValueError
        On an unknown mode.
    """
    if mode not in (TRAIN, SCORE):
        raise ValueError(f"mode must be 'train' or 'score', got {mode!r}")
    if previous is None:
        if mode == SCORE:
            raise ValueError("score mode needs a stored model; build once in train mode")
        return RetrainDecision(TRAIN, "retrained: no stored model yet")
    version = int(previous["model_version"])
    if mode == SCORE:
        return RetrainDecision(SCORE, f"scored with model {version}: score mode never retrains", version)
    if fingerprint is not None and previous.get("fingerprint") == fingerprint:
        return RetrainDecision(SCORE, f"scored with model {version}: same data and settings (a rerun)", version)
    if settings_changed:
        return RetrainDecision(TRAIN, "retrained: settings changed")
    build, stored = _date(as_of_date), _date(previous.get("as_of_date"))
    if build is None or stored is None:
        return RetrainDecision(TRAIN, f"retrained: data changed and model {version} has no as-of date "
                                      "to schedule by (stored before the retrain schedule)")
    if build < stored:
        return RetrainDecision(TRAIN, f"retrained: as-of date {build} is before model {version}'s "
                                      f"({stored}), a replay of a past date")
    if schedule.after_days == 0:
        return RetrainDecision(TRAIN, "retrained: data changed (var retrain_after_days is 0)")
    before = previous.get("n_customers")
    if (schedule.max_customer_change is not None and n_customers is not None and before is not None
            and not pd.isna(before)):
        before = int(before)
        change = abs(int(n_customers) - before) / before if before else (1.0 if n_customers else 0.0)
        if change > schedule.max_customer_change:
            return RetrainDecision(TRAIN, f"retrained early: {n_customers} customers against {before} for "
                                          f"model {version} ({change:.1%} change, more than var "
                                          f"retrain_max_customer_change {schedule.max_customer_change:.1%})")
    age = (build - stored).days
    if age >= schedule.after_days:
        return RetrainDecision(TRAIN, f"retrained: model {version} was {age} days old "
                                      f"(var retrain_after_days: {schedule.after_days})")
    due = schedule.after_days - age
    return RetrainDecision(SCORE, f"scored with model {version}, trained {age} day{'s' if age != 1 else ''} "
                                  f"ago; retrain due in {due} day{'s' if due != 1 else ''}", version)
