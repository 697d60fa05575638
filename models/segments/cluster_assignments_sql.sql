{#-
    The latest cluster model applied in plain SQL, no Python needed: nearest stored centroid
    and the decision-tree rules as CASE. This is how a warehouse without Python scores new
    customers; tests check it agrees with the Python model for every customer.
-#}
{%- set input_relation = ref('int_customers_clustering_input') -%}
{#- Nearest-centroid SQL only where it reproduces the method (cluster_models.is_centroid_scoring_faithful). -#}
{%- set centroid_scoring = true -%}
{%- set numeric_columns = [] -%}
{%- set categorical_columns = [] -%}
{%- if execute -%}
    {%- set available = run_query('select * from ' ~ input_relation ~ ' where 1 = 0').column_names | list -%}
    {%- for name in clustering_feature_columns('numeric') if name in available -%}{%- do numeric_columns.append(name) -%}{%- endfor -%}
    {%- for name in clustering_feature_columns('categorical') if name in available -%}{%- do categorical_columns.append(name) -%}{%- endfor -%}
    {%- set faithful = run_query('select is_centroid_scoring_faithful from ' ~ ref('cluster_models') ~ ' order by model_version desc limit 1') -%}
    {%- set centroid_scoring = faithful.rows | length == 0 or faithful.rows[0][0] is none or faithful.rows[0][0] -%}
{%- endif -%}
-- depends_on: {{ ref('cluster_models') }}

with clustering_input as (

    select * from {{ input_relation }}

),

nearest_centroid as (

    {{ score_nearest_centroid(
        input_relation,
        ref('cluster_preprocessing'),
        ref('cluster_centroids'),
        numeric_columns,
        categorical_columns) | indent(4) }}

),

tree_rules as (

    select
        customer_id,
        {{ cluster_rules_case(ref('cluster_rules'), 'leaf_id') }} as tree_leaf_id,
        {{ cluster_rules_case(ref('cluster_rules'), 'cluster_id') }} as tree_cluster_id
    from clustering_input

),

final as (

    select
        tree_rules.customer_id,
        {% if centroid_scoring -%}
        nearest_centroid.cluster_id as nearest_cluster_id,
        nearest_centroid.distance_to_centroid,
        nearest_centroid.distance_to_second,
        {%- else -%}
        cast(null as integer) as nearest_cluster_id,
        cast(null as {{ type_double() }}) as distance_to_centroid,
        cast(null as {{ type_double() }}) as distance_to_second,
        {%- endif %}
        tree_rules.tree_leaf_id,
        tree_rules.tree_cluster_id
    from tree_rules
    left join nearest_centroid
        on tree_rules.customer_id = nearest_centroid.customer_id

)

select * from final
