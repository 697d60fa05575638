{#- Parse a value to an exact numeric; unparseable values become null. -#}
{% macro parse_number(expression) %}
    {{ return(try_cast(clean_text(expression), dbt.type_numeric())) }}
{% endmacro %}
