"""Stable cluster ids across training runs.

A new model's clusters are matched to the previous model's by their members: both models
score the same customers (the current clustering input), the contingency table counts the
customers in each (new cluster, previous cluster) pair, and the Hungarian algorithm
(:func:`scipy.optimize.linear_sum_assignment`) picks the pairing with the most shared
customers. Nothing here depends on either model's scaling or on how the clusters were found
(only labels), so any clustering algorithm can reuse it. When the previous model cannot score
the current customers (a feature it used is gone), centroids in original units are compared
instead, each feature divided by its population standard deviation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ._common import build_frame

__all__ = ["order_by_size", "assign_cluster_ids", "match_by_members", "match_by_centroids"]


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


def match_by_members(labels: np.ndarray, previous_labels: np.ndarray, k: int,
                     prev_ids: list[int], min_overlap: float) -> dict[int, dict]:
    """Pair new clusters with previous ones by shared members.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        New cluster index ``0..k-1`` of every customer the new model classifies.
    previous_labels : ndarray of int, shape (n,)
        Previous model's cluster id of the same customers; -1 where the previous
        model leaves the customer unclassified.
    k : int
    prev_ids : list of int
        Ids of the previous model's clusters.
    min_overlap : float
        A Hungarian pair is kept when the shared customers are at least this share
        of the new cluster's members and of the previous cluster's members (both
        counted on the customers both models score).

    Returns
    -------
    dict of int to dict
        For every kept new cluster index: ``previous_cluster_id``,
        ``shared_customers`` and ``member_overlap`` (shared / the larger of the two
        clusters, so 1 means the same members).
    """
    prev_ids = list(prev_ids)
    if not prev_ids or k == 0:
        return {}
    position = {pid: j for j, pid in enumerate(prev_ids)}
    prev_pos = np.array([position.get(int(p), -1) for p in previous_labels], dtype=np.int64)
    both = prev_pos >= 0
    table = np.zeros((k, len(prev_ids)), dtype=np.int64)
    np.add.at(table, (labels[both], prev_pos[both]), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    new_sizes, prev_sizes = table.sum(axis=1), table.sum(axis=0)
    out = {}
    for r, c in zip(rows, cols):
        shared = int(table[r, c])
        if shared > 0 and shared >= min_overlap * new_sizes[r] and shared >= min_overlap * prev_sizes[c]:
            out[int(r)] = {"previous_cluster_id": int(prev_ids[c]), "shared_customers": shared,
                           "member_overlap": shared / max(int(new_sizes[r]), int(prev_sizes[c]))}
    return out


def match_by_centroids(new_centroids: np.ndarray, prev_centroids: np.ndarray, spread: np.ndarray,
                       prev_ids: list[int], max_distance: float) -> dict[int, dict]:
    """Pair new clusters with previous ones by centroids in original units.

    Parameters
    ----------
    new_centroids : ndarray of float64, shape (k, p)
    prev_centroids : ndarray of float64, shape (k_prev, p)
        Both in original units, on the same p numeric features.
    spread : ndarray of float64, shape (p,)
        Population standard deviation of each feature (a zero spread counts as 1).
    prev_ids : list of int
    max_distance : float
        A Hungarian pair within this Euclidean distance (after dividing by
        ``spread``) is kept.

    Returns
    -------
    dict of int to dict
        For every kept new cluster index: ``previous_cluster_id`` and
        ``centroid_distance``.
    """
    if not len(prev_ids) or new_centroids.shape[0] == 0 or new_centroids.shape[1] == 0:
        return {}
    scale = np.where(np.asarray(spread) > 0, spread, 1.0)
    D = np.sqrt((((new_centroids[:, None, :] - prev_centroids[None, :, :]) / scale) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(D)
    return {int(r): {"previous_cluster_id": int(prev_ids[c]), "centroid_distance": float(D[r, c])}
            for r, c in zip(rows, cols) if D[r, c] <= max_distance}


def assign_cluster_ids(C: np.ndarray, sizes: np.ndarray, prev_ids: list[int] | None,
                       matches: dict[int, dict], next_id: int, method: str | None
                       ) -> tuple[np.ndarray, pd.DataFrame]:
    """Give every new cluster an id and build the lineage table.

    A matched cluster keeps its previous id ("matched"); the other new clusters get
    fresh ids from ``next_id`` by size descending, ties by centroid coordinates
    ("new": no previous cluster shares most of its members); previous clusters
    left unmatched are "retired" (most of their members went to several clusters or
    none).

    Parameters
    ----------
    C : ndarray of float64, shape (k, m)
        New centroids (any units; only used to order ties).
    sizes : ndarray of int, shape (k,)
    prev_ids : list of int or None
    matches : dict of int to dict
        From :func:`match_by_members` or :func:`match_by_centroids`.
    next_id : int
    method : {"members", "centroids"} or None
        How ``matches`` were made (None: nothing to compare with).

    Returns
    -------
    ids : ndarray of int64, shape (k,)
    lineage : pandas.DataFrame
        Columns ``cluster_id, previous_cluster_id, status, match_method,
        shared_customers, member_overlap, centroid_distance``: current clusters
        by id, then retired ones.
    """
    k = C.shape[0]
    ids = np.full(k, -1, dtype=np.int64)
    for r, m in matches.items():
        ids[r] = m["previous_cluster_id"]
    nid = next_id
    for r in order_by_size(sizes, C):
        if ids[r] < 0:
            ids[r] = nid
            nid += 1
    used = {m["previous_cluster_id"] for m in matches.values()}
    out = {"cluster_id": [], "previous_cluster_id": [], "status": [], "match_method": [],
           "shared_customers": [], "member_overlap": [], "centroid_distance": []}

    def add(cluster_id, previous, status, m):
        out["cluster_id"].append(cluster_id)
        out["previous_cluster_id"].append(previous)
        out["status"].append(status)
        out["match_method"].append(method if m else None)
        out["shared_customers"].append(m.get("shared_customers") if m else None)
        out["member_overlap"].append(m.get("member_overlap", math.nan) if m else math.nan)
        out["centroid_distance"].append(m.get("centroid_distance", math.nan) if m else math.nan)

    for r in np.argsort(ids, kind="stable"):
        m = matches.get(int(r))
        add(int(ids[r]), m["previous_cluster_id"] if m else None, "matched" if m else "new", m)
    for pid in sorted(int(p) for p in (prev_ids or []) if int(p) not in used):
        add(None, pid, "retired", None)
    return ids, build_frame(out, "lineage")
