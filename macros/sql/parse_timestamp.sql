{#-
    Parse a value to a timestamp; unparseable values become null (and are counted by the
    data-quality checks) instead of failing the build. `format` is a strptime format or none;
    `source_type` the value's database type when known (see input_columns), else none.
-#}
{% macro parse_timestamp(expression, format=none, source_type=none) %}
    {{ return(adapter.dispatch('parse_timestamp', 'customer_segmentation')(expression, format, source_type)) }}
{% endmacro %}

{% macro default__parse_timestamp(expression, format=none, source_type=none) %}
    {{ return(try_cast(clean_text(expression), api.Column.translate_type('timestamp'))) }}
{% endmacro %}

{#- A timestamp or date column read without a format is cast directly: the same value as
    through its text, without writing and re-reading 20M timestamps. -#}
{% macro duckdb__parse_timestamp(expression, format=none, source_type=none) %}
    {%- if format -%}
        {{ return('try_strptime(' ~ clean_text(expression) ~ ', ' ~ quote_literal(format) ~ ')') }}
    {%- elif source_type in ['TIMESTAMP', 'DATE'] -%}
        {{ return('try_cast(' ~ expression ~ ' as timestamp)') }}
    {%- else -%}
        {{ return('try_cast(' ~ clean_text(expression) ~ ' as timestamp)') }}
    {%- endif -%}
{% endmacro %}
