{#-
    The customer_features columns a business rule may test, from the vars
    business_rule_numeric_columns / business_rule_text_columns. Each name must be a plain
    identifier, so a var can never smuggle SQL into the generated CASE expressions.
-#}
{% macro business_rule_columns(kind) %}
    {%- set var_name = 'business_rule_' ~ kind ~ '_columns' -%}
    {%- set columns = var(var_name) -%}
    {%- if columns is string or columns is not iterable -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ " must be a list of column names, got: " ~ columns) }}
    {%- endif -%}
    {%- for column in columns -%}
        {%- if column is not string or not modules.re.fullmatch('[a-z_][a-z0-9_]*', column) -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ " must list plain lower-case column names of customer_features; '" ~ column ~ "' is not one.") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}
