{#- The one reference date every feature is computed at, and where it came from. -#}
{#- From the stored per-order-day rows (every line is in one), not a rescan of the lines:
    amount is the line's amount on an excluded row and the sum of readable amounts on a
    counted one. -#}
with order_lines as (

    select * from {{ ref('int_order_lines_grouped') }}

),

latest_order as (

    select max(order_date) as latest_order_date
    from order_lines
    where
        customer_id is not null
        and amount is not null
        and order_date <= cast({{ dbt.current_timestamp() }} as date)
        and order_date >= {{ min_order_date_literal() }}

),

resolved as (

    select
        {% if as_of_date_literal() is not none -%}
        {{ as_of_date_literal() }} as as_of_date,
        'var as_of_date' as as_of_date_source,
        {%- else -%}
        coalesce(latest_order_date, cast({{ dbt.current_timestamp() }} as date)) as as_of_date,
        case
            when latest_order_date is not null then 'latest order date'
            else 'build date (no dated orders)'
        end as as_of_date_source,
        {%- endif %}
        latest_order_date
    from latest_order

)

select * from resolved
