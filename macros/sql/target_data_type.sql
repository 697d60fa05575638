{#-
    A type declared in the project's neutral spelling - seed column types in dbt_project.yml,
    contract data types in the models' YAML (`varchar`, `integer`, `double`, ...) - as the
    target's type. YAML and dbt_project.yml cannot call macros, so the spelling there is
    one, and this is where each engine's differs.
-#}
{% macro target_data_type(declared_type) %}
    {{ return(adapter.dispatch('target_data_type', 'customer_segmentation')(declared_type)) }}
{% endmacro %}

{% macro default__target_data_type(declared_type) %}
    {{ return(declared_type) }}
{% endmacro %}

{% macro spark__target_data_type(declared_type) %}
    {%- set lowered = declared_type | lower | trim -%}
    {%- if lowered in ['varchar', 'text', 'string'] or lowered.startswith('varchar(') -%}
        {{ return('string') }}
    {%- elif lowered == 'integer' -%}
        {{ return('int') }}
    {%- endif -%}
    {{ return(declared_type) }}
{% endmacro %}
