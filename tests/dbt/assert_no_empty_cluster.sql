{#- Every cluster of the latest model has at least one customer. -#}
with centroids as (

    select distinct cluster_id from {{ ref('cluster_centroids') }}

),

assigned as (

    select cluster_id, count(*) as customers
    from {{ ref('customer_clusters') }}
    where cluster_id is not null
    group by 1

),

validation_errors as (

    select centroids.cluster_id
    from centroids
    left join assigned
        on centroids.cluster_id = assigned.cluster_id
    where assigned.customers is null

)

select * from validation_errors
