{#-
    An identifier as clean text: trimmed, empty -> null, and a float-formatted integer such
    as '12923.0' (how spreadsheets and pandas write integer ids) becomes '12923'.
-#}
{% macro normalize_id(expression) %}
    {{ return(adapter.dispatch('normalize_id', 'customer_segmentation')(expression)) }}
{% endmacro %}

{% macro default__normalize_id(expression) %}
    {{ return("regexp_replace(" ~ clean_text(expression) ~ ", '^([0-9]+)\\.0+$', '\\1')") }}
{% endmacro %}
