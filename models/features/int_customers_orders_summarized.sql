{#- Per-customer order measures: the R, F and M inputs and the refund/cancellation counts. -#}
with orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

summarized as (

    select
        customer_id,
        count(case when order_kind = 'purchase' then 1 end) as frequency,
        sum(case when order_kind in ('purchase', 'refund') then order_amount else 0 end) as monetary,
        sum(case when order_kind = 'purchase' then order_amount else 0 end) as gross_revenue,
        -1 * sum(case when order_kind = 'refund' then order_amount else 0 end) as refunded_amount,
        count(case when order_kind in ('refund', 'cancelled') then 1 end) as cancellation_count,
        count(case when order_kind = 'zero_amount' then 1 end) as zero_amount_order_count,
        min(case when order_kind = 'purchase' then order_date end) as first_order_date,
        max(case when order_kind = 'purchase' then order_date end) as last_order_date
    from orders
    group by 1

)

select * from summarized
