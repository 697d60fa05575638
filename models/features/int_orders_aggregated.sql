{#-
    One row per customer and order from the lines that count. The lines of one order are
    summed; the order is then a purchase, a refund (net amount below zero: returns and
    negative-amount cancellations), a cancellation (flagged cancelled, nothing paid) or a
    zero-amount order.

    Stops first when too many lines are unreadable (assert_excluded_line_share).
-#}
{{ assert_excluded_line_share(ref('int_order_lines_checked'), 'orders') }}
with order_lines as (

    select * from {{ ref('int_order_lines_checked') }}
    where exclusion_reason is null

),

orders as (

    select
        customer_id,
        order_id,
        min(ordered_at) as ordered_at,
        min(order_date) as order_date,
        sum(amount) as order_amount,
        count(*) as line_count,
        {{ dbt.bool_or('is_flagged_cancelled') }} as is_flagged_cancelled
    from order_lines
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
        line_count,
        ordered_at,
        order_date
    from orders

)

select * from classified
