{#-
    Per customer with a purchase or refund order up to the as-of date, the purchase days of
    the buy-till-you-die inputs (int_customers_clv_inputs): a purchase day is a day with at
    least one purchase order whose purchases net of the refunds placed the same day stay
    above zero. Nothing here depends on the as-of date but through int_orders_aggregated,
    so it is kept from build to build: incremental on DuckDB, only the customers of
    int_order_keys_touched are derived again.
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
    where
        order_kind in ('purchase', 'refund')
        {%- if not window['full'] %}
        and {{ touched_customers_predicate('customer_id') }}
        {%- endif %}

),

order_days as (

    select
        customer_id,
        order_date,
        sum(order_amount) as day_net_amount,
        sum(case when order_kind = 'refund' then -1 * order_amount else 0 end) as day_refunded_amount,
        count(case when order_kind = 'purchase' then 1 end) as day_purchase_orders
    from orders
    group by 1, 2

),

order_days_classified as (

    select
        *,
        day_purchase_orders > 0 and day_net_amount > 0 as is_purchase_day,
        day_purchase_orders > 0 and day_net_amount <= 0 as is_refunded_in_full
    from order_days

),

{#- One pass over the order days, no window and no join: the purchase-day figures are
    aggregates of the purchase days alone (a case per figure), and the repeat purchase
    amount is the purchase days' net total less the first purchase day's (a customer's
    order days are distinct dates; the other days are null in both arguments, which the
    value-at-minimum aggregate skips). Two aggregations joined back made DuckDB keep every
    order day in memory first (87M rows at 5M customers). -#}
final as (

    select
        customer_id,
        cast(count(case when is_purchase_day then 1 end) as {{ dbt.type_bigint() }}) as purchase_days,
        min(case when is_purchase_day then order_date end) as first_purchase_date,
        max(case when is_purchase_day then order_date end) as last_purchase_date,
        case
            when count(case when is_purchase_day then 1 end) > 1
                then sum(case when is_purchase_day then day_net_amount end)
                    - {{ value_at_min('case when is_purchase_day then day_net_amount end',
                                      'case when is_purchase_day then order_date end') }}
        end as repeat_purchase_amount,
        sum(case when day_purchase_orders = 0 then day_refunded_amount else 0 end) as refunds_off_purchase_days,
        cast(count(case when is_refunded_in_full then 1 end) as {{ dbt.type_bigint() }}) as days_refunded_in_full
    from order_days_classified
    group by 1

)

select * from final
