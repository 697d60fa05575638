"""One small adapter per clustering method: fit on the training sample, assign everyone.

Every method works on the same preprocessed matrix ``Z`` (scaled numeric columns, then the
weighted one-hot blocks of the categorical features, see :mod:`preprocessing`), so their
metrics compare. The libraries do the clustering: scikit-learn for k-means, Gaussian
mixtures, Ward agglomerative, BIRCH, HDBSCAN and mean-shift, ``kmodes`` for k-prototypes.
This module only adapts them to one interface:

- :func:`fit_algorithm` fits on the training sample and returns a JSON-able ``state``,
  which is stored in the registry (``params_json``) and is all that scoring needs;
- :func:`assign` applies a state to any customers: labels ``0..k-1`` (``-1`` = noise),
  plus the probability of the assigned cluster for ``gmm``.

How customers outside the training sample (and in score mode, everyone) are assigned:

========================  ==============================================================
``kmeans``                nearest centroid (``KMeans.predict``)
``kprototypes``           ``KPrototypes.predict``'s rule: least squared Euclidean distance
                          on the numeric columns + gamma x number of mismatched categories
``gmm``                   ``GaussianMixture.predict`` (most probable component), with
                          ``predict_proba`` of that component
``agglomerative``         Ward has no ``predict``: nearest centroid of the Ward clusters
                          (the member means on the sample). Ward merges to keep the
                          within-cluster sum of squares small, which is what the nearest
                          mean also minimises; sample members get the same rule, so training
                          and scoring agree and nearest-centroid SQL is exact.
``birch``                 ``Birch.predict``: the label of the nearest subcluster centre
``hdbscan``               HDBSCAN has no ``predict``: the label of the nearest sample point
                          ``p`` when the customer is within ``p``'s core distance (the
                          distance to its ``min_samples``-th neighbour, the radius HDBSCAN
                          itself uses), else noise. A sample member is its own nearest
                          point, so it keeps its HDBSCAN label.
``meanshift``             ``MeanShift.predict``: nearest mode (cluster centre)
========================  ==============================================================
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, Birch, MeanShift, estimate_bandwidth
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, pairwise_distances_argmin
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from .kselection import fit_kmeans, nearest_centroid
from .settings import ALGORITHMS, ALGORITHMS_NUMERIC_ONLY, ALGORITHMS_SAMPLE_CAPPED, ALGORITHMS_WITH_K

__all__ = [
    "ALGORITHMS",
    "NEEDS_K",
    "NUMERIC_ONLY",
    "NEEDS_CATEGORICAL",
    "SAMPLE_CAPPED",
    "CENTROID_SCORING_FAITHFUL",
    "fit_algorithm",
    "assign",
    "compact_labels",
    "member_means",
    "cluster_metrics",
]

#: Methods told the number of clusters (the k sweep or var n_clusters chooses it).
NEEDS_K = frozenset(ALGORITHMS_WITH_K)
#: Methods defined on a Euclidean space only: categorical features are refused.
NUMERIC_ONLY = frozenset(ALGORITHMS_NUMERIC_ONLY)
#: k-prototypes is k-means for mixed data: it needs at least one categorical feature.
NEEDS_CATEGORICAL = frozenset({"kprototypes"})
#: Methods whose time or memory grow faster than linearly with the sample: their training
#: sample is capped at ``slow_method_sample_size``.
SAMPLE_CAPPED = frozenset(ALGORITHMS_SAMPLE_CAPPED)
#: Methods whose assignment is "nearest stored centroid", so SQL nearest-centroid scoring
#: reproduces them exactly. For the others only the tree SQL is offered.
CENTROID_SCORING_FAITHFUL = frozenset({"kmeans", "agglomerative", "meanshift"})


def compact_labels(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered ``0..k-1`` in order of first appearance; ``-1`` (noise) kept."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(len(labels), -1, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, v in enumerate(labels.tolist()):
        if v >= 0:
            out[i] = seen.setdefault(v, len(seen))
    return out


def member_means(Z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of each cluster's members, shape (k, n_features); noise (``-1``) left out."""
    C = np.zeros((k, Z.shape[1]))
    for c in range(k):
        members = Z[labels == c]
        if len(members):
            C[c] = members.mean(axis=0)
    return C


def _categorical_codes(Z: np.ndarray, blocks: Sequence[tuple[int, int]]) -> np.ndarray:
    """The level index of each categorical one-hot block (one non-zero column per row)."""
    if not blocks:
        return np.zeros((len(Z), 0), dtype=np.int64)
    return np.column_stack([np.argmax(Z[:, s:s + L], axis=1) for s, L in blocks]).astype(np.int64)


def _numeric_part(Z: np.ndarray, blocks: Sequence[tuple[int, int]]) -> np.ndarray:
    p = blocks[0][0] if blocks else Z.shape[1]
    return Z[:, :p]


def fit_algorithm(algorithm: str, Z: np.ndarray, k: int | None, settings: Any, random_state: int,
                  blocks: Sequence[tuple[int, int]] = ()) -> tuple[np.ndarray, dict]:
    """Fit one method on the training sample.

    Parameters
    ----------
    algorithm : str
        One of :data:`ALGORITHMS`.
    Z : ndarray, shape (n_samples, n_features)
        Preprocessed training sample.
    k : int or None
        Number of clusters for the methods in :data:`NEEDS_K`.
    settings : ClusteringSettings
        The per-method settings (``gmm_covariance_type``, ``birch_threshold``, ...).
    random_state : int
    blocks : sequence of (start, length)
        Column ranges of the categorical one-hot blocks in ``Z`` (k-prototypes reads the
        level of each block; the numeric columns come first).

    Returns
    -------
    labels : ndarray of int64, shape (n_samples,)
        The training sample's labels by the method's own assignment rule (:func:`assign`),
        ``0..k'-1``, ``-1`` for noise. ``k'`` may be lower than ``k`` (BIRCH can merge).
    state : dict
        JSON-able; what :func:`assign` needs.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"cluster_algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    state: dict[str, Any] = {"algorithm": algorithm}
    if algorithm == "kmeans":
        model = fit_kmeans(Z, k, settings.n_init, settings.max_iter, random_state)
        state["centers"] = model.cluster_centers_.tolist()
    elif algorithm == "kprototypes":
        from kmodes.kprototypes import KPrototypes

        num = _numeric_part(Z, blocks)
        codes = _categorical_codes(Z, blocks)
        p = num.shape[1]
        X = np.empty((len(Z), p + codes.shape[1]), dtype=object)
        X[:, :p] = num
        X[:, p:] = codes
        model = KPrototypes(n_clusters=k, init="Cao", n_init=settings.n_init, max_iter=settings.max_iter,
                            gamma=settings.kprototypes_gamma, random_state=random_state, n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, categorical=list(range(p, p + codes.shape[1])))
        cent = np.asarray(model.cluster_centroids_, dtype=np.float64)
        state.update(numeric_centers=cent[:, :p].tolist(),
                     categorical_modes=cent[:, p:].astype(np.int64).tolist(),
                     gamma=float(model.gamma), blocks=[list(b) for b in blocks])
    elif algorithm == "gmm":
        model = GaussianMixture(n_components=k, covariance_type=settings.gmm_covariance_type,
                                n_init=settings.gmm_n_init, max_iter=settings.max_iter,
                                random_state=random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(Z)
        state.update(covariance_type=settings.gmm_covariance_type, weights=model.weights_.tolist(),
                     means=model.means_.tolist(), covariances=np.asarray(model.covariances_).tolist(),
                     precisions_cholesky=np.asarray(model.precisions_cholesky_).tolist())
    elif algorithm == "agglomerative":
        ward = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(Z)
        lab = compact_labels(ward.labels_)
        state["centers"] = member_means(Z, lab, int(lab.max()) + 1).tolist()
    elif algorithm == "birch":
        model = Birch(n_clusters=k, threshold=settings.birch_threshold)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fewer subclusters than k
            model.fit(Z)
        state.update(subcluster_centers=model.subcluster_centers_.tolist(),
                     subcluster_labels=np.asarray(model.subcluster_labels_, dtype=np.int64).tolist())
    elif algorithm == "hdbscan":
        n = len(Z)
        min_size = settings.hdbscan_min_cluster_size or max(5, n // 100)
        min_size = max(2, min(min_size, n))
        min_samples = settings.hdbscan_min_samples or min_size
        min_samples = max(1, min(min_samples, n - 1))
        model = HDBSCAN(min_cluster_size=min_size, min_samples=min_samples, copy=True).fit(Z)
        # core distance: distance to the min_samples-th neighbour, the point itself counted
        # as HDBSCAN does.
        nn = NearestNeighbors(n_neighbors=min(min_samples, n)).fit(Z)
        core = nn.kneighbors(Z)[0][:, -1]
        state.update(points=Z.tolist(), point_labels=np.asarray(model.labels_, dtype=np.int64).tolist(),
                     core_distances=core.tolist(), min_cluster_size=int(min_size),
                     min_samples=int(min_samples))
    elif algorithm == "meanshift":
        bandwidth = settings.meanshift_bandwidth
        if bandwidth is None:
            bandwidth = float(estimate_bandwidth(Z, quantile=settings.meanshift_quantile,
                                                 n_samples=min(len(Z), 2000), random_state=random_state))
            if not math.isfinite(bandwidth) or bandwidth <= 0:
                bandwidth = 1.0
        model = MeanShift(bandwidth=bandwidth, bin_seeding=True, cluster_all=True).fit(Z)
        state.update(centers=model.cluster_centers_.tolist(), bandwidth=float(bandwidth))
    labels, _ = assign(state, Z)
    # Renumber so that labels are 0..k'-1 (BIRCH / Ward / HDBSCAN may leave gaps).
    used = np.unique(labels[labels >= 0])
    if len(used) and (used[0] != 0 or used[-1] != len(used) - 1):
        remap = np.full(int(used.max()) + 1, -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        state["label_map"] = remap.tolist()
        labels = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
    return labels, state


def assign(state: dict, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply a fitted state to customers.

    Parameters
    ----------
    state : dict
        From :func:`fit_algorithm` (or read back from ``params_json``).
    Z : ndarray, shape (n_customers, n_features)

    Returns
    -------
    labels : ndarray of int64, shape (n_customers,)
        ``-1`` for noise (HDBSCAN only).
    probability : ndarray of float64, shape (n_customers,), or None
        The probability of the assigned component (``gmm`` only).
    """
    algorithm = state["algorithm"]
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    probability = None
    if len(Z) == 0:
        labels = np.zeros(0, dtype=np.int64)
    elif algorithm in ("kmeans", "agglomerative", "meanshift"):
        labels = nearest_centroid(Z, np.asarray(state["centers"], dtype=np.float64))[0]
    elif algorithm == "kprototypes":
        blocks = [tuple(b) for b in state["blocks"]]
        num = _numeric_part(Z, blocks)
        codes = _categorical_codes(Z, blocks)
        centers = np.asarray(state["numeric_centers"], dtype=np.float64).reshape(-1, num.shape[1])
        modes = np.asarray(state["categorical_modes"], dtype=np.int64).reshape(len(centers), -1)
        cost = ((num[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        cost += state["gamma"] * (codes[:, None, :] != modes[None, :, :]).sum(axis=2)
        labels = np.argmin(cost, axis=1).astype(np.int64)
    elif algorithm == "gmm":
        model = GaussianMixture(n_components=len(state["weights"]), covariance_type=state["covariance_type"])
        model.weights_ = np.asarray(state["weights"], dtype=np.float64)
        model.means_ = np.asarray(state["means"], dtype=np.float64)
        model.covariances_ = np.asarray(state["covariances"], dtype=np.float64)
        model.precisions_cholesky_ = np.asarray(state["precisions_cholesky"], dtype=np.float64)
        proba = model.predict_proba(Z)
        labels = np.argmax(proba, axis=1).astype(np.int64)
        probability = proba[np.arange(len(Z)), labels]
    elif algorithm == "birch":
        centers = np.asarray(state["subcluster_centers"], dtype=np.float64)
        sub = pairwise_distances_argmin(Z, centers)
        labels = np.asarray(state["subcluster_labels"], dtype=np.int64)[sub]
    elif algorithm == "hdbscan":
        points = np.asarray(state["points"], dtype=np.float64)
        point_labels = np.asarray(state["point_labels"], dtype=np.int64)
        core = np.asarray(state["core_distances"], dtype=np.float64)
        dist, idx = NearestNeighbors(n_neighbors=1).fit(points).kneighbors(Z)
        dist, idx = dist[:, 0], idx[:, 0]
        labels = np.where(dist <= core[idx] + 1e-12, point_labels[idx], -1).astype(np.int64)
    else:
        raise ValueError(f"unknown cluster_algorithm {algorithm!r} in the stored model")
    if "label_map" in state and len(labels):
        remap = np.asarray(state["label_map"], dtype=np.int64)
        labels = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
    return labels, probability


def cluster_metrics(Z: np.ndarray, labels: np.ndarray, sample_size: int, random_state: int
                    ) -> tuple[dict[str, float | None], list[str]]:
    """Inertia, silhouette, Calinski-Harabasz and Davies-Bouldin of any labelling.

    Noise points (``-1``) are left out. A metric that is undefined (fewer than 2 clusters,
    or as many clusters as points) is ``None`` with a note saying why, never an error.
    The silhouette uses at most ``sample_size`` points drawn with ``random_state``.
    """
    from sklearn.metrics import silhouette_score

    keep = labels >= 0
    Zk, lk = Z[keep], labels[keep]
    k = len(np.unique(lk))
    out: dict[str, float | None] = {"inertia": None, "silhouette": None, "calinski_harabasz": None,
                                    "davies_bouldin": None}
    notes: list[str] = []
    if len(lk):
        C = member_means(Zk, lk, int(lk.max()) + 1)
        out["inertia"] = float(((Zk - C[lk]) ** 2).sum())
    if k < 2 or k >= len(lk):
        notes.append(f"silhouette, Calinski-Harabasz and Davies-Bouldin are undefined with {k} "
                     f"cluster(s) on {len(lk)} clustered customers (need 2 <= k < n): left null")
        return out, notes
    n = len(lk)
    if n > sample_size:
        pick = np.random.default_rng(random_state).choice(n, size=sample_size, replace=False)
        if len(np.unique(lk[pick])) >= 2:
            out["silhouette"] = float(silhouette_score(Zk[pick], lk[pick]))
    else:
        out["silhouette"] = float(silhouette_score(Zk, lk))
    out["calinski_harabasz"] = float(calinski_harabasz_score(Zk, lk))
    out["davies_bouldin"] = float(davies_bouldin_score(Zk, lk))
    return out, notes
