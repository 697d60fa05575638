{#- A hash of every listed column of a row, used to find exact duplicate rows. -#}
{% macro row_fingerprint(column_expressions) %}
    {{ return(adapter.dispatch('row_fingerprint', 'customer_segmentation')(column_expressions)) }}
{% endmacro %}

{% macro default__row_fingerprint(column_expressions) %}
    {%- set parts = [] -%}
    {%- for column in column_expressions -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
    {%- endfor -%}
    {{ return("md5(" ~ parts | join(" || '|' || ") ~ ")") }}
{% endmacro %}

{% macro duckdb__row_fingerprint(column_expressions) %}
    {{ return("hash(" ~ column_expressions | join(', ') ~ ")") }}
{% endmacro %}
