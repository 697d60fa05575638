"""Customer segmentation (k-means by default; var cluster_algorithm), for the dbt Python models.

Public API
----------
ClusteringSettings
    Validated settings (``ClusteringSettings.from_mapping(dbt_vars)``).
train_segmentation(frame, settings, previous=None, trained_at=None)
    Train a model; returns a :class:`TrainingResult`.
score_customers(frame, registry_row)
    Assign customers with a stored model.
tables_from_registry_row(row)
    Diagnostic tables stored in a registry row.
training_fingerprint(frame, settings)
    Hash of settings and data, to skip a retrain when nothing changed.
comparison.compare_algorithms(frame, settings, comparison)
    Every enabled clustering method on one sample, side by side.

The submodules (``settings``, ``inputs``, ``preprocessing``, ``kselection``,
``naming``, ``explain``, ``matching``, ``pipeline``, ``algorithms`` - one adapter per
clustering method - and ``comparison``) hold the building blocks
of the pipeline.  Only the names above validate their inputs; the building
blocks assume the validated, sorted data the pipeline hands them.
"""

from .pipeline import (
    REGISTRY_KEYS,
    TABLE_KEYS,
    TrainingResult,
    score_customers,
    tables_from_registry_row,
    train_segmentation,
    training_fingerprint,
    training_input,
)
from .settings import ClusteringSettings

__all__ = [
    "ClusteringSettings",
    "train_segmentation",
    "score_customers",
    "TrainingResult",
    "tables_from_registry_row",
    "training_fingerprint",
    "training_input",
    "REGISTRY_KEYS",
    "TABLE_KEYS",
]
