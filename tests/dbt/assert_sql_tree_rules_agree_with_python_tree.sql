{#-
    The decision-tree rules compiled to SQL CASE give the tree's own prediction for every
    classified customer (100% agreement; thresholds are written so float rounding cannot
    flip a customer at a split value).
-#}
with python_tree as (

    select customer_id, tree_cluster_id
    from {{ ref('customer_clusters') }}
    where segment_status = 'classified'

),

sql_tree as (

    select customer_id, tree_cluster_id
    from {{ ref('cluster_assignments_sql') }}

),

validation_errors as (

    select
        python_tree.customer_id,
        python_tree.tree_cluster_id as python_tree_cluster_id,
        sql_tree.tree_cluster_id as sql_tree_cluster_id
    from python_tree
    left join sql_tree
        on python_tree.customer_id = sql_tree.customer_id
    where sql_tree.tree_cluster_id is null
        or python_tree.tree_cluster_id <> sql_tree.tree_cluster_id

)

select * from validation_errors
