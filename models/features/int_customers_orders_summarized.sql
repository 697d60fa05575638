{#-
    Per-customer order measures: the R, F and M inputs and the refund/cancellation counts.
    Incremental on DuckDB: only the customers of int_order_keys_touched are summed again.
-#}
{%- set window = order_lines_window(is_incremental()) -%}
{{ config(
    pre_hook="{{ order_state_delete('customer') }}",
    **order_lines_state_config()
) }}
-- depends_on: {{ ref('int_order_lines_window') }}
-- depends_on: {{ ref('int_order_keys_touched') }}
with orders as (

    select * from {{ ref('int_orders_aggregated') }}
    {%- if not window['full'] %}
    where {{ touched_customers_predicate('customer_id') }}
    {%- endif %}

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
