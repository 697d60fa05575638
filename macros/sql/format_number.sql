{#-
    A number as short text for sentences such as segment cards: whole numbers from 100 up,
    one decimal from 1 up, two decimals below 1 (so a rate of 0.034 reads 0.03, not 0.0).
    A value that rounds to zero reads 0, never -0.0 (adding 0.0 turns IEEE -0.0 into 0.0).
    Null stays null.
-#}
{% macro format_number(expression) %}
    {%- set text = dbt.type_string() -%}
    {{ return(
        "case"
        ~ " when abs(" ~ expression ~ ") >= 100 then cast(cast(round(" ~ expression ~ ", 0) as " ~ dbt.type_bigint() ~ ") as " ~ text ~ ")"
        ~ " when abs(" ~ expression ~ ") >= 1 then cast(round(" ~ expression ~ ", 1) + 0.0 as " ~ text ~ ")"
        ~ " else cast(round(" ~ expression ~ ", 2) + 0.0 as " ~ text ~ ")"
        ~ " end"
    ) }}
{% endmacro %}
