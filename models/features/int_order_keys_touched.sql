{#-
    The (customer, order) keys whose order and customer rows this build derives again
    (an incremental build; empty on a full read, when everything is derived again): the
    keys of the stored rows read again (int_order_keys_reread), those of the rows read in
    now, and those with a row dated between the stored as-of date and this build's (the
    as-of date decides which lines count). Every other order and customer row is kept as
    stored. customer_id or order_id is empty on excluded lines without it.
-#}
{%- set window = order_lines_window(true) -%}
-- depends_on: {{ ref('int_order_lines_window') }}
-- depends_on: {{ ref('int_order_lines_grouped') }}
-- depends_on: {{ ref('int_as_of_date') }}
with reread as (

    select customer_id, order_id from {{ ref('int_order_keys_reread') }}

),

{%- if window['full'] %}

touched as (

    select customer_id, order_id from reread
    where false

)
{%- else %}
{%- set previous = 'cast(' ~ quote_literal(window['previous_as_of']) ~ ' as date)' %}

{#- Read twice below: inlined, not materialized (DuckDB would copy every stored row first). #}
order_lines as {{ cte_not_materialized() }} (

    select * from {{ ref('int_order_lines_grouped') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

read_in as (

    select customer_id, order_id from order_lines
    where {{ order_lines_slice_predicate(window, 'order_date') }}

),

across_the_as_of_dates as (

    select order_lines.customer_id, order_lines.order_id
    from order_lines
    cross join as_of
    where
        order_lines.order_date > least({{ previous }}, as_of.as_of_date)
        and order_lines.order_date <= greatest({{ previous }}, as_of.as_of_date)

),

touched as (

    select customer_id, order_id from reread
    union
    select customer_id, order_id from read_in
    union
    select customer_id, order_id from across_the_as_of_dates

)
{%- endif %}

select * from touched
