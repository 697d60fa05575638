{#-
    No order line is lost or double counted: every staged line has a row in
    int_order_lines_checked, and the lines that count (no exclusion reason) add up -
    in number and in amount - to the orders of int_orders_aggregated.
    Fails with one row per total that does not match.
-#}
with staged_lines as (

    select * from {{ ref('stg_orders') }}

),

checked_lines as (

    select * from {{ ref('int_order_lines_checked') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

totals as (

    select
        (select count(*) from staged_lines) as staged_line_count,
        (select count(*) from checked_lines) as checked_line_count,
        (select count(*) from checked_lines where exclusion_reason is null) as kept_line_count,
        (select coalesce(sum(line_count), 0) from orders) as ordered_line_count,
        (select coalesce(sum(amount), 0) from checked_lines where exclusion_reason is null) as kept_amount,
        (select coalesce(sum(order_amount), 0) from orders) as ordered_amount

),

validation_errors as (

    select
        'lines in stg_orders <> lines in int_order_lines_checked' as mismatch,
        cast(staged_line_count as {{ dbt.type_numeric() }}) as expected_total,
        cast(checked_line_count as {{ dbt.type_numeric() }}) as actual_total
    from totals
    where staged_line_count <> checked_line_count

    union all

    select
        'kept lines <> lines summed into int_orders_aggregated' as mismatch,
        cast(kept_line_count as {{ dbt.type_numeric() }}) as expected_total,
        cast(ordered_line_count as {{ dbt.type_numeric() }}) as actual_total
    from totals
    where kept_line_count <> ordered_line_count

    union all

    select
        'amount of kept lines <> sum of order_amount in int_orders_aggregated' as mismatch,
        cast(kept_amount as {{ dbt.type_numeric() }}) as expected_total,
        cast(ordered_amount as {{ dbt.type_numeric() }}) as actual_total
    from totals
    where kept_amount <> ordered_amount

)

select * from validation_errors
