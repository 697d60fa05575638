{#-
    The latest cluster model applied in plain SQL, no Python needed: nearest stored centroid
    and the decision-tree rules as CASE. This is how a warehouse without Python scores new
    customers; tests check it agrees with the Python model for every customer.
-#}
{%- set input_relation = ref('int_customers_clustering_input') -%}
{%- set numeric_columns = [] -%}
{%- set categorical_columns = [] -%}
{%- if execute -%}
    {%- set available = run_query('select * from ' ~ input_relation ~ ' where 1 = 0').column_names | list -%}
    {%- for name in clustering_feature_columns('numeric') if name in available -%}{%- do numeric_columns.append(name) -%}{%- endfor -%}
    {%- for name in clustering_feature_columns('categorical') if name in available -%}{%- do categorical_columns.append(name) -%}{%- endfor -%}
{%- endif -%}

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
        nearest_centroid.cluster_id as nearest_cluster_id,
        nearest_centroid.distance_to_centroid,
        nearest_centroid.distance_to_second,
        tree_rules.tree_leaf_id,
        tree_rules.tree_cluster_id
    from tree_rules
    left join nearest_centroid
        on tree_rules.customer_id = nearest_centroid.customer_id

)

select * from final
