{#- Quote an identifier, doubling any embedded quote character so a name can never break out. -#}
{% macro quote_identifier(name) %}
    {{ return(adapter.dispatch('quote_identifier', 'customer_segmentation')(name)) }}
{% endmacro %}

{% macro default__quote_identifier(name) %}
    {{ return('"' ~ (name | string | replace('"', '""')) ~ '"') }}
{% endmacro %}

{% macro bigquery__quote_identifier(name) %}
    {{ return('`' ~ (name | string | replace('`', '\\`')) ~ '`') }}
{% endmacro %}

{#- Spark SQL: a double-quoted name is a string literal there; backticks, doubled inside. -#}
{% macro spark__quote_identifier(name) %}
    {{ return('`' ~ (name | string | replace('`', '``')) ~ '`') }}
{% endmacro %}
