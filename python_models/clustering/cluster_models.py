"""Registry of trained cluster models: one row per training run (append-only).

Trains the method of var cluster_algorithm (k-means by default; k chosen by elbow +
silhouette unless var n_clusters is set), names the clusters, explains them with a decision
tree and stores everything needed to score customers again, in Python or in SQL. Stable ids
are matched against the newest model of the same method. A rebuild on unchanged data and settings adds no row.
"""
from segmentation.dbt_glue import (
    clustering_settings,
    latest_registry_row,
    model_result,
    query_frame,
    relation_frame,
    train_registry_rows,
)


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False, on_schema_change="append_new_columns")
    settings, mode = clustering_settings(dbt.config.get("clustering_settings"))
    frame = relation_frame(dbt.ref("int_customers_clustering_input"))
    previous, empty_like, same_method = None, None, None
    if dbt.is_incremental:
        registry = query_frame(session, f"select * from {dbt.this}")
        previous, empty_like = latest_registry_row(registry), registry.head(0)
        same_method = latest_registry_row(registry, settings.algorithm)
    return model_result(train_registry_rows(frame, settings, mode, previous, empty_like, same_method),
                        session)
