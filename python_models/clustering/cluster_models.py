"""Registry of trained cluster models: one row per training run (append-only).

Trains k-means (k chosen by elbow + silhouette unless var n_clusters is set), names the
clusters, explains them with a decision tree and stores everything needed to score
customers again, in Python or in SQL. A rebuild on unchanged data and settings adds no row.
"""
from segmentation.dbt_glue import (
    clustering_settings,
    latest_registry_row,
    relation_frame,
    train_registry_rows,
)


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False)
    settings, mode = clustering_settings(dbt.config.get("clustering_settings"))
    frame = relation_frame(dbt.ref("int_customers_clustering_input"))
    previous, empty_like = None, None
    if dbt.is_incremental:
        registry = session.sql(f"select * from {dbt.this}").df()
        previous, empty_like = latest_registry_row(registry), registry.head(0)
    return train_registry_rows(frame, settings, mode, previous, empty_like)
