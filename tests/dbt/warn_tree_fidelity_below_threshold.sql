{{ config(severity='warn') }}
{#-
    Warn when the decision tree explains the latest k-means model poorly: its agreement with
    the k-means labels is below var min_tree_fidelity. Raise tree_max_depth, or read the
    rules as approximate.
-#}
with latest_model as (

    select cluster_models.model_version, cluster_models.tree_fidelity
    from {{ ref('cluster_models') }} as cluster_models
    where cluster_models.model_version = (
        select max(all_models.model_version) from {{ ref('cluster_models') }} as all_models
    )

),

validation_errors as (

    select * from latest_model
    where tree_fidelity < {{ var('min_tree_fidelity') }}

)

select * from validation_errors
