{#-
    What this build reads again of the orders input, decided from the stored state before
    int_order_lines_grouped is rebuilt (one row; macros/incremental/order_lines_state.sql):
    every line (a full read), or the lines from `reread_from_date` on (the watermark minus
    var incremental_lookback_days) plus the undated and pre-min_order_date lines. Every
    model of the order-line state reads this row. Before an incremental read, the guard
    checks that the days before the window are unchanged in the input (from the figures
    per file of int_order_input_file_days when the input is listed by file).
-#}
{%- set stored = order_lines_stored_relation() -%}
{%- set slice = order_lines_slice(stored) -%}
-- depends_on: {{ ref('int_order_input_file_days') }}
{{ assert_order_lines_unchanged_before(slice, stored, ref('stg_orders'), ref('int_order_input_file_days')) }}
select
    {{ 'true' if slice['full'] else 'false' }} as is_full_read,
    cast({{ quote_literal(slice['cutoff']) if slice['cutoff'] else 'null' }} as date) as reread_from_date,
    cast({{ quote_literal(slice['previous_as_of']) if slice['previous_as_of'] else 'null' }} as date) as previous_as_of_date,
    cast({{ quote_literal(slice['reason']) }} as {{ dbt.type_string() }}) as reason
