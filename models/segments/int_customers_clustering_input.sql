{#-
    The customer-level table the k-means models read: customer_id plus the configured
    feature columns. By default these come from customer_features; var clustering_input can
    point at any other customer-level table or file (for example a survey with no orders).
    Feature columns keep their own names so the cluster rules read in the user's terms.
-#}
{%- set settings = clustering_input_settings() -%}
{%- if settings.get('file') -%}
    {%- set relation = read_input_file(settings['file']) -%}
{%- elif settings.get('table') -%}
    {%- set relation = api.Relation.create(database=settings.get('database') or target.database,
                                            schema=settings.get('schema') or target.schema,
                                            identifier=settings['table']) -%}
{%- else -%}
    {%- set relation = ref('customer_features') -%}
{%- endif -%}
{%- set id_column = settings.get('id_column') or 'customer_id' -%}
{%- set wanted = clustering_feature_columns('all') -%}
{%- set optional = var('cluster_optional_features') or [] -%}
{%- set categorical = clustering_feature_columns('categorical') -%}
{%- set selected = [] -%}
{%- if execute -%}
    {%- set available = run_query('select * from ' ~ relation ~ ' where 1 = 0').column_names | list -%}
    {%- if id_column not in available -%}
        {{ exceptions.raise_compiler_error("The clustering input (" ~ relation ~ ") has no id column '" ~ id_column ~ "'. Its columns are: " ~ (available | join(', ')) ~ ". Set var clustering_input.id_column.") }}
    {%- endif -%}
    {%- for name in wanted -%}
        {%- if name in available -%}
            {%- do selected.append(name) -%}
        {%- elif name not in optional -%}
            {{ exceptions.raise_compiler_error("The clustering feature '" ~ name ~ "' (var cluster_features / cluster_categorical_features) is not a column of the clustering input (" ~ relation ~ "). Its columns are: " ~ (available | join(', ')) ~ ".") }}
        {%- endif -%}
    {%- endfor -%}
{%- else -%}
    {%- set selected = wanted -%}
{%- endif -%}

with source as (

    select * from {{ relation }}

),

selected as (

    select
        {{ normalize_id(quote_identifier(id_column)) }} as customer_id
        {%- for name in selected %},
        {% if name in categorical -%}
        {{ clean_text(quote_identifier(name)) }} as {{ quote_identifier(name) }}
        {%- else -%}
        {{ try_cast(quote_identifier(name), type_double()) }} as {{ quote_identifier(name) }}
        {%- endif -%}
        {%- endfor %}
    from source

)

select * from selected
