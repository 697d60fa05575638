{#-
    The segment history where the dbt snapshot cannot run (Spark without Delta, Iceberg or
    Hudi; see macros/history/history_snapshot_enabled.sql): every customer's tracked
    segments at every as-of date built, one partition per as-of date. A build replaces the
    rows of its own date, like the other history tables. segment_history_states() reads it
    with the snapshot's columns (dbt_valid_from/dbt_valid_to between consecutive dates built),
    so segment_transitions gives the same rows from either. Disabled where the snapshot runs.
-#}
{{ config(
    materialized='incremental',
    enabled=not history_snapshot_enabled(),
    full_refresh=false,
    on_schema_change='append_new_columns',
    pre_hook="{{ assert_history_in_date_order('as_of_date', ['segment_size_history', 'segment_transitions'], own_time_column='as_of_date') }}",
    **history_incremental_config()
) }}

with int_customer_segments_tracked as (

    select * from {{ ref('int_customer_segments_tracked') }}

)

select * from int_customer_segments_tracked
