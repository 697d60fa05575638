{#- A SQL string literal for any value: single quotes are doubled, so the value stays data. -#}
{% macro quote_literal(value) %}
    {{ return(adapter.dispatch('quote_literal', 'customer_segmentation')(value)) }}
{% endmacro %}

{% macro default__quote_literal(value) %}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{% endmacro %}

{% macro bigquery__quote_literal(value) %}
    {{ return("'" ~ (value | string | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'") }}
{% endmacro %}
