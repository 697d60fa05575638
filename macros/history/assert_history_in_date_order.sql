{#-
    Pre-hook of customer_segments_snapshot: stop the build before the snapshot is written when
    its source describes an earlier as-of date than the history already holds. History is
    kept in date order (a replay goes oldest first); a build for an earlier date would close
    current rows before they were opened. Building the same date again is allowed.

    `time_column` is the source column with the as-of date; `history_models` are names of
    models that also keep one row set per as-of date in that column (checked when they exist);
    `own_time_column` is the date column of the hooked relation itself (the snapshot's
    dbt_valid_from, or as_of_date for int_customer_segment_states on Spark).
    Renders no SQL: the check runs in Jinja and raises a compiler error naming the dates.
-#}
{% macro assert_history_in_date_order(time_column, history_models=[], own_time_column='dbt_valid_from') %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set checks = [] -%}
    {%- set snapshot_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if snapshot_relation is not none -%}
        {%- do checks.append("select max(" ~ quote_identifier(own_time_column) ~ ") as latest_date from " ~ snapshot_relation) -%}
    {%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name in history_models -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- if relation is not none -%}
            {%- do checks.append("select max(" ~ quote_identifier(time_column) ~ ") as latest_date from " ~ relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if checks -%}
        {%- set query -%}
            select
                (select max(latest_date) from ({{ checks | join(' union all ') }}) as history_dates) as history_date,
                (select max({{ quote_identifier(time_column) }}) from ({{ model['compiled_code'] }}) as snapshot_source) as source_date
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- if row[0] is not none and row[1] is not none and row[1] < row[0] -%}
            {{ exceptions.raise_compiler_error(
                "customer_segments history already holds the as-of date " ~ row[0] ~ ", later than this build's "
                ~ time_column ~ " " ~ row[1] ~ ". History is built in date order: build this date without the history "
                ~ "(--exclude " ~ model['name'] ~ "+), or rebuild the history from the start with "
                ~ "`make replay FROM=... TO=... RESET=1` (scripts/replay.py --reset).") }}
        {%- endif -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
