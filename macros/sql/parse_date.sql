{#- Parse a value to a date; unparseable values become null. -#}
{% macro parse_date(expression, format=none) %}
    {{ return(adapter.dispatch('parse_date', 'customer_segmentation')(expression, format)) }}
{% endmacro %}

{% macro default__parse_date(expression, format=none) %}
    {{ return(try_cast(clean_text(expression), 'date')) }}
{% endmacro %}

{% macro duckdb__parse_date(expression, format=none) %}
    {%- if format -%}
        {{ return('cast(try_strptime(' ~ clean_text(expression) ~ ', ' ~ quote_literal(format) ~ ') as date)') }}
    {%- else -%}
        {{ return('cast(try_cast(' ~ clean_text(expression) ~ ' as timestamp) as date)') }}
    {%- endif -%}
{% endmacro %}
