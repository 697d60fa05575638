"""The ``cluster_algorithm_comparison`` table: every enabled method on one sample, side by side.

Each method is trained by the same :func:`pipeline.train_segmentation` as production (same
preprocessing, k sweep, names, tree, bootstrap stability), on the same seeded sample of the
clustering input, and the metrics of its registry row are collected. The k sweep runs once,
with the first method told k (kmeans when enabled); the other methods told k reuse its k, so
they are compared at the same k and the sweep is not repeated. Nothing here changes
the production model: the table only says which method the project would recommend.

Recommendation rule
-------------------
A method is *eligible* when all its gates pass:

- it made at least 2 clusters and its silhouette could be computed;
- ``tree_fidelity >= min_tree_fidelity`` (the tree explains it, so SQL scoring is faithful);
- ``smallest_share >= min_cluster_share`` (no tiny cluster);
- ``noise_share <= max_noise_share`` (HDBSCAN does not leave too many unclassified).

Among the eligible methods the highest silhouette wins, compared at 2 decimals (smaller
differences are within the silhouette sample's noise); ties go to the simpler method, in
the order kmeans, kprototypes, gmm, agglomerative, birch, hdbscan, meanshift. No eligible
method: nothing is recommended, and every row says which gate failed.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._common import frame_from_spec
from .algorithms import NEEDS_K
from .inputs import prepare_input
from .pipeline import train_segmentation
from .settings import ALGORITHMS, ClusteringSettings, ComparisonSettings

__all__ = ["COMPARISON_COLUMNS", "compare_algorithms", "comparison_from_registry_row"]

#: Columns of the comparison table, in order, with their dtypes.
COMPARISON_COLUMNS = {
    "algorithm": "str",
    "k": "Int64",
    "k_selection_reason": "str",
    "n_sample": "int64",
    "silhouette": "float64",
    "calinski_harabasz": "float64",
    "davies_bouldin": "float64",
    "tree_fidelity": "float64",
    "stability_ari": "float64",
    "smallest_share": "float64",
    "noise_share": "float64",
    "train_seconds": "float64",
    "is_recommended": "bool",
    "is_production": "bool",
    "recommendation_reason": "str",
    "notes": "str",
}
_METRICS = ("silhouette", "calinski_harabasz", "davies_bouldin", "tree_fidelity", "stability_ari")


def _sample(frame: pd.DataFrame, settings: ClusteringSettings, size: int) -> pd.DataFrame:
    """At most ``size`` customers of the frame, seeded, independent of the row order."""
    data = prepare_input(frame, settings.features, settings.categorical_features,
                         settings.optional_features)
    ids = pd.Index(data.customer_id)
    order = frame.set_index("customer_id").loc[ids].reset_index()
    if len(order) <= size:
        return order
    pick = np.sort(np.random.default_rng(settings.random_state).choice(len(order), size=size, replace=False))
    return order.iloc[pick].reset_index(drop=True)


def _one(sample: pd.DataFrame, settings: ClusteringSettings, algorithm: str,
         comparison: ComparisonSettings, shared_k: tuple[int, str] | None) -> dict:
    fixed = {"n_clusters": settings.n_clusters if algorithm in NEEDS_K else None}
    if algorithm in NEEDS_K and shared_k is not None:  # the k sweep ran once already
        fixed = {"n_clusters": shared_k[0], "k_min": shared_k[0], "k_max": shared_k[0]}
    s = dataclasses.replace(
        settings, algorithm=algorithm,
        training_sample_size=max(3, comparison.sample_size),
        slow_method_sample_size=max(3, comparison.sample_size),
        stability_bootstraps=comparison.bootstraps,
        **fixed,
    )
    out = {c: None for c in COMPARISON_COLUMNS}
    out.update(algorithm=algorithm, n_sample=0, is_recommended=False,
               is_production=algorithm == settings.algorithm)
    start = time.perf_counter()
    try:
        result = train_segmentation(sample, s, trained_at="comparison")
    except ValueError as exc:  # recorded, never raised: the table compares what can run
        out["train_seconds"] = time.perf_counter() - start
        out["notes"] = f"could not train: {exc}"
        return out
    out["train_seconds"] = time.perf_counter() - start
    row = result.registry_row
    notes = list(json.loads(row["notes_json"]))
    out.update(k=row["k"], k_selection_reason=row["k_selection_reason"], n_sample=row["n_training_sample"])
    if "k_min" in fixed:
        out["k_selection_reason"] = f"k of the sweep ({shared_k[1]}), shared by every method told k"
        if row["k"] is not None and row["k"] < shared_k[0]:
            out["k_selection_reason"] += f"; {algorithm} made {row['k']} clusters"
    for m in _METRICS:
        out[m] = row[m]
    a = result.assignments
    classified = a.loc[a["segment_status"] == "classified", "cluster_id"]
    clusterable = len(classified) + int(row["n_noise"])
    if len(classified):
        out["smallest_share"] = float(classified.value_counts(normalize=True).min())
    if clusterable:
        out["noise_share"] = row["n_noise"] / clusterable
    if comparison.bootstraps == 0:
        notes.append("stability_ari: null because var cluster_comparison_bootstraps is 0")
    out["notes"] = "; ".join(notes) if notes else None
    return out


def _k_asked(row: dict) -> int | None:
    """The k the sweep chose for a row (not fewer clusters a method may have made)."""
    reason = row["k_selection_reason"] or ""
    if row["k"] is None or "made" in reason:
        return None
    return int(row["k"])


def _recommend(rows: list[dict], comparison: ComparisonSettings) -> None:
    best = None
    for r in rows:
        failed = []
        if r["k"] is None or r["k"] < 2 or r["silhouette"] is None:
            failed.append("fewer than 2 clusters or no silhouette")
        if r["tree_fidelity"] is None or r["tree_fidelity"] < comparison.min_tree_fidelity:
            failed.append(f"tree_fidelity below min_tree_fidelity {comparison.min_tree_fidelity:g}")
        if r["smallest_share"] is None or r["smallest_share"] < comparison.min_cluster_share:
            failed.append(f"smallest_share below min_cluster_share {comparison.min_cluster_share:g}")
        if r["noise_share"] is None or r["noise_share"] > comparison.max_noise_share:
            failed.append(f"noise_share above {comparison.max_noise_share:g}")
        r["_eligible"] = not failed
        r["recommendation_reason"] = "not eligible: " + "; ".join(failed) if failed else None
        if not failed:
            score = round(r["silhouette"], 2)
            if best is None or score > round(best["silhouette"], 2):
                best = r  # rows are in ALGORITHMS order: ties keep the simpler method
    for r in rows:
        if r is best:
            r["is_recommended"] = True
            r["recommendation_reason"] = "recommended: highest silhouette (2 decimals) of the eligible methods"
        elif r.pop("_eligible", False):
            r["recommendation_reason"] = (f"eligible; silhouette {r['silhouette']:.2f} vs "
                                          f"{best['silhouette']:.2f} of {best['algorithm']}")
        r.pop("_eligible", None)


def compare_algorithms(frame: pd.DataFrame, settings: ClusteringSettings | Mapping | None,
                       comparison: ComparisonSettings | Mapping | None = None) -> pd.DataFrame:
    """Train every enabled method on one sample and compare them.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_customers, n_columns)
        The clustering input (``customer_id`` plus the features).
    settings : ClusteringSettings or mapping
        The production settings; each method runs with them, its own
        ``algorithm``, the comparison's sample and bootstraps (and no
        ``n_clusters`` for the methods that find k).
    comparison : ComparisonSettings or mapping

    Returns
    -------
    pandas.DataFrame
        One row per method, in :data:`settings.ALGORITHMS` order, with the
        columns of :data:`COMPARISON_COLUMNS`; empty when no method is enabled.
        A metric that cannot be computed is null and ``notes`` says why.
    """
    if not isinstance(settings, ClusteringSettings):
        settings = ClusteringSettings.from_mapping(settings)
    if not isinstance(comparison, ComparisonSettings):
        comparison = ComparisonSettings.from_mapping(comparison)
    algorithms = [a for a in ALGORITHMS if a in comparison.resolve(settings)]
    rows = []
    if algorithms:
        sample = _sample(frame, settings, comparison.sample_size)
        shared_k = None
        for a in algorithms:
            rows.append(_one(sample, settings, a, comparison, shared_k))
            k_asked = _k_asked(rows[-1])
            if a in NEEDS_K and shared_k is None and k_asked is not None:
                shared_k = (k_asked, rows[-1]["k_selection_reason"])
        _recommend(rows, comparison)
    return frame_from_spec({name: [r[name] for r in rows] for name in COMPARISON_COLUMNS},
                           COMPARISON_COLUMNS)


def comparison_from_registry_row(frame: pd.DataFrame, row: Mapping,
                                 comparison: ComparisonSettings | Mapping | None) -> pd.DataFrame:
    """:func:`compare_algorithms` with the settings the latest registry row was trained with."""
    return compare_algorithms(frame, json.loads(row["settings_json"]), comparison)
