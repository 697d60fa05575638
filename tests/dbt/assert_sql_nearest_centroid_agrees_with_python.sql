{#-
    Plain-SQL nearest-centroid scoring assigns every classified customer to the same
    cluster as the Python k-means assignment, apart from exact ties (two centroids at the
    same distance, within floating-point noise), and leaves the unclassified unassigned.
-#}
with python_clusters as (

    select * from {{ ref('customer_clusters') }}

),

sql_clusters as (

    select * from {{ ref('cluster_assignments_sql') }}

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
    where (
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

select * from validation_errors
