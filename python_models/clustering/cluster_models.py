"""Registry of trained cluster models: one row per training run (append-only).

Trains the method of var cluster_algorithm (k-means by default; k chosen by elbow +
silhouette unless var n_clusters is set), names the clusters, explains them with a decision
tree and stores everything needed to score customers again, in Python or in SQL. Stable ids
are matched against the newest model of the same method. A rebuild on unchanged data and settings adds no row.
The retrain schedule (vars retrain_after_days, retrain_max_customer_change;
segmentation.retrain) decides whether a build with new data trains or scores with the stored
model; the decision and its reason are printed, and a new row keeps its reason.
"""
from segmentation.dbt_glue import (
    build_as_of_date,
    cluster_registry_update,
    clustering_settings,
    latest_registry_row,
    model_result,
    query_frame,
    training_frame,
)
from segmentation.retrain import RetrainSchedule


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False, on_schema_change="append_new_columns")
    settings, mode = clustering_settings(dbt.config.get("clustering_settings"))
    schedule = RetrainSchedule.from_json(dbt.config.get("retrain_schedule"))
    as_of_date = build_as_of_date(dbt.ref("int_as_of_date"))
    # On Spark only the bounded, hash-ordered training sample is collected (dbt_glue).
    frame, n_customers = training_frame(dbt.ref("int_customers_clustering_input"),
                                        settings.training_sample_size, settings.random_state)
    previous, empty_like, same_method = None, None, None
    if dbt.is_incremental:
        registry = query_frame(session, f"select * from {dbt.this}")
        previous, empty_like = latest_registry_row(registry), registry.head(0)
        same_method = latest_registry_row(registry, settings.algorithm)
    rows, decision = cluster_registry_update(frame, settings, mode, previous, empty_like, same_method,
                                             n_customers, as_of_date, schedule)
    print(f"cluster_models: {decision.reason}", flush=True)
    return model_result(rows, session)
