{#-
    The inputs of the buy-till-you-die models (BG/NBD or Pareto/NBD, Gamma-Gamma), one row
    per customer of customer_features, at the as-of date, in units of var clv_time_unit.
    A purchase day is a day with at least one purchase order whose purchases net of the
    refunds placed the same day stay above zero; frequency counts repeat purchase days
    (purchase days minus one), recency runs from the first to the last purchase day, t from
    the first purchase day to the as-of date, monetary_value is the mean net value of the
    repeat purchase days. Refunds on other days, and days refunded in full, are counted in
    their own columns (the purchase days are kept per customer from build to build in
    int_customers_purchase_days; only the as-of date's measures are computed here for
    everyone). The holdout columns count the purchase days after the as-of date
    (when the data goes on past it), for comparing predictions with what happened.
-#}
{%- set days_per_unit = clv_days_per_unit() -%}

with customer_features as (

    select * from {{ ref('customer_features') }}

),

purchase_days as (

    select * from {{ ref('int_customers_purchase_days') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

order_lines as (

    select * from {{ ref('int_order_lines_grouped') }}

),

{#- The lines that count dated after the as-of date, summed per order and day. -#}
order_lines_after_as_of as (

    select order_lines.*
    from order_lines
    inner join as_of
        on order_lines.order_date > as_of.as_of_date
    where order_lines.exclusion_reason is null

),

holdout_orders as (

    select
        customer_id,
        order_id,
        min(order_date) as order_date,
        sum(amount) as order_amount,
        {{ dbt.bool_or('is_flagged_cancelled') }} as is_flagged_cancelled
    from order_lines_after_as_of
    group by 1, 2

),

holdout_days as (

    select
        customer_id,
        order_date,
        count(case when order_amount > 0 and not is_flagged_cancelled then 1 end) as day_purchase_orders,
        sum(case when order_amount < 0 or not is_flagged_cancelled then order_amount else 0 end)
            as day_net_amount
    from holdout_orders
    group by 1, 2

),

holdout_summarized as (

    select
        customer_id,
        count(case when day_purchase_orders > 0 and day_net_amount > 0 then 1 end) as holdout_purchase_days
    from holdout_days
    group by 1

),

holdout_period as (

    select max(order_date) as holdout_end_date
    from order_lines_after_as_of

),

joined as (

    select
        customer_features.customer_id,
        customer_features.as_of_date,
        purchase_days.first_purchase_date,
        purchase_days.last_purchase_date,
        coalesce(purchase_days.purchase_days, 0) as purchase_days,
        purchase_days.repeat_purchase_amount,
        coalesce(purchase_days.refunds_off_purchase_days, 0) as refunds_off_purchase_days,
        coalesce(purchase_days.days_refunded_in_full, 0) as days_refunded_in_full,
        holdout_period.holdout_end_date,
        coalesce(holdout_summarized.holdout_purchase_days, 0) as holdout_purchase_days
    from customer_features
    left join purchase_days
        on customer_features.customer_id = purchase_days.customer_id
    left join holdout_summarized
        on customer_features.customer_id = holdout_summarized.customer_id
    cross join holdout_period

),

final as (

    select
        customer_id,
        purchase_days > 0 as has_purchases,
        cast(purchase_days as {{ dbt.type_bigint() }}) as purchase_days,
        case when purchase_days > 0 then cast(purchase_days - 1 as {{ dbt.type_bigint() }}) end as frequency,
        cast({{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }} as {{ type_double() }})
            / {{ days_per_unit }} as recency,
        cast({{ dbt.datediff('first_purchase_date', 'as_of_date', 'day') }} as {{ type_double() }})
            / {{ days_per_unit }} as t,
        cast(repeat_purchase_amount as {{ type_double() }}) / nullif(purchase_days - 1, 0) as monetary_value,
        cast(refunds_off_purchase_days as {{ type_double() }}) as refunds_off_purchase_days,
        cast(days_refunded_in_full as {{ dbt.type_bigint() }}) as days_refunded_in_full,
        cast({{ dbt.datediff('as_of_date', 'holdout_end_date', 'day') }} as {{ type_double() }})
            / {{ days_per_unit }} as holdout_length,
        cast(holdout_purchase_days as {{ dbt.type_bigint() }}) as holdout_purchase_days,
        {{ quote_literal(var('clv_time_unit', 'weeks')) }} as time_unit,
        first_purchase_date,
        last_purchase_date,
        as_of_date
    from joined

)

select * from final
