{#-
    on-run-start, before any node is written (README "Robustness"): checks that can fail on
    configuration or on the history, so a doomed build stops before it writes anything.

    - every input the vars point at exists: `orders_input`, `customers_input` and
      `clustering_input` (a `table` in its schema, a `file` on disk);
    - an `as_of_date` set by var is not earlier than the history this build extends (the
      snapshot and segment_size_history / segment_transitions), when the run writes the
      history. With `as_of_date: null` the date is only known once the orders are read;
      the snapshot's pre-hook then stops the build (assert_history_in_date_order) and
      write-audit-publish keeps it from reaching BI or the next build.
    Unknown vars are caught just before, by validate_vars.
-#}
{% macro guard_before_work() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- for kind in ['orders', 'customers'] -%}
        {%- set settings = input_settings(kind) -%}
        {%- if settings['enabled'] -%}
            {%- do _guard_input_exists(kind ~ '_input', settings) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set clustering = var('clustering_input', {}) or {} -%}
    {%- if clustering is mapping -%}
        {%- do _guard_input_exists('clustering_input', clustering) -%}
    {%- endif -%}
    {%- do _guard_history_date_order() -%}
    {{ return('') }}
{% endmacro %}

{% macro _guard_input_exists(var_name, settings) %}
    {%- if settings.get('file') -%}
        {%- if not input_file_exists(settings['file']) -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".file: no file matches '" ~ settings['file'] ~ "' (relative paths start at the project directory). Nothing was built.") }}
        {%- endif -%}
    {%- elif settings.get('table') -%}
        {%- set database = settings.get('database') or target.database -%}
        {%- set schema = settings.get('schema') or target.schema -%}
        {%- if adapter.get_relation(database, schema, settings['table']) is none -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".table: there is no table or view '" ~ settings['table'] ~ "' in schema '" ~ schema ~ "' of database '" ~ database ~ "' (set " ~ var_name ~ ".schema / .database if it lives elsewhere). Nothing was built.") }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- The latest as-of date of the history the build extends must not be after var as_of_date. -#}
{% macro _guard_history_date_order() %}
    {%- set literal = as_of_date_literal() -%}
    {%- if literal is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set history = [] -%}
    {%- for node in wap_nodes('state') if node.resource_type == 'snapshot' or node.original_file_path.startswith('models/history/') -%}
        {%- do history.append(node) -%}
    {%- endfor -%}
    {%- set selected = selected_resources if selected_resources is defined else none -%}
    {%- set writes_history = [] -%}
    {%- for node in history if selected is none or node.unique_id in selected -%}
        {%- do writes_history.append(node) -%}
    {%- endfor -%}
    {%- if not writes_history -%}
        {{ return('') }}
    {%- endif -%}
    {#- The history this build extends: the published one, and the build schema's when the last
        invocation left it clean (otherwise it is restored from the published one first). -#}
    {%- set build_is_clean = wap_build_is_clean() -%}
    {%- set checks = [] -%}
    {%- for node in history -%}
        {%- set column = 'dbt_valid_from' if node.resource_type == 'snapshot' else 'as_of_date' -%}
        {%- set candidates = [wap_published_relation(node)] + ([wap_build_relation(node)] if build_is_clean else []) -%}
        {%- for candidate in candidates -%}
            {%- set relation = adapter.get_relation(candidate.database, candidate.schema, candidate.identifier) -%}
            {%- if relation is not none -%}
                {%- do checks.append('select cast(max(' ~ quote_identifier(column) ~ ') as date) as latest_date, '
                                     ~ quote_literal(relation | string) ~ ' as relation_name from ' ~ relation) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not checks -%}
        {{ return('') }}
    {%- endif -%}
    {%- set query -%}
        select latest_date, relation_name, {{ literal }} as build_date
        from ({{ checks | join(' union all ') }}) as history_dates
        where latest_date > {{ literal }}
        order by latest_date desc
        limit 1
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "var as_of_date: the customer_segments history already holds the as-of date " ~ rows[0][0]
            ~ ", later than this build's as_of_date " ~ rows[0][2] ~ " (in " ~ rows[0][1]
            ~ "). History is built in date order, so nothing was built. Build this date "
            ~ "without the history (--exclude customer_segments_snapshot+), or rebuild the history from the start "
            ~ "with `make replay FROM=... TO=... RESET=1` (scripts/replay.py --reset).") }}
    {%- endif -%}
{% endmacro %}

{#- True when `path` names at least one existing file (a glob may name several). -#}
{% macro input_file_exists(path) %}
    {{ return(adapter.dispatch('input_file_exists')(path)) }}
{% endmacro %}

{% macro default__input_file_exists(path) %}
    {#- Files are read on DuckDB only (read_input_file); elsewhere the reader reports it. -#}
    {{ return(true) }}
{% endmacro %}

{% macro duckdb__input_file_exists(path) %}
    {%- if '://' in path -%}
        {#- Remote files (s3://, https://) are checked by the reader itself. -#}
        {{ return(true) }}
    {%- endif -%}
    {%- set rows = run_query('select count(*) from glob(' ~ quote_literal(path) ~ ')').rows -%}
    {{ return(rows[0][0] > 0) }}
{% endmacro %}
