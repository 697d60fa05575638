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

{#- One pass, no window: the repeat purchase amount is the purchase days' net total less the
    first purchase day's (a customer's order days are distinct dates). -#}
purchase_days_summarized as (

    select
        customer_id,
        count(*) as purchase_days,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        case
            when count(*) > 1
                then sum(day_net_amount) - {{ value_at_min('day_net_amount', 'order_date') }}
        end as repeat_purchase_amount
    from order_days_classified
    where is_purchase_day
    group by 1

),

other_days_summarized as (

    select
        customer_id,
        sum(case when day_purchase_orders = 0 then day_refunded_amount else 0 end) as refunds_off_purchase_days,
        count(case when is_refunded_in_full then 1 end) as days_refunded_in_full
    from order_days_classified
    group by 1

),

final as (

    select
        other_days_summarized.customer_id,
        cast(coalesce(purchase_days_summarized.purchase_days, 0) as {{ dbt.type_bigint() }}) as purchase_days,
        purchase_days_summarized.first_purchase_date,
        purchase_days_summarized.last_purchase_date,
        purchase_days_summarized.repeat_purchase_amount,
        other_days_summarized.refunds_off_purchase_days,
        cast(other_days_summarized.days_refunded_in_full as {{ dbt.type_bigint() }}) as days_refunded_in_full
    from other_days_summarized
    left join purchase_days_summarized
        on other_days_summarized.customer_id = purchase_days_summarized.customer_id

)

select * from final
