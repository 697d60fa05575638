{#-
    The rows a generic data test reads, with the incremental test scope (README
    "Incremental daily builds"). dbt calls get_where_subquery for the model every generic
    test is attached to; this project's version keeps dbt's (the `where` config) and,
    when the tested model declares `meta: {incremental_test_scope: ...}` (dbt_project.yml:
    the order-line, order and customer state) and the state was last built incrementally
    (int_order_lines_window says so), narrows the test to the rows that build derived
    again:
      lines:    the rows of int_order_lines_grouped read in (order_lines_slice_predicate);
      order:    the rows of the (customer, order) keys of int_order_keys_touched;
      customer: the rows of the customers of int_order_keys_touched.
    Every other row is as the previous build stored and tested it: the state is dropped
    and rebuilt in full after an unclean build, so a kept row passed these tests before.
    A duplicate key needs the key to have been derived again (the pre-hooks delete by the
    same keys), so uniqueness is checked as strictly. A full read (first build,
    `--full-refresh`, changed settings) tests every row; so does every build on an engine
    whose state is a plain table (Spark).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set tested = adapter.dispatch('get_where_subquery', 'dbt')(relation) -%}
    {%- set scope = incremental_test_scope() -%}
    {%- if scope is none -%}
        {{ return(tested) }}
    {%- endif -%}
    {%- set window = scope['window'] -%}
    {%- if scope['kind'] == 'lines' -%}
        {%- set predicate = order_lines_slice_predicate(window, 'scoped.order_date') -%}
    {%- elif scope['kind'] == 'order' -%}
        {%- set predicate = 'exists (select 1 from ' ~ scope['touched'] ~ ' as touched where touched.customer_id = scoped.customer_id and touched.order_id = scoped.order_id)' -%}
    {%- else -%}
        {%- set predicate = 'scoped.customer_id in (select customer_id from ' ~ scope['touched'] ~ ' where customer_id is not null)' -%}
    {%- endif -%}
    {{ return('(select scoped.* from ' ~ tested ~ ' as scoped where ' ~ predicate ~ ') dbt_incremental_scope') }}
{%- endmacro %}

{#-
    The incremental test scope of the generic test being compiled, or none (test every row):
    {'kind': 'lines' | 'order' | 'customer', 'window': the stored window, 'touched': the
    relation int_order_keys_touched}. None at parse time, for tests not attached to a model
    with meta incremental_test_scope, and when the stored window is a full read or missing.
-#}
{% macro incremental_test_scope() %}
    {%- if not execute or model is not defined or model.resource_type != 'test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set attached = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- set kind = ((attached or {}).get('config', {}).get('meta') or {}).get('incremental_test_scope') -%}
    {%- if kind is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if kind not in ('lines', 'order', 'customer') -%}
        {{ exceptions.raise_compiler_error("meta incremental_test_scope of " ~ attached.name ~ " must be 'lines', 'order' or 'customer', got: " ~ kind) }}
    {%- endif -%}
    {%- if order_lines_state_config()['materialized'] != 'incremental' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set window_relation = stored_model_relation('int_order_lines_window') -%}
    {%- set touched = stored_model_relation('int_order_keys_touched') -%}
    {%- if window_relation is none or touched is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query('select is_full_read, cast(reread_from_date as ' ~ dbt.type_string() ~ ') as cutoff from ' ~ window_relation).rows -%}
    {%- if rows | length != 1 or rows[0]['is_full_read'] in (true, 'true', 'True', 1) or rows[0]['cutoff'] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'kind': kind, 'touched': touched,
               'window': {'full': false, 'cutoff': (rows[0]['cutoff'] | string)[:10]}}) }}
{% endmacro %}
