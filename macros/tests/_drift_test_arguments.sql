{#-
    Private helpers of the drift tests (segment_share_between, segment_share_change,
    segment_distribution_psi, segment_membership_churn): argument checks that name the test
    and the argument, so a typo in YAML stops the build with a clear message.
-#}

{#- `value` as a float within [lower, upper] (either may be none); numbers written as text
    (as a rendered "{{ var(...) }}" is) are accepted. -#}
{% macro _drift_number(test_name, argument, value, lower=none, upper=none) %}
    {%- set text = value | string | trim -%}
    {%- if value is none or value is boolean
            or not modules.re.fullmatch('[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?', text) -%}
        {{ exceptions.raise_compiler_error(test_name ~ ": `" ~ argument ~ "` must be a number, got: " ~ value) }}
    {%- endif -%}
    {%- set number = text | float -%}
    {%- if (lower is not none and number < lower) or (upper is not none and number > upper) -%}
        {{ exceptions.raise_compiler_error(test_name ~ ": `" ~ argument ~ "` must be from "
            ~ (lower if lower is not none else '-inf') ~ " to " ~ (upper if upper is not none else 'inf')
            ~ ", got: " ~ value) }}
    {%- endif -%}
    {{ return(number) }}
{% endmacro %}

{#- `value` as a list of column names (a single name is accepted and wrapped). -#}
{% macro _drift_columns(test_name, argument, value, allow_empty=true) %}
    {%- set columns = [value] if value is string else value -%}
    {%- if columns is none or columns is mapping or columns is not iterable -%}
        {{ exceptions.raise_compiler_error(test_name ~ ": `" ~ argument ~ "` must be a list of column names, got: " ~ value) }}
    {%- endif -%}
    {%- for column in columns -%}
        {%- if column is not string or (column | trim) == '' -%}
            {{ exceptions.raise_compiler_error(test_name ~ ": `" ~ argument ~ "` must be a list of column names, got: " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if not allow_empty and (columns | length) == 0 -%}
        {{ exceptions.raise_compiler_error(test_name ~ ": `" ~ argument ~ "` needs at least one column name.") }}
    {%- endif -%}
    {{ return(columns | list) }}
{% endmacro %}

{#- A column name argument that must be given. -#}
{% macro _drift_column(test_name, argument, value) %}
    {%- if value is not string or (value | trim) == '' -%}
        {{ exceptions.raise_compiler_error(test_name ~ ": `" ~ argument ~ "` must be a column name, got: " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}
