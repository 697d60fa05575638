{#-
    The columns of customer_segments whose history is kept: one row per customer with the
    segment of every segmentation, the cluster model version that assigned the cluster, and
    the as-of date. The snapshot customer_segments_snapshot records a new version of a row
    when one of these segment columns changes. A view: the snapshot reads it once per build.
-#}
{{ config(materialized='view') }}

with customer_segments as (

    select * from {{ ref('customer_segments') }}

),

tracked as (

    select
        customer_id,
        rfm_segment,
        business_segment,
        cluster_id,
        cluster_name,
        cluster_status,
        cluster_model_version,
        as_of_date
    from customer_segments

)

select * from tracked
