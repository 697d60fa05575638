{#-
    Plain-SQL nearest-centroid scoring assigns every classified customer to the same
    cluster as the Python assignment (for the methods that assign by nearest centroid:
    kmeans, agglomerative, meanshift), apart from exact ties (two centroids at the
    same distance, within floating-point noise), and leaves the unclassified unassigned.
-#}
with python_clusters as (

    select * from {{ ref('customer_clusters') }}

),

sql_clusters as (

    select * from {{ ref('cluster_assignments_sql') }}

),

latest_model as (

    select cluster_models.is_centroid_scoring_faithful
    from {{ ref('cluster_models') }} as cluster_models
    where cluster_models.model_version = (
        select max(all_models.model_version) from {{ ref('cluster_models') }} as all_models
    )

),

validation_errors as (

    select
        python_clusters.customer_id,
        python_clusters.segment_status,
        python_clusters.cluster_id as python_cluster_id,
        sql_clusters.nearest_cluster_id as sql_cluster_id,
        python_clusters.margin_to_second_centroid
    from python_clusters
    left join sql_clusters
        on python_clusters.customer_id = sql_clusters.customer_id
    -- Methods that do not assign by nearest centroid get no nearest-centroid SQL.
    cross join latest_model
    where coalesce(latest_model.is_centroid_scoring_faithful, true) and ((
            python_clusters.segment_status = 'classified'
            and (sql_clusters.nearest_cluster_id is null
                 or (sql_clusters.nearest_cluster_id <> python_clusters.cluster_id
                     and python_clusters.margin_to_second_centroid > 1e-9))
        )
        or (
            python_clusters.segment_status = 'unclassified'
            and sql_clusters.nearest_cluster_id is not null
            and {{ '1 = 1' if var('cluster_null_strategy') == 'unclassified' else '1 = 0' }}
            and python_clusters.unclassified_reason like 'missing value%'
        )
    )

)

select * from validation_errors
