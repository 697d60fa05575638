{#-
    The `min_order_date` var as a SQL date literal: the earliest plausible order date.
    Orders dated before it (year 1, BC, 1900, the text 'epoch') are excluded and counted as
    `before_min_order_date`. Validated: a date written YYYY-MM-DD, default 1970-01-01.
-#}
{% macro min_order_date_literal() %}
    {%- set value = var('min_order_date', '1970-01-01') -%}
    {%- if value is not string or not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error("var min_order_date must be a date written YYYY-MM-DD (quoted in YAML, e.g. '1970-01-01'), got: " ~ value) }}
    {%- endif -%}
    {{ return("cast(" ~ quote_literal(value) ~ " as date)") }}
{% endmacro %}
