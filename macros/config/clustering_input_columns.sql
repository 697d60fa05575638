{#-
    The feature columns the clustering reads (numeric, then categorical), validated: each
    var must be a list of column names. Names are quoted wherever they reach SQL.
-#}
{% macro clustering_feature_columns(kind='all') %}
    {%- set columns = [] -%}
    {%- set var_names = {'numeric': ['cluster_features'], 'categorical': ['cluster_categorical_features'],
                         'all': ['cluster_features', 'cluster_categorical_features']}[kind] -%}
    {%- for var_name in var_names -%}
        {%- set listed = var(var_name) or [] -%}
        {%- if listed is string or listed is not iterable -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ " must be a list of column names, got: " ~ listed) }}
        {%- endif -%}
        {%- for name in listed -%}
            {%- if name is not string or (name | length) == 0 -%}
                {{ exceptions.raise_compiler_error("var " ~ var_name ~ " must list column names; got: " ~ name) }}
            {%- endif -%}
            {%- do columns.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}
