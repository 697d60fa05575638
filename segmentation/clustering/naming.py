"""Cluster profiles and deterministic, readable cluster names."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._common import MISSING_LEVEL, OTHER_LEVEL

__all__ = ["Profile", "profile_clusters", "name_clusters", "VOCABULARY", "MIN_ABS_Z"]

#: (word when high, word when low) per known feature.
VOCABULARY: dict[str, tuple[str, str]] = {
    "monetary": ("high spend", "low spend"),
    "frequency": ("frequent", "infrequent"),
    "recency_days": ("lapsed", "recent"),
    "tenure_days": ("long-standing", "new"),
    "age": ("older", "younger"),
    "avg_order_value": ("big baskets", "small baskets"),
}
MIN_ABS_Z = 0.3
MAX_WORDS = 3
CAT_MIN_SHARE = 0.6
CAT_MIN_LIFT = 1.5


@dataclasses.dataclass
class Profile:
    """Cluster profile against the population of classified customers.

    Attributes
    ----------
    numeric_names : list of str, length p
    cluster_mean : ndarray, shape (k, p)
        Mean of the observed (non-null) values per cluster, original units.
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
    return Profile(list(numeric_names), cmean, pmean, pstd, z, cats, sizes)


def _word(feature: str, high: bool) -> str:
    if feature in VOCABULARY:
        return VOCABULARY[feature][0 if high else 1]
    return f"{'high' if high else 'low'} {feature}"


def name_clusters(cluster_ids: list[int], profile: Profile) -> list[str]:
    """Readable, deterministic name per cluster.

    For each numeric feature the profile z-score is used; features with
    ``|z| >= 0.3`` qualify.  A categorical feature qualifies when its dominant
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

    Returns
    -------
    list of str, length k
    """
    k = len(cluster_ids)
    names = []
    for i in range(k):
        cands: list[tuple[float, str, str]] = []  # (-strength, feature, word)
        for j, f in enumerate(profile.numeric_names):
            zij = float(profile.z[i, j])
            if abs(zij) >= MIN_ABS_Z:
                cands.append((-abs(zij), f, _word(f, zij > 0)))
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
