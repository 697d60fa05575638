{#-
    The time dbt stamps on a snapshot change that has no `updated_at` of its own: the
    `dbt_valid_to` of a row whose key disappeared from the source, and the `dbt_valid_from`
    of the deletion record that `hard_deletes: new_record` adds for it.

    dbt uses the wall clock there. That is wrong for a snapshot of data *as of* a date: a
    replay that rebuilds twenty past months in one minute would close every deleted row at
    today's time, after the rows of later months. A snapshot that sets
    `meta: {snapshot_time_column: <column>}` gets the latest value of that column in its
    source instead (the as-of date of the build), so deletions are dated like every other
    change. Every other snapshot, and any call outside a snapshot, keeps dbt's behaviour.

    dbt dispatches `snapshot_get_time` to the adapter's own implementation before a
    project's `default__` one, so the override is written per adapter; on adapters not
    listed here snapshots keep the wall clock for deletions.
-#}
{% macro duckdb__snapshot_get_time() %}
    {{ return(_snapshot_time_from_source() or dbt.duckdb__snapshot_get_time()) }}
{% endmacro %}

{% macro default__snapshot_get_time() %}
    {{ return(_snapshot_time_from_source() or dbt.default__snapshot_get_time()) }}
{% endmacro %}

{#- The source's latest `snapshot_time_column` as a SQL expression, or none when not configured. -#}
{% macro _snapshot_time_from_source() %}
    {%- if model is not defined or model is none or model.get('resource_type') != 'snapshot' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set column = (model.get('config', {}).get('meta') or {}).get('snapshot_time_column') -%}
    {%- if not column -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set source_sql = model.get('compiled_code') -%}
    {%- if not source_sql -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("(select max(" ~ quote_identifier(column) ~ ") from (" ~ source_sql ~ ") as snapshot_source)") }}
{% endmacro %}
