{{ config(severity='warn') }}
{#-
    Warn when the decision tree explains the latest k-means model poorly: its agreement with
    the k-means labels is below var min_tree_fidelity. Raise tree_max_depth, or read the
    rules as approximate.
-#}
with latest_model as (

    select model_version, tree_fidelity
    from {{ ref('cluster_models') }}
    where model_version = (select max(model_version) from {{ ref('cluster_models') }})

),

validation_errors as (

    select * from latest_model
    where tree_fidelity < {{ var('min_tree_fidelity') }}

)

select * from validation_errors
