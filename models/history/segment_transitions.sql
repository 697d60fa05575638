{#-
    Who moved where between two consecutive as-of dates: one row per as-of date x
    segmentation type x from-segment x to-segment x cause, with the number of customers.
    Ready for a Sankey chart (from_segment -> to_segment, weighted by customers).

    Both ends are read from customer_segments_snapshot, the state valid at each date. The
    previous as-of date is the latest one in segment_size_history before this build's date;
    the first build has none and adds no rows. Pseudo-states: 'new customer' and 'returned'
    (absent at the previous date; 'returned' when seen at some earlier date) on the from
    side, 'left' (absent now) on the to side.

    has_orders_since_previous: the customer has an order of any kind (purchase, refund,
    cancellation) dated after the previous as-of date and up to this one, so their own order
    facts changed. The cause of a move:
      'behaviour' - they have such an order;
      'retrain'   - no such order, and the two cluster assignments were made by different model
                    versions: moved only by the retrain (ids are matched by members, so a
                    customer whose cluster survived keeps its id);
      'time'      - no such order, same model (or RFM / business): moved because recency and
                    tenure grew with the date (or, for quantile RFM scores, because others did).
-#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    on_schema_change='append_new_columns',
    **history_incremental_config()
) }}

with customer_segments_snapshot as (

    select * from {{ segment_history_states() }}

),

segment_size_history as (

    select * from {{ ref('segment_size_history') }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

int_orders_aggregated as (

    select * from {{ ref('int_orders_aggregated') }}

),

current_as_of_date as (

    select max(as_of_date) as as_of_date
    from customer_segments

),

as_of_dates as (

    select
        current_as_of_date.as_of_date,
        max(segment_size_history.as_of_date) as previous_as_of_date
    from current_as_of_date
    inner join segment_size_history
        on current_as_of_date.as_of_date > segment_size_history.as_of_date
    group by 1

),

snapshot_rows as (

    select
        customer_id,
        rfm_segment,
        business_segment,
        cluster_id,
        cluster_name,
        cluster_model_version,
        dbt_valid_from,
        dbt_valid_to
    from customer_segments_snapshot
    where dbt_is_deleted = 'False'

),

current_states as (

    select
        snapshot_rows.*,
        as_of_dates.as_of_date
    from snapshot_rows
    inner join as_of_dates
        on snapshot_rows.dbt_valid_from <= as_of_dates.as_of_date
        and (snapshot_rows.dbt_valid_to is null or snapshot_rows.dbt_valid_to > as_of_dates.as_of_date)

),

previous_states as (

    select
        snapshot_rows.*,
        as_of_dates.previous_as_of_date as as_of_date
    from snapshot_rows
    inner join as_of_dates
        on snapshot_rows.dbt_valid_from <= as_of_dates.previous_as_of_date
        and (snapshot_rows.dbt_valid_to is null or snapshot_rows.dbt_valid_to > as_of_dates.previous_as_of_date)

),

customers_seen_before as (

    select distinct snapshot_rows.customer_id
    from snapshot_rows
    inner join as_of_dates
        on snapshot_rows.dbt_valid_from < as_of_dates.previous_as_of_date

),

customers_with_orders_since_previous as (

    select distinct int_orders_aggregated.customer_id
    from int_orders_aggregated
    inner join as_of_dates
        on int_orders_aggregated.order_date > as_of_dates.previous_as_of_date
        and int_orders_aggregated.order_date <= as_of_dates.as_of_date

),

current_memberships as (

    {{ segment_memberships('current_states') | indent(4) }}

),

previous_memberships as (

    {{ segment_memberships('previous_states') | indent(4) }}

),

paired as (

    select
        coalesce(current_memberships.customer_id, previous_memberships.customer_id) as customer_id,
        coalesce(current_memberships.segmentation_type, previous_memberships.segmentation_type)
            as segmentation_type,
        previous_memberships.segment as previous_segment,
        previous_memberships.segment_name as previous_segment_name,
        previous_memberships.model_version as previous_model_version,
        current_memberships.segment as current_segment,
        current_memberships.segment_name as current_segment_name,
        current_memberships.model_version as current_model_version
    from current_memberships
    full outer join previous_memberships
        on current_memberships.customer_id = previous_memberships.customer_id
        and current_memberships.segmentation_type = previous_memberships.segmentation_type

),

classified as (

    select
        paired.customer_id,
        paired.segmentation_type,
        case
            when paired.previous_segment is not null then paired.previous_segment
            when customers_seen_before.customer_id is not null then 'returned'
            else 'new customer'
        end as from_segment,
        case
            when paired.previous_segment is not null then paired.previous_segment_name
            when customers_seen_before.customer_id is not null then 'returned'
            else 'new customer'
        end as from_segment_name,
        customers_with_orders_since_previous.customer_id is not null as has_orders_since_previous,
        coalesce(paired.current_segment, 'left') as to_segment,
        coalesce(paired.current_segment_name, 'left') as to_segment_name,
        case
            when paired.previous_segment is null and customers_seen_before.customer_id is not null
                then 'returned'
            when paired.previous_segment is null then 'new customer'
            when paired.current_segment is null then 'left'
            when paired.previous_segment = paired.current_segment then 'stayed'
            else 'moved'
        end as transition_type,
        case
            when paired.previous_segment is null
                or paired.current_segment is null
                or paired.previous_segment = paired.current_segment
                then null
            when customers_with_orders_since_previous.customer_id is not null then 'behaviour'
            when paired.previous_model_version <> paired.current_model_version then 'retrain'
            else 'time'
        end as move_cause
    from paired
    left join customers_seen_before
        on paired.customer_id = customers_seen_before.customer_id
    left join customers_with_orders_since_previous
        on paired.customer_id = customers_with_orders_since_previous.customer_id

),

counted as (

    select
        segmentation_type,
        from_segment,
        from_segment_name,
        to_segment,
        to_segment_name,
        transition_type,
        move_cause,
        has_orders_since_previous,
        count(*) as customers
    from classified
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

final as (

    select
        as_of_dates.as_of_date,
        as_of_dates.previous_as_of_date,
        counted.segmentation_type,
        counted.from_segment,
        counted.from_segment_name,
        counted.to_segment,
        counted.to_segment_name,
        counted.transition_type,
        counted.move_cause,
        counted.has_orders_since_previous,
        counted.customers,
        counted.customers * 1.0
            / sum(counted.customers) over (partition by counted.segmentation_type, counted.from_segment)
            as share_of_from_segment
    from counted
    cross join as_of_dates

)

select * from final
