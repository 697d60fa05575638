{#- true/t/yes/y/1 -> true, false/f/no/n/0 -> false, anything else -> null. -#}
{% macro parse_boolean(expression) %}
    {%- set text = "lower(" ~ clean_text(expression) ~ ")" -%}
    {{ return("case when " ~ text ~ " in ('true', 't', 'yes', 'y', '1') then true when " ~ text ~ " in ('false', 'f', 'no', 'n', '0') then false end") }}
{% endmacro %}
