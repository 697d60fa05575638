{#-
    dbt.listagg on Spark. dbt-spark's own version drops the `order by` (with only a warning),
    so the texts this project builds from ordered lists (segment cards, rule descriptions)
    would come out in any order. Spark 4 has listagg ... within group (order by ...), which
    keeps it. This root-project macro overrides dbt-spark's spark__listagg for dbt.listagg.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("spark__listagg: limit_num is not supported by this project's Spark shim (not used by the project).") }}
    {%- endif -%}
    {%- if order_by_clause -%}
        {{ return("listagg(" ~ measure ~ ", " ~ delimiter_text ~ ") within group (" ~ order_by_clause ~ ")") }}
    {%- endif -%}
    {{ return("listagg(" ~ measure ~ ", " ~ delimiter_text ~ ")") }}
{%- endmacro %}
