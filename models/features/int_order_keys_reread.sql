{#-
    The (customer, order) keys of the stored rows of int_order_lines_grouped that this build
    deletes and reads again (the window of int_order_lines_window), taken before the table
    is rebuilt: an order whose lines in the window were deleted upstream is derived again
    too. Empty on a full read.
-#}
{%- set window = order_lines_window(true) -%}
{%- set stored = order_lines_stored_relation() -%}
{%- set text = dbt.type_string() -%}
{%- if window['full'] or stored is none %}
select
    cast(null as {{ text }}) as customer_id,
    cast(null as {{ text }}) as order_id
from {{ ref('int_order_lines_window') }}
where false
{%- else %}
-- depends_on: {{ ref('int_order_lines_window') }}
select distinct
    customer_id,
    order_id
from {{ stored }}
where {{ order_lines_slice_predicate(window, 'order_date') }}
{%- endif %}
