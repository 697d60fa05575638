{#- The `as_of_date` var as a SQL date literal, or none when it is not set. Validated. -#}
{% macro as_of_date_literal() %}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
        {{ exceptions.raise_compiler_error("var as_of_date must be a date written YYYY-MM-DD (or null for the latest order date), got: " ~ value) }}
    {%- endif -%}
    {{ return("cast(" ~ quote_literal(value | string) ~ " as date)") }}
{% endmacro %}
