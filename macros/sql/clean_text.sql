{#- Trim a value as text; empty strings become null. -#}
{% macro clean_text(expression) %}
    {{ return("nullif(trim(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ ")), '')") }}
{% endmacro %}
