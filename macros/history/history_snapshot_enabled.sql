{#-
    Whether this target keeps the segment history in the dbt snapshot
    customer_segments_snapshot. dbt snapshots on Spark need a table format with MERGE
    (Delta, Iceberg or Hudi); plain Parquet on open-source Spark has none, so there the
    snapshot is disabled and the history reads int_customer_segment_states instead
    (docs/history.md, "On Spark"). SEGMENTATION_SPARK_FILE_FORMAT=delta (Databricks, or
    Spark with Delta Lake installed) keeps the snapshot.
-#}
{% macro history_snapshot_enabled() %}
    {{ return(adapter.dispatch('history_snapshot_enabled', 'customer_segmentation')()) }}
{% endmacro %}

{% macro default__history_snapshot_enabled() %}
    {{ return(true) }}
{% endmacro %}

{% macro spark__history_snapshot_enabled() %}
    {{ return(env_var('SEGMENTATION_SPARK_FILE_FORMAT', 'parquet') | lower in ['delta', 'iceberg', 'hudi']) }}
{% endmacro %}
