{#-
    One row per customer and order from the lines that count up to the as-of date (summed
    per order and day in int_order_lines_grouped). The order's days are summed; the order is
    then a purchase, a refund (net amount below zero: returns and negative-amount
    cancellations), a cancellation (flagged cancelled, nothing paid) or a zero-amount order.
    An order's kind depends on all its lines, so it is re-derived here from the stored
    per-day sums of all its days (a refund line for an old order changes that order).
    Incremental on DuckDB: only the orders of int_order_keys_touched are derived again
    (their rows deleted first), every other order is kept as stored.

    Stops first when too many lines are unreadable (assert_excluded_line_share).
-#}
{%- set window = order_lines_window(is_incremental()) -%}
{{ config(
    pre_hook="{{ order_state_delete('order') }}",
    **order_lines_state_config()
) }}
-- depends_on: {{ ref('int_order_lines_window') }}
-- depends_on: {{ ref('int_order_keys_touched') }}
{{ assert_excluded_line_share(ref('int_order_lines_grouped'), 'orders', line_count_sql='sum(line_count)') }}
with order_days as (

    select * from {{ ref('int_order_lines_grouped') }}
    where exclusion_reason is null

),

{%- if not window['full'] %}

touched as (

    select * from {{ ref('int_order_keys_touched') }}

),

order_days_touched as (

    select order_days.*
    from order_days
    inner join touched
        on order_days.customer_id = touched.customer_id
        and order_days.order_id = touched.order_id

),
{%- else %}

order_days_touched as (

    select * from order_days

),
{%- endif %}

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

orders as (

    select
        order_days.customer_id,
        order_days.order_id,
        min(order_days.ordered_at) as ordered_at,
        min(order_days.order_date) as order_date,
        sum(order_days.amount) as order_amount,
        sum(order_days.line_count) as line_count,
        {{ dbt.bool_or('order_days.is_flagged_cancelled') }} as is_flagged_cancelled
    from order_days_touched as order_days
    inner join as_of
        on order_days.order_date <= as_of.as_of_date
    group by 1, 2

),

classified as (

    select
        customer_id,
        order_id,
        case
            when order_amount < 0 then 'refund'
            when is_flagged_cancelled then 'cancelled'
            when order_amount = 0 then 'zero_amount'
            else 'purchase'
        end as order_kind,
        is_flagged_cancelled,
        order_amount,
        cast(line_count as {{ dbt.type_bigint() }}) as line_count,
        ordered_at,
        order_date
    from orders

)

select * from classified
