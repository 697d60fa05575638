{#-
    How big every segment is at each as-of date: one row per as-of date x segmentation type x
    segment, with customers, share and revenue share. Each build adds (or, when the same date
    is built again, replaces) the rows of its own as-of date, so a replay over past dates
    fills the table month by month. History is never rebuilt from scratch (full_refresh off):
    past as-of dates cannot be recomputed from today's data.
-#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    on_schema_change='append_new_columns',
    **history_incremental_config()
) }}

{#- Runs after the snapshot (or its Spark fallback), so a build the snapshot refuses (an as-of
    date earlier than the history) adds no sizes either: the ref below only adds that dependency. -#}
{%- set history_states = segment_history_states() %}

with customer_segments as (

    select * from {{ ref('customer_segments') }}

),

customer_features as (

    select * from {{ ref('customer_features') }}

),

customers_valued as (

    select
        customer_segments.customer_id,
        customer_segments.rfm_segment,
        customer_segments.business_segment,
        customer_segments.cluster_id,
        customer_segments.cluster_name,
        customer_segments.cluster_model_version,
        customer_segments.as_of_date,
        cast(coalesce(customer_features.monetary, 0) as {{ type_double() }}) as revenue
    from customer_segments
    left join customer_features
        on customer_segments.customer_id = customer_features.customer_id

),

memberships as (

    {{ segment_memberships('customers_valued', ['revenue']) | indent(4) }}

),

sized as (

    select
        as_of_date,
        segmentation_type,
        segment,
        segment_name,
        max(model_version) as cluster_model_version,
        count(*) as customers,
        {{ exact_sum('revenue') }} as revenue
    from memberships
    group by 1, 2, 3, 4

),

final as (

    select
        as_of_date,
        segmentation_type,
        segment,
        segment_name,
        cluster_model_version,
        customers,
        customers * 1.0 / sum(customers) over (partition by as_of_date, segmentation_type) as share,
        revenue,
        revenue / nullif({{ exact_sum('revenue', over='partition by as_of_date, segmentation_type') }}, 0) as revenue_share
    from sized

)

select * from final
