{#-
    Contracts on Spark: dbt checks a model's columns against the types declared in YAML by
    casting nulls to them (get_empty_schema_sql). The YAML declares the project's neutral
    spelling (`varchar`, which Spark rejects without a length), so each type goes through
    target_data_type first. Overrides the dbt macro for Spark only.
-#}
{% macro spark__get_empty_schema_sql(columns) %}
    {%- set translated = {} -%}
    {%- for name in columns -%}
        {%- set column = {} -%}
        {%- do column.update(columns[name]) -%}
        {%- if column.get('data_type') is not none -%}
            {%- do column.update({'data_type': target_data_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: column}) -%}
    {%- endfor -%}
    {{ return(default__get_empty_schema_sql(translated)) }}
{% endmacro %}
