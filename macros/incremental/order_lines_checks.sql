{#-
    The per-line checks, as CTEs `numbered` and `checked` over a CTE of staged lines named
    `lines_cte` (the columns of stg_orders). Shared by the view int_order_lines_checked (every
    line, for reading and for its unit test) and by int_order_lines_grouped (the lines of the
    incremental slice only), so both give a line the same reason. The reasons do not depend
    on the as-of date: lines after it are kept here and left out downstream
    (int_orders_aggregated, int_order_lines_excluded), so the stored state survives a change
    of the as-of date.
-#}
{% macro order_lines_checks(lines_cte) %}
{#-
    Exact duplicates are numbered within their input-row fingerprint (a hash of every input
    column), their ids and their read time and amount: the copies of one row share all of
    these, and a hash collision between different rows would also need the same ids, time
    and amount. One window over typed keys: the one hash partitioning of the lines. Copies
    share their time, so they always fall on the same day of an incremental slice.
-#}
numbered as (

    select
        {{ lines_cte }}.*,
        row_number() over (
            partition by
                {{ lines_cte }}.source_row_fingerprint,
                {{ lines_cte }}.order_id,
                {{ lines_cte }}.customer_id,
                {{ lines_cte }}.ordered_at,
                {{ lines_cte }}.amount
            order by {{ lines_cte }}.ordered_at
        ) as copy_number
    from {{ lines_cte }}

),

checked as (

    select
        order_id,
        customer_id,
        customer_id_as_given,
        order_status,
        is_flagged_cancelled,
        amount,
        quantity,
        ordered_at,
        cast(ordered_at as date) as order_date,
        case
            when customer_id is null then 'missing_customer_id'
            when order_id is null then 'missing_order_id'
            when ordered_at is null then 'unparseable_ordered_at'
            when amount is null then 'unparseable_amount'
            when cast(ordered_at as date) < {{ min_order_date_literal() }} then 'before_min_order_date'
            when copy_number > 1 then 'exact_duplicate_row'
        end as exclusion_reason,
        ordered_at_text,
        amount_text,
        source_row_fingerprint
    from numbered

)
{% endmacro %}
