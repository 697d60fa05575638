{#- The `rfm_bins` var, validated: an integer from 2 to 9 (so a cell code has one digit per score). -#}
{% macro rfm_bins() %}
    {%- set value = var('rfm_bins', 5) -%}
    {%- if value is not number or value != (value | int) or value < 2 or value > 9 -%}
        {{ exceptions.raise_compiler_error("var rfm_bins must be an integer from 2 to 9, got: " ~ value) }}
    {%- endif -%}
    {{ return(value | int) }}
{% endmacro %}
