{#-
    The per-line checks, as CTEs `repeated_fingerprints`, `numbered` and `checked` over a
    CTE of staged lines named `lines_cte` (the columns of stg_orders). Shared by the view int_order_lines_checked (every
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
    and amount. Copies share their time, so they always fall on the same day of an
    incremental slice. The window runs only on the lines whose fingerprint occurs more than
    once (found by one hash aggregation on one bigint): on 20M lines with a handful of
    copies, that halves the cost of the checks against one window over every line (measured
    at 1M customers, README "Benchmarks"). The lines CTE is read twice, so the caller
    defines it with the keyword of cte_not_materialized(): materializing 20M lines would cost more than
    reading them again.
-#}
repeated_fingerprints as (

    select source_row_fingerprint
    from {{ lines_cte }}
    group by source_row_fingerprint
    having count(*) > 1

),

numbered as (

    select
        {{ lines_cte }}.*,
        cast(1 as {{ dbt.type_bigint() }}) as copy_number
    from {{ lines_cte }}
    where {{ lines_cte }}.source_row_fingerprint not in (select source_row_fingerprint from repeated_fingerprints)

    union all

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
    where {{ lines_cte }}.source_row_fingerprint in (select source_row_fingerprint from repeated_fingerprints)

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
        source_row_fingerprint,
        source_file_name
    from numbered

)
{% endmacro %}

{#-
    The keyword that makes a CTE read more than once be inlined, not materialized
    (`with x as` + this keyword + `(...)`). DuckDB materializes such CTEs by
    default; Spark inlines them and has no keyword.
-#}
{% macro cte_not_materialized() %}
    {{ return(adapter.dispatch('cte_not_materialized', 'customer_segmentation')()) }}
{% endmacro %}

{% macro default__cte_not_materialized() %}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__cte_not_materialized() %}
    {{ return('not materialized') }}
{% endmacro %}
