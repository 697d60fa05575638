{#-
    Every order line left out of the features at this as-of date, with its reason: the
    excluded lines of int_order_lines_grouped (identical lines share a row, line_count says
    how many) and the lines that count but are dated after the as-of date (summed per order
    and day). Small: what the data-quality trail lists.
-#}
with order_lines as (

    select * from {{ ref('int_order_lines_grouped') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

excluded as (

    select
        {# The order of the reasons as it always was: the id, reading and date checks
            first, then the as-of date, then duplicates (a copy of a line after the as-of
            date is 'after_as_of_date'). #}
        case
            when order_lines.exclusion_reason is not null
                and order_lines.exclusion_reason <> 'exact_duplicate_row'
                then order_lines.exclusion_reason
            when order_lines.order_date > as_of.as_of_date then 'after_as_of_date'
            else order_lines.exclusion_reason
        end as exclusion_reason,
        order_lines.customer_id,
        order_lines.order_id,
        order_lines.customer_id_as_given,
        order_lines.order_status,
        order_lines.is_flagged_cancelled,
        order_lines.quantity,
        order_lines.line_amount,
        order_lines.amount,
        cast(order_lines.line_count as {{ dbt.type_bigint() }}) as line_count,
        order_lines.ordered_at,
        order_lines.order_date,
        order_lines.ordered_at_text,
        order_lines.amount_text,
        as_of.as_of_date
    from order_lines
    cross join as_of
    where order_lines.exclusion_reason is not null or order_lines.order_date > as_of.as_of_date

)

select * from excluded
