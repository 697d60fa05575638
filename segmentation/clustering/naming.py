"""Cluster profiles and deterministic, readable cluster names."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ._common import MISSING_LEVEL, OTHER_LEVEL

__all__ = ["Profile", "profile_clusters", "name_clusters", "VOCABULARY", "MIN_ABS_Z",
           "TimeThresholds"]

#: (word when high, word when low) per known feature.
VOCABULARY: dict[str, tuple[str, str]] = {
    "monetary": ("high spend", "low spend"),
    "frequency": ("frequent", "infrequent"),
    "recency_days": ("lapsed", "recent"),
    "tenure_days": ("long-standing", "new"),
    "age": ("older", "younger"),
    "avg_order_value": ("big baskets", "small baskets"),
}
#: Features measured in days whose words state an absolute fact about time. The word is
#: chosen from the cluster's median (see :class:`TimeThresholds`), not from its z-score.
TIME_FEATURES = ("recency_days", "tenure_days")
MIN_ABS_Z = 0.3
#: A 0/1 feature is named by the share of its members with 1: "mostly x" at or above
#: BINARY_MOSTLY, "few x" at or below 1 - BINARY_MOSTLY, else "NN% x".
BINARY_MOSTLY = 0.75
MAX_WORDS = 3
CAT_MIN_SHARE = 0.6
CAT_MIN_LIFT = 1.5


@dataclasses.dataclass(frozen=True)
class TimeThresholds:
    """Absolute limits, in days, for the time words of cluster names.

    ``recency_days``: "recent" when the cluster median is ``<= recent_max_days``,
    "lapsed" when ``>= lapsed_min_days``, "lapsing" between.  ``tenure_days``:
    "new" when ``<= new_max_days``, "long-standing" when ``>= long_standing_min_days``,
    no tenure word between (the z-score alone never says new or long-standing).
    """

    recent_max_days: float = 90.0
    lapsed_min_days: float = 180.0
    new_max_days: float = 90.0
    long_standing_min_days: float = 365.0

    @classmethod
    def from_settings(cls, settings) -> TimeThresholds:
        return cls(settings.recent_max_days, settings.lapsed_min_days, settings.new_max_days,
                   settings.long_standing_min_days)

    def word(self, feature: str, median: float) -> str | None:
        """The time word for a cluster median, or None."""
        if not math.isfinite(median):
            return None
        if feature == "recency_days":
            if median <= self.recent_max_days:
                return "recent"
            return "lapsed" if median >= self.lapsed_min_days else "lapsing"
        if median <= self.new_max_days:
            return "new"
        return "long-standing" if median >= self.long_standing_min_days else None


@dataclasses.dataclass
class Profile:
    """Cluster profile against the population of classified customers.

    Attributes
    ----------
    numeric_names : list of str, length p
    cluster_mean : ndarray, shape (k, p)
        Mean of the observed (non-null) values per cluster, original units.
    cluster_median : ndarray, shape (k, p)
        Median of the observed values per cluster, original units.
    is_binary : ndarray of bool, shape (p,)
        The feature only takes the values 0 and 1 (both seen).
    population_mean, population_std : ndarray, shape (p,)
        Over all classified customers (std with ddof=0).
    z : ndarray, shape (k, p)
        ``(cluster_mean - population_mean) / population_std`` (0 when the
        std is 0 or the mean undefined).
    categorical : list of dict
        Per categorical feature: ``feature``, ``levels`` (all mapped levels),
        ``share`` (k, n_levels) and ``population_share`` (n_levels,).
    sizes : ndarray of int64, shape (k,)
    """

    numeric_names: list[str]
    cluster_mean: np.ndarray
    population_mean: np.ndarray
    population_std: np.ndarray
    z: np.ndarray
    categorical: list[dict]
    sizes: np.ndarray
    cluster_median: np.ndarray | None = None
    is_binary: np.ndarray | None = None


def profile_clusters(labels: np.ndarray, k: int, X: np.ndarray, numeric_names: list[str],
                     codes: list[np.ndarray], categorical: list[dict]) -> Profile:
    """Per-cluster means and level shares, vectorised with ``bincount``.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        Cluster index 0..k-1 of every classified customer.
    k : int
    X : ndarray of float64, shape (n, p)
        Numeric features in original units (NaN = not observed).
    numeric_names : list of str, length p
    codes : list of ndarray of int64, each shape (n,)
        Category codes (see :func:`preprocessing.category_codes`).
    categorical : list of dict
        ``params["categorical"]`` entries (``feature``, ``levels``).

    Returns
    -------
    Profile
    """
    sizes = np.bincount(labels, minlength=k).astype(np.int64)
    p = X.shape[1]
    cmean = np.full((k, p), np.nan)
    pmean = np.full(p, np.nan)
    pstd = np.full(p, np.nan)
    z = np.zeros((k, p))
    for j in range(p):
        obs = ~np.isnan(X[:, j])
        if not obs.any():
            continue
        x = X[obs, j]
        cnt = np.bincount(labels[obs], minlength=k)
        tot = np.bincount(labels[obs], weights=x, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            cmean[:, j] = tot / cnt
        pmean[j] = float(np.mean(x))
        pstd[j] = float(np.std(x))
        if pstd[j] > 0:
            zj = (cmean[:, j] - pmean[j]) / pstd[j]
            z[:, j] = np.where(np.isnan(zj), 0.0, zj)
    cmedian = np.full((k, p), np.nan)
    binary = np.zeros(p, dtype=bool)
    for j in range(p):
        obs = ~np.isnan(X[:, j])
        if obs.any():
            med = pd.Series(X[obs, j]).groupby(labels[obs]).median()
            cmedian[med.index.to_numpy(), j] = med.to_numpy()
            values = np.unique(X[obs, j])
            binary[j] = len(values) == 2 and values[0] == 0.0 and values[1] == 1.0
    cats = []
    for c, code in zip(categorical, codes):
        levels = [*c["levels"], OTHER_LEVEL, MISSING_LEVEL]
        L = len(levels)
        counts = np.bincount(labels * L + code, minlength=k * L).reshape(k, L)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = counts / np.maximum(sizes, 1)[:, None]
        pop = counts.sum(axis=0) / max(int(sizes.sum()), 1)
        cats.append({"feature": c["feature"], "levels": levels, "share": share,
                     "population_share": pop})
    return Profile(list(numeric_names), cmean, pmean, pstd, z, cats, sizes, cmedian, binary)


def _word(feature: str, high: bool) -> str:
    if feature in VOCABULARY:
        return VOCABULARY[feature][0 if high else 1]
    return f"{'high' if high else 'low'} {feature}"


def _numeric_word(profile: Profile, i: int, j: int, high: bool,
                  thresholds: TimeThresholds) -> str | None:
    feature = profile.numeric_names[j]
    if feature in TIME_FEATURES:
        median = float(profile.cluster_median[i, j]) if profile.cluster_median is not None else math.nan
        return thresholds.word(feature, median)
    if profile.is_binary is not None and profile.is_binary[j]:
        share = float(profile.cluster_mean[i, j])
        if share >= BINARY_MOSTLY:
            return f"mostly {feature}"
        if share <= 1 - BINARY_MOSTLY:
            return f"few {feature}"
        return f"{round(100 * share):d}% {feature}"
    return _word(feature, high)


def name_clusters(cluster_ids: list[int], profile: Profile,
                  thresholds: TimeThresholds | None = None) -> list[str]:
    """Readable, deterministic name per cluster.

    For each numeric feature the profile z-score is used; features with
    ``|z| >= 0.3`` qualify.  Which word a qualifying feature gives:

    - level features (spend, frequency, ...): the z-score's sign, relative to
      the population (:data:`VOCABULARY`);
    - time features (``recency_days``, ``tenure_days``): an absolute fact
      about the cluster's median in days (:class:`TimeThresholds`), so a
      cluster can be "lapsed" even when it is less lapsed than the rest, and
      is never "new" when its median tenure is above the new-customer limit;
      a median between the tenure limits gives no word; "recent" and "lapsed"
      qualify even below the z limit (ranked by their |z| like every word), so a
      cluster near the average of a mostly lapsed base reads "Lapsed", not
      "Average";
    - 0/1 features: the share of members with 1 ("mostly x", "few x",
      "40% x"), never "high x".  A categorical feature qualifies when its dominant
    level in the cluster (ties by level name) has a share ``>= 0.6`` and
    ``>= 1.5`` times its population share; its strength is the z-score of that
    level's indicator, ``(share - p) / sqrt(p (1 - p))``.  Up to three
    qualifying features, by strength descending (ties by feature name), give
    words from :data:`VOCABULARY` (``"high f"``/``"low f"`` for other numeric
    features, ``"feature=level"`` for categoricals, with ``(other)`` /
    ``(missing)`` for the pseudo-levels), joined by ``" · "`` with
    only the first letter capitalised.  No qualifying feature gives
    ``"Average"``.  Repeated names get ``" (2)"``, ``" (3)"``... in
    ``cluster_id`` order.

    Parameters
    ----------
    cluster_ids : list of int, length k
        Id of each profile row.
    profile : Profile
    thresholds : TimeThresholds or None
        Limits for the time words; the defaults when None.

    Returns
    -------
    list of str, length k
    """
    thresholds = thresholds or TimeThresholds()
    k = len(cluster_ids)
    names = []
    for i in range(k):
        cands: list[tuple[float, str, str]] = []  # (-strength, feature, word)
        for j, f in enumerate(profile.numeric_names):
            zij = float(profile.z[i, j])
            word = _numeric_word(profile, i, j, zij > 0, thresholds)
            # recency is always worth saying when it is an absolute fact ("recent" or
            # "lapsed"), even for a cluster close to the average of a mostly lapsed base
            always = f == "recency_days" and word in ("recent", "lapsed")
            if word is not None and (abs(zij) >= MIN_ABS_Z or always):
                cands.append((-abs(zij), f, word))
        for c in profile.categorical:
            share = c["share"][i]
            # dominant level; ties by level name (alphabetically first)
            best = [t for t in range(len(share)) if share[t] == share.max()]
            top = min(best, key=lambda t: c["levels"][t])
            s, p = float(share[top]), float(c["population_share"][top])
            if s >= CAT_MIN_SHARE and s >= CAT_MIN_LIFT * p:
                strength = (s - p) / math.sqrt(p * (1 - p)) if 0 < p < 1 else math.inf
                level = c["levels"][top]
                shown = {OTHER_LEVEL: "(other)", MISSING_LEVEL: "(missing)"}.get(level, level)
                cands.append((-strength, c["feature"], f"{c['feature']}={shown}"))
        cands.sort(key=lambda t: (t[0], t[1]))
        words = [w for _, _, w in cands[:MAX_WORDS]]
        name = " · ".join(words) if words else "Average"
        names.append(name[:1].upper() + name[1:])
    order = sorted(range(k), key=lambda i: cluster_ids[i])
    seen: dict[str, int] = {}
    out = list(names)
    for i in order:
        seen[names[i]] = seen.get(names[i], 0) + 1
        if seen[names[i]] > 1:
            out[i] = f"{names[i]} ({seen[names[i]]})"
    return out
