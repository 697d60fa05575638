{#-
    Every customer id of the orders input, from the stored rows of int_order_lines_grouped
    (one per customer, order and day, or per excluded line), not from the lines again, and
    whether the customer has a line up to the as-of date: unless every line is dated after
    it. Lines excluded for their id, date or amount count as "up to" it (those checks come
    before the as-of date), duplicates do not (a copy of a later line is after it too).
    Incremental on DuckDB: only the customers of int_order_keys_touched are derived again.
-#}
{%- set window = order_lines_window(is_incremental()) -%}
{{ config(
    pre_hook="{{ order_state_delete('customer') }}",
    **order_lines_state_config()
) }}
-- depends_on: {{ ref('int_order_lines_window') }}
-- depends_on: {{ ref('int_order_keys_touched') }}
with order_lines as (

    select * from {{ ref('int_order_lines_grouped') }}
    where
        customer_id is not null
        {%- if not window['full'] %}
        and {{ touched_customers_predicate('customer_id') }}
        {%- endif %}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

order_customers as (

    select
        order_lines.customer_id,
        {{ dbt.bool_or(
            "(order_lines.exclusion_reason is not null and order_lines.exclusion_reason <> 'exact_duplicate_row')"
            ~ " or order_lines.order_date <= as_of.as_of_date") }} as has_lines_up_to_as_of_date
    from order_lines
    cross join as_of
    group by 1

)

select * from order_customers
