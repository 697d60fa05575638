"""K-means fitting, the k sweep and the automatic choice of k."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    silhouette_samples,
    silhouette_score,
)
from threadpoolctl import threadpool_limits

__all__ = ["SweepResult", "fit_kmeans", "nearest_centroid", "kneedle_elbow", "sweep_k", "choose_k"]

#: KMeans and the silhouette run with one OpenMP and one BLAS thread.
#: scikit-learn adds the per-thread partial sums of the centroid update in
#: the order in which threads take a lock, and the split of rows over threads
#: depends on the thread count; one thread makes every fit bit-for-bit
#: reproducible on any machine.  On samples of <= 50,000 rows it is also
#: faster on a small or busy machine (measured ~3x on 2 shared cores), as the
#: Lloyd iterations are too short to amortise thread synchronisation.
N_THREADS = 1


def fit_kmeans(Z: np.ndarray, k: int, n_init: int, max_iter: int, random_state: int) -> KMeans:
    """Fit :class:`sklearn.cluster.KMeans` (k-means++) deterministically.

    Parameters
    ----------
    Z : ndarray of float64, shape (n_samples, n_columns)
    k, n_init, max_iter, random_state : int

    Returns
    -------
    sklearn.cluster.KMeans
    """
    model = KMeans(n_clusters=k, init="k-means++", n_init=n_init, max_iter=max_iter,
                   random_state=random_state)
    with threadpool_limits(limits=N_THREADS):
        model.fit(Z)
    return model


def nearest_centroid(Z: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest and second-nearest centroid, vectorised over rows.

    Squared distances are summed feature by feature as ``(z - c)**2`` (no
    ``|z|^2 - 2 z.c + |c|^2`` expansion) so that they agree with a SQL
    implementation to rounding.  Ties go to the lower centroid index.

    Parameters
    ----------
    Z : ndarray of float64, shape (n, m)
    C : ndarray of float64, shape (k, m)

    Returns
    -------
    label : ndarray of int64, shape (n,)
    distance : ndarray of float64, shape (n,)
        Euclidean distance to the nearest centroid.
    margin : ndarray of float64, shape (n,)
        Distance to the second nearest minus distance to the nearest (NaN if
        ``k == 1``).
    """
    n, k = Z.shape[0], C.shape[0]
    d2 = np.empty((n, k), dtype=np.float64)
    for j in range(k):  # loop over centroids; each step is vectorised over customers
        diff = Z - C[j]
        d2[:, j] = np.einsum("ij,ij->i", diff, diff)
    label = np.argmin(d2, axis=1) if k else np.zeros(n, dtype=np.int64)
    first = d2[np.arange(n), label] if k else np.full(n, np.nan)
    if k >= 2:
        second = np.partition(d2, 1, axis=1)[:, 1]
        margin = np.sqrt(second) - np.sqrt(first)
    else:
        margin = np.full(n, np.nan)
    return label.astype(np.int64), np.sqrt(first), margin


@dataclasses.dataclass
class SweepResult:
    """Metrics of one k of the sweep (all computed on the training sample)."""

    k: int
    model: KMeans
    inertia: float
    silhouette: float
    calinski_harabasz: float
    davies_bouldin: float


#: Largest silhouette sample whose distance matrix is computed once for the whole sweep
#: (float64: 6,000 rows = 288 MB); larger samples recompute distances for every k.
MAX_SHARED_SILHOUETTE_SAMPLE = 6000


class _SilhouetteSample:
    """The silhouette's subsample, shared by every k of the sweep.

    :func:`sklearn.metrics.silhouette_score` with ``sample_size`` and an integer
    ``random_state`` draws ``RandomState(random_state).permutation(n)[:size]``, the
    same rows for every k, and computes their pairwise distances again each time.
    Here the rows are drawn the same way and their distance matrix is computed
    once; each k then only reduces it with its labels - the same silhouette, at a
    fraction of the cost of a sweep over k = 2..10.
    """

    def __init__(self, Z: np.ndarray, sample_size: int, random_state: int):
        n = Z.shape[0]
        size = min(sample_size, n)
        self.indices = (None if size >= n
                        else np.random.RandomState(random_state).permutation(n)[:size])
        self.sample_size, self.random_state = size, random_state
        self.distances = None
        if size <= MAX_SHARED_SILHOUETTE_SAMPLE:
            rows = Z if self.indices is None else Z[self.indices]
            with threadpool_limits(limits=N_THREADS):
                self.distances = pairwise_distances(rows, metric="euclidean")

    def score(self, Z: np.ndarray, labels: np.ndarray) -> float:
        """Mean silhouette of the sample; NaN when it holds fewer than two labels."""
        try:
            with threadpool_limits(limits=N_THREADS):
                if self.distances is None:
                    return float(silhouette_score(
                        Z, labels, sample_size=None if self.indices is None else self.sample_size,
                        random_state=self.random_state))
                sample_labels = labels if self.indices is None else labels[self.indices]
                return float(np.mean(silhouette_samples(self.distances, sample_labels,
                                                        metric="precomputed")))
        except ValueError:  # the silhouette subsample happened to hold one label only
            return float("nan")


def _metrics(Z: np.ndarray, labels: np.ndarray, silhouette: _SilhouetteSample
             ) -> tuple[float, float, float]:
    n = Z.shape[0]
    n_labels = len(np.unique(labels))
    if not 2 <= n_labels <= n - 1:
        return float("nan"), float("nan"), float("nan")
    sil = silhouette.score(Z, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero centroid distance in DB
        dbi = float(davies_bouldin_score(Z, labels))
    return sil, float(calinski_harabasz_score(Z, labels)), dbi


def sweep_k(Z: np.ndarray, ks: list[int], n_init: int, max_iter: int, random_state: int,
            silhouette_sample_size: int) -> list[SweepResult]:
    """Fit k-means for every ``k`` in ``ks`` and score it.

    Parameters
    ----------
    Z : ndarray of float64, shape (n_samples, n_columns)
        Transformed training sample.
    ks : list of int
        Values of k, each ``<= n_samples`` distinct points.
    n_init, max_iter, random_state : int
        KMeans settings.
    silhouette_sample_size : int
        ``sample_size`` of :func:`sklearn.metrics.silhouette_score` (capped at
        ``n_samples``; metrics are NaN when undefined).

    Returns
    -------
    list of SweepResult
    """
    out = []
    silhouette = _SilhouetteSample(Z, silhouette_sample_size, random_state)
    for k in ks:
        model = fit_kmeans(Z, k, n_init, max_iter, random_state)
        sil, ch, dbi = _metrics(Z, model.labels_, silhouette)
        out.append(SweepResult(k, model, float(model.inertia_), sil, ch, dbi))
    return out


def kneedle_elbow(ks: np.ndarray, inertia: np.ndarray) -> int:
    """Elbow of the inertia curve, kneedle style.

    Both axes are normalised to [0, 1]; the elbow is the k whose point lies
    furthest below the straight line joining the first and last points
    (vertical distance, which is proportional to the perpendicular one).
    Ties and curves without any point below the line give the smallest k.

    Parameters
    ----------
    ks : ndarray of int, shape (n_k,)
        Increasing values of k.
    inertia : ndarray of float, shape (n_k,)

    Returns
    -------
    int
    """
    ks = np.asarray(ks, dtype=np.float64)
    y = np.asarray(inertia, dtype=np.float64)
    if len(ks) <= 2:
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    span = y.max() - y.min()
    y = (y - y.min()) / span if span > 0 else np.zeros_like(y)
    line = y[0] + (y[-1] - y[0]) * x
    below = line - y
    if not np.any(below > 0):
        return int(ks[0])
    return int(ks[int(np.argmax(below))])


def choose_k(results: list[SweepResult], k_range: list[int], n_clusters: int | None
             ) -> tuple[int, int | None, str, dict[int, str]]:
    """Pick k.

    Rule: the elbow is :func:`kneedle_elbow` over ``k_range``; candidates are
    the k within +-1 of the elbow; among them the highest silhouette wins,
    ties (and NaN silhouettes) go to the smaller k.  ``n_clusters`` overrides.

    Parameters
    ----------
    results : list of SweepResult
    k_range : list of int
        The automatic range k_min..k_max (after capping).
    n_clusters : int or None

    Returns
    -------
    chosen : int
    elbow : int or None
    reason : str
        Overall selection reason.
    row_reasons : dict of int to str
        Per-k explanation for the k_selection table.
    """
    by_k = {r.k: r for r in results}
    ks = np.array(k_range)
    elbow = kneedle_elbow(ks, np.array([by_k[k].inertia for k in k_range]))
    candidates = [k for k in k_range if abs(k - elbow) <= 1]

    def sil(k: int) -> float:
        s = by_k[k].silhouette
        return -np.inf if np.isnan(s) else s

    best = candidates[0]
    for k in candidates[1:]:
        if sil(k) > sil(best):
            best = k
    if n_clusters is not None:
        chosen = n_clusters
        reason = f"k={n_clusters} set by var n_clusters (automatic rule would pick k={best})"
    else:
        chosen = best
        cand = ", ".join(str(k) for k in candidates)
        s = by_k[best].silhouette
        reason = (
            f"k={best}: elbow (kneedle) of the inertia curve at k={elbow}; candidates within "
            f"+-1 of the elbow: {cand}; highest silhouette ({s:.4f}) wins, ties to the smaller k"
            if len(candidates) > 1 else
            f"k={best}: only candidate (elbow at k={elbow})"
        )
    row_reasons = {}
    for r in results:
        if r.k == chosen:
            row_reasons[r.k] = "chosen: " + reason
        elif r.k not in k_range:
            row_reasons[r.k] = "outside k_min..k_max"
        elif r.k in candidates:
            row_reasons[r.k] = (
                "automatic choice, overridden by var n_clusters" if n_clusters is not None
                and r.k == best else
                "candidate within +-1 of the elbow; not the highest silhouette "
                "(ties go to the smaller k)"
            )
        else:
            row_reasons[r.k] = "not within +-1 of the elbow"
    return chosen, elbow, reason, row_reasons
