{#-
    A database, schema or table name from configuration, checked before dbt renders it.
    dbt quotes source and relation names without doubling an embedded quote, so a name that
    contains a quote, a semicolon, a backslash or a control character is refused here with
    an error naming the setting; any other name (spaces, dashes, unicode) is kept as given.
    Column names never need this: they reach SQL through quote_identifier.
-#}
{% macro checked_name(value, setting) %}
    {%- if value is none -%}{{ return(none) }}{%- endif -%}
    {%- if value is not string or (value | trim | length) == 0 -%}
        {{ exceptions.raise_compiler_error("var " ~ setting ~ " must be a non-empty name, got: " ~ value) }}
    {%- endif -%}
    {%- set refused = ['"', "'", '`', ';', '\\'] -%}
    {%- for character in value -%}
        {%- if character in refused or character < ' ' or character == '\x7f' -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ setting ~ " must be a plain database, schema or table name without quotes, "
                ~ "semicolons, backslashes or control characters; got: " ~ (value | tojson)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(value) }}
{% endmacro %}
