"""Stable cluster ids across training runs (Hungarian matching of centroids)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ._common import MISSING_LEVEL, OTHER_LEVEL, build_frame
from .preprocessing import signed_log1p

__all__ = ["order_by_size", "assign_cluster_ids", "previous_centroids_scaled"]


def order_by_size(sizes: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Cluster indices by size descending, ties by centroid coordinates ascending.

    Parameters
    ----------
    sizes : ndarray of int, shape (k,)
    C : ndarray of float64, shape (k, m)

    Returns
    -------
    ndarray of int64, shape (k,)
    """
    keys = [C[:, j] for j in range(C.shape[1] - 1, -1, -1)] + [-np.asarray(sizes)]
    return np.lexsort(keys).astype(np.int64)


def previous_centroids_scaled(prev_clusters: list[dict], params: dict) -> np.ndarray | None:
    """Express previous centroids (original units) in the new scaled space.

    Compatible only if the previous model used the same numeric and
    categorical source features (as sets).  Numeric values go through the new
    clip / signed log / scaling; categorical level shares are mapped by level
    name (previous levels that are not kept now count as ``"__other__"``) and
    multiplied by ``weight / sqrt(2)``.

    Parameters
    ----------
    prev_clusters : list of dict
        ``params["clusters"]`` of the previous model.
    params : dict
        New preprocessing parameters.

    Returns
    -------
    ndarray of float64, shape (k_prev, m), or None if not compatible.
    """
    if not prev_clusters:
        return None
    num = [p["feature"] for p in params["numeric"]]
    cat = [c["feature"] for c in params["categorical"]]
    first = prev_clusters[0]["centroid_original"]
    if set(first.get("numeric", {})) != set(num) or set(first.get("categorical", {})) != set(cat):
        return None
    rows = []
    for cl in prev_clusters:
        orig = cl["centroid_original"]
        row = []
        for p in params["numeric"]:
            v = float(orig["numeric"][p["feature"]])
            if p["clip_lower"] is not None:
                v = min(max(v, p["clip_lower"]), p["clip_upper"])
            if p["log"]:
                v = float(signed_log1p(np.float64(v)))
            row.append((v - p["center"]) / p["scale"])
        for c in params["categorical"]:
            shares = orig["categorical"][c["feature"]]
            kept = list(c["levels"])
            w = c["weight"] / math.sqrt(2.0)
            other = shares.get(OTHER_LEVEL, 0.0) + sum(
                v for lv, v in shares.items() if lv not in kept and lv not in (OTHER_LEVEL, MISSING_LEVEL))
            row.extend([w * shares.get(lv, 0.0) for lv in kept])
            row.extend([w * other, w * shares.get(MISSING_LEVEL, 0.0)])
        rows.append(row)
    return np.asarray(rows, dtype=np.float64)


def assign_cluster_ids(C: np.ndarray, sizes: np.ndarray, prev_ids: list[int] | None,
                       prev_scaled: np.ndarray | None, next_id: int, max_distance: float
                       ) -> tuple[np.ndarray, pd.DataFrame]:
    """Give every new cluster an id and build the lineage table.

    Without comparable previous centroids, ids ``next_id, next_id+1, ...``
    are given by size descending (ties by centroid coordinates).  Otherwise
    the new and previous centroids are matched with
    :func:`scipy.optimize.linear_sum_assignment` on Euclidean distance; a
    matched pair within ``max_distance`` keeps the previous id ("matched"),
    the remaining new clusters get fresh ids from ``next_id`` in size order
    ("new") and unmatched previous clusters are "retired".

    Parameters
    ----------
    C : ndarray of float64, shape (k, m)
        New centroids (scaled).
    sizes : ndarray of int, shape (k,)
    prev_ids : list of int or None
        Ids of the previous clusters (rows of ``prev_scaled``); the previous
        ids are retired when ``prev_scaled`` is None.
    prev_scaled : ndarray of float64, shape (k_prev, m), or None
    next_id : int
        First fresh id.
    max_distance : float

    Returns
    -------
    ids : ndarray of int64, shape (k,)
    lineage : pandas.DataFrame
        Columns ``cluster_id, previous_cluster_id, status,
        centroid_distance``: current clusters by id, then retired ones.  For
        "new" clusters the distance is to the nearest previous centroid, for
        "retired" ones to the nearest new centroid (NaN when not comparable).
    """
    k = C.shape[0]
    ids = np.full(k, -1, dtype=np.int64)
    dist_of = np.full(k, np.nan)
    prev_of: list[int | None] = [None] * k
    prev_ids = list(prev_ids or [])
    retired: list[tuple[int, float]] = []
    if prev_scaled is not None and len(prev_ids):
        D = np.sqrt(((C[:, None, :] - prev_scaled[None, :, :]) ** 2).sum(axis=2))
        rows, cols = linear_sum_assignment(D)
        used_prev = set()
        for r, c in zip(rows, cols):
            if D[r, c] <= max_distance:
                ids[r] = prev_ids[c]
                prev_of[r] = prev_ids[c]
                dist_of[r] = D[r, c]
                used_prev.add(c)
        for r in range(k):
            if ids[r] < 0:
                dist_of[r] = D[r].min()
        retired = [(prev_ids[c], float(D[:, c].min()) if k else math.nan)
                   for c in range(len(prev_ids)) if c not in used_prev]
    else:
        retired = [(pid, math.nan) for pid in prev_ids]
    nid = next_id
    for r in order_by_size(sizes, C):
        if ids[r] < 0:
            ids[r] = nid
            nid += 1
    out = {"cluster_id": [], "previous_cluster_id": [], "status": [], "centroid_distance": []}
    for r in np.argsort(ids, kind="stable"):
        out["cluster_id"].append(int(ids[r]))
        out["previous_cluster_id"].append(prev_of[r])
        out["status"].append("matched" if prev_of[r] is not None else "new")
        out["centroid_distance"].append(float(dist_of[r]))
    for pid, d in sorted(retired):
        out["cluster_id"].append(None)
        out["previous_cluster_id"].append(int(pid))
        out["status"].append("retired")
        out["centroid_distance"].append(d)
    return ids, build_frame(out, "lineage")
