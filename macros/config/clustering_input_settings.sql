{#-
    The `clustering_input` var, validated: a mapping with the keys file, database, schema,
    table and id_column; names are checked by checked_name. Returns the mapping.
-#}
{% macro clustering_input_settings() %}
    {%- set settings = var('clustering_input', {}) or {} -%}
    {%- if settings is not mapping -%}
        {{ exceptions.raise_compiler_error("var clustering_input must be a mapping such as {file: data/survey.csv, id_column: CustomerID}; got: " ~ settings) }}
    {%- endif -%}
    {%- for key in settings -%}
        {%- if key not in ['file', 'database', 'schema', 'table', 'id_column'] -%}
            {{ exceptions.raise_compiler_error("Unknown key '" ~ key ~ "' in var clustering_input. Allowed keys: database, file, id_column, schema, table.") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for key in ['database', 'schema', 'table'] -%}
        {%- do checked_name(settings.get(key), 'clustering_input.' ~ key) -%}
    {%- endfor -%}
    {%- if settings.get('id_column') is not none and (settings['id_column'] is not string or (settings['id_column'] | length) == 0) -%}
        {{ exceptions.raise_compiler_error("var clustering_input.id_column must be the name of the customer id column, got: " ~ settings['id_column']) }}
    {%- endif -%}
    {{ return(settings) }}
{% endmacro %}
