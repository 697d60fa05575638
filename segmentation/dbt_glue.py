"""What the dbt Python models in python_models/clustering/ call.

The models stay thin (read refs, call one function here, return a DataFrame); everything
with logic lives in this package, where pytest can reach it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from typing import Any

import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits

from segmentation.clustering import (
    ClusteringSettings,
    score_customers,
    tables_from_registry_row,
    train_segmentation,
    training_input,
)

CLUSTERING_MODES = ("train", "score")
#: Environment variable: threads for the BLAS and OpenMP pools of NumPy, SciPy and
#: scikit-learn while a clustering model runs. Default 1: the models run beside DuckDB
#: (another dbt thread may run SQL on the same cores), and the work is small matrix products
#: on at most training_sample_size rows; "default" leaves the libraries' own choice.
PYTHON_THREADS_ENV = "SEGMENTATION_PYTHON_THREADS"


def python_thread_limit() -> contextlib.AbstractContextManager:
    """Context limiting the BLAS/OpenMP thread pools (see :data:`PYTHON_THREADS_ENV`).

    Raises
    ------
    ValueError
        If the variable is neither a positive integer nor ``default``.
    """
    value = os.environ.get(PYTHON_THREADS_ENV, "1").strip().lower()
    if value == "default":
        return contextlib.nullcontext()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PYTHON_THREADS_ENV} must be a positive integer or 'default', got {value!r}")
    return threadpool_limits(limits=int(value))


def relation_frame(relation: Any) -> pd.DataFrame:
    """A DuckDB relation as a pandas DataFrame, column by column through Arrow.

    For the clustering input (text ids, double features) this gives the same frame as
    ``relation.df()`` in about half the time.
    """
    return relation.to_arrow_table().to_pandas()


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A model's result as an Arrow table: DuckDB stores it about twice as fast as a DataFrame."""
    return pa.Table.from_pandas(frame, preserve_index=False)


def clustering_settings(settings_json: str) -> tuple[ClusteringSettings, str]:
    """Parse the JSON the dbt config passes in (all clustering vars) into validated settings.

    Returns
    -------
    settings : ClusteringSettings
    mode : {'train', 'score'}
    """
    raw = json.loads(settings_json)
    mode = raw.pop("clustering_mode", "train")
    if mode not in CLUSTERING_MODES:
        raise ValueError(f"var clustering_mode must be 'train' or 'score', got {mode!r}")
    return ClusteringSettings.from_mapping(raw), mode


def latest_registry_row(registry: pd.DataFrame, algorithm: str | None = None) -> dict[str, Any] | None:
    """The newest row (highest model_version) of the cluster_models registry, or None.

    With ``algorithm``: the newest row trained with that method (rows from before the
    method was recorded are k-means), so stable ids match a model of the same method.
    """
    if registry is None or len(registry) == 0:
        return None
    if algorithm is not None:
        registry = registry[[_row_algorithm(r) == algorithm for r in registry["settings_json"]]]
        if len(registry) == 0:
            return None
    row = registry.sort_values("model_version").iloc[-1]
    return {key: (None if _is_missing(value) else value) for key, value in row.to_dict().items()}


def _row_algorithm(settings_json: Any) -> str:
    try:
        return json.loads(settings_json).get("algorithm", "kmeans")
    except (TypeError, ValueError):
        return "kmeans"


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def train_registry_rows(frame: pd.DataFrame, settings: ClusteringSettings, mode: str,
                        previous: dict[str, Any] | None, empty_like: pd.DataFrame | None,
                        same_method: dict[str, Any] | None | str = "previous") -> pd.DataFrame:
    """The rows to append to the registry this build: one new model, or none.

    No row is added in score mode, or when the latest model was trained on identical data
    with identical settings (same fingerprint): a rerun reuses it, so reruns are stable.
    ``previous`` is the newest row; ``same_method`` the newest row of ``settings.algorithm``
    (stable ids are matched against it; None: no model of this method yet; default: the
    string ``"previous"``, i.e. ``previous`` itself).
    """
    if mode == "score":
        if previous is None:
            raise ValueError("clustering_mode is 'score' but no model is stored yet: "
                             "build once with clustering_mode: train")
        return empty_like
    prepared = training_input(frame, settings)
    fingerprint = prepared[1]
    if previous is not None and previous.get("fingerprint") == fingerprint:
        return empty_like
    trained_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    with python_thread_limit():
        result = train_segmentation(frame, settings,
                                    previous=previous if same_method == "previous" else same_method,
                                    latest=previous, trained_at=trained_at, prepared=prepared)
    return pd.DataFrame([result.registry_row])


def assign_customers(frame: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    """Every customer of the clustering input scored with the latest stored model."""
    latest = latest_registry_row(registry)
    if latest is None:
        raise ValueError("cluster_models holds no model: the clustering step did not train one")
    with python_thread_limit():
        assignments = score_customers(frame, latest)
    assignments.insert(1, "model_version", int(latest["model_version"]))
    return assignments


def algorithm_comparison(frame: pd.DataFrame, registry: pd.DataFrame, comparison_json: str) -> pd.DataFrame:
    """The cluster_algorithm_comparison table: every enabled method on one sample, with the
    settings of the latest model (see :mod:`segmentation.clustering.comparison`)."""
    from segmentation.clustering.comparison import comparison_from_registry_row

    latest = latest_registry_row(registry)
    if latest is None:
        raise ValueError("cluster_models holds no model: the clustering step did not train one")
    with python_thread_limit():
        return comparison_from_registry_row(frame, latest, json.loads(comparison_json))


def registry_table(registry: pd.DataFrame, name: str) -> pd.DataFrame:
    """One of the small tables stored in the latest registry row (rules, centroids, ...)."""
    latest = latest_registry_row(registry)
    if latest is None:
        raise ValueError("cluster_models holds no model: the clustering step did not train one")
    return tables_from_registry_row(latest)[name]
