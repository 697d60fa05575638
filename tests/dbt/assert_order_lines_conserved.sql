{#-
    No order line is lost or double counted, from counts kept in the same pass that groups
    the lines (int_order_lines_grouped: every line in one row, line_count lines): the lines
    of stg_orders (a count, which DuckDB answers from the Parquet metadata or one scan
    without the checks) are the lines of the stored rows, and those are - in number and in
    amount - the lines of int_orders_aggregated plus those of int_order_lines_excluded.
    On an incremental build this also checks that the days not read again still hold
    every input line. Fails with one row per total that does not match.
-#}
with staged_lines as (

    select * from {{ ref('stg_orders') }}

),

grouped_lines as (

    select * from {{ ref('int_order_lines_grouped') }}

),

excluded_lines as (

    select * from {{ ref('int_order_lines_excluded') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

totals as (

    select
        (select count(*) from staged_lines) as staged_line_count,
        (select coalesce(sum(line_count), 0) from grouped_lines) as grouped_line_count,
        (select coalesce(sum(line_count), 0) from excluded_lines) as excluded_line_count,
        (select coalesce(sum(line_count), 0) from orders) as ordered_line_count,
        (select coalesce(sum(amount), 0) from grouped_lines) as grouped_amount,
        (select coalesce(sum(amount), 0) from excluded_lines) as excluded_amount,
        (select coalesce(sum(order_amount), 0) from orders) as ordered_amount

),

validation_errors as (

    select
        'lines in stg_orders <> lines in int_order_lines_grouped' as mismatch,
        cast(staged_line_count as {{ dbt.type_numeric() }}) as expected_total,
        cast(grouped_line_count as {{ dbt.type_numeric() }}) as actual_total
    from totals
    where staged_line_count <> grouped_line_count

    union all

    select
        'grouped lines <> lines of int_orders_aggregated + int_order_lines_excluded' as mismatch,
        cast(grouped_line_count as {{ dbt.type_numeric() }}) as expected_total,
        cast(ordered_line_count + excluded_line_count as {{ dbt.type_numeric() }}) as actual_total
    from totals
    where grouped_line_count <> ordered_line_count + excluded_line_count

    union all

    select
        'amount of grouped lines <> order_amount of int_orders_aggregated + amount of int_order_lines_excluded' as mismatch,
        cast(grouped_amount as {{ dbt.type_numeric() }}) as expected_total,
        cast(ordered_amount + excluded_amount as {{ dbt.type_numeric() }}) as actual_total
    from totals
    where grouped_amount <> ordered_amount + excluded_amount

)

select * from validation_errors
