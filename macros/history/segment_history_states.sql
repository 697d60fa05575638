{#-
    The segment history with the snapshot's columns, for the history models: the snapshot
    customer_segments_snapshot where it runs, else (Spark without Delta) a relation over
    int_customer_segment_states with the same columns: each state is valid from its as-of
    date (dbt_valid_from) to the next as-of date built (dbt_valid_to, null for the latest);
    a customer absent at a date simply has no row there, so no deletion rows are needed
    (dbt_is_deleted is always 'False'). Row for row this gives a different table than the
    snapshot (one row per customer and date built, not per period), but the same state at
    every date built, which is all segment_transitions reads.
-#}
{% macro segment_history_states() %}
    {%- if history_snapshot_enabled() -%}
        {{ return(ref('customer_segments_snapshot')) }}
    {%- endif -%}
    {%- set states = ref('int_customer_segment_states') -%}
    {%- set sql -%}
(
    select
        states.customer_id,
        states.rfm_segment,
        states.business_segment,
        states.cluster_id,
        states.cluster_name,
        states.cluster_status,
        states.cluster_model_version,
        states.as_of_date,
        states.as_of_date as dbt_valid_from,
        dates.next_as_of_date as dbt_valid_to,
        'False' as dbt_is_deleted
    from {{ states }} as states
    inner join (
        select
            as_of_date,
            lead(as_of_date) over (order by as_of_date) as next_as_of_date
        from (select distinct as_of_date from {{ states }}) as built_dates
    ) as dates
        on states.as_of_date = dates.as_of_date
) as segment_history_states
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}
