{#-
    Parse a value to a timestamp; unparseable values become null (and are counted by the
    data-quality checks) instead of failing the build. `format` is a strptime format or none.
-#}
{% macro parse_timestamp(expression, format=none) %}
    {{ return(adapter.dispatch('parse_timestamp', 'customer_segmentation')(expression, format)) }}
{% endmacro %}

{% macro default__parse_timestamp(expression, format=none) %}
    {{ return(try_cast(clean_text(expression), api.Column.translate_type('timestamp'))) }}
{% endmacro %}

{% macro duckdb__parse_timestamp(expression, format=none) %}
    {%- if format -%}
        {{ return('try_strptime(' ~ clean_text(expression) ~ ', ' ~ quote_literal(format) ~ ')') }}
    {%- else -%}
        {{ return('try_cast(' ~ clean_text(expression) ~ ' as timestamp)') }}
    {%- endif -%}
{% endmacro %}
