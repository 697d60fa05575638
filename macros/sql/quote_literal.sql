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

{#-
    Spark SQL reads backslash escapes in string literals, and two adjacent literals
    ('it''s') are concatenated ('its') rather than read as an escaped quote: escape the
    backslash and the quote with a backslash.
-#}
{% macro spark__quote_literal(value) %}
    {{ return("'" ~ (value | string | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'") }}
{% endmacro %}
