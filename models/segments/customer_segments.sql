{#-
    One row per customer with every segmentation side by side: the named RFM segment, the
    business-rule segment, and the k-means cluster - each with the reason the customer is
    in it (RFM cell, the matching rule, the decision-tree rule of the customer's leaf) -
    and the predicted value from customer_predictions.
-#}
with customer_features as (

    select * from {{ ref('customer_features') }}

),

rfm_segment_names as (

    select * from {{ ref('rfm_segment_names') }}

),

rfm_segment_descriptions as (

    select * from {{ ref('rfm_segment_descriptions') }}

),

business_segments as (

    select * from {{ ref('int_customers_business_segmented') }}

),

customer_clusters as (

    select * from {{ ref('customer_clusters') }}

),

cluster_assignments_sql as (

    select * from {{ ref('cluster_assignments_sql') }}

),

cluster_rules as (

    select * from {{ ref('cluster_rules') }}

),

customer_predictions as (

    select * from {{ ref('customer_predictions') }}

),

rfm_named as (

    select
        customer_features.customer_id,
        customer_features.has_purchases,
        customer_features.recency_score,
        customer_features.frequency_score,
        customer_features.monetary_score,
        cast(floor((customer_features.frequency_score + customer_features.monetary_score + 1) / 2.0) as integer)
            as frequency_monetary_score,
        customer_features.rfm_cell,
        customer_features.as_of_date
    from customer_features

),

final as (

    select
        rfm_named.customer_id,
        case
            when not rfm_named.has_purchases then {{ quote_literal(var('rfm_no_purchase_segment')) }}
            else rfm_segment_names.rfm_segment
        end as rfm_segment,
        rfm_segment_descriptions.description as rfm_segment_description,
        rfm_named.rfm_cell,
        rfm_named.recency_score,
        rfm_named.frequency_score,
        rfm_named.monetary_score,
        rfm_named.frequency_monetary_score,
        business_segments.business_segment,
        business_segments.business_segment_rule,
        business_segments.business_segment_priority,
        customer_clusters.cluster_id,
        customer_clusters.cluster_name,
        coalesce(customer_clusters.segment_status, 'unclassified') as cluster_status,
        case
            when customer_clusters.customer_id is null then 'not in the clustering input'
            else customer_clusters.unclassified_reason
        end as cluster_unclassified_reason,
        cluster_rules.rule_text as cluster_rule,
        customer_clusters.distance_to_centroid as cluster_distance,
        customer_clusters.margin_to_second_centroid as cluster_margin,
        customer_clusters.model_version as cluster_model_version,
        customer_predictions.probability_alive,
        customer_predictions.churn_risk_band,
        {%- for horizon in clv_horizons() %}
        customer_predictions.expected_purchases_{{ horizon }},
        customer_predictions.predicted_clv_{{ horizon }},
        {%- endfor %}
        rfm_named.as_of_date
    from rfm_named
    left join rfm_segment_names
        on rfm_named.recency_score = rfm_segment_names.recency_score
        and rfm_named.frequency_monetary_score = rfm_segment_names.frequency_monetary_score
    left join rfm_segment_descriptions
        on case
            when not rfm_named.has_purchases then {{ quote_literal(var('rfm_no_purchase_segment')) }}
            else rfm_segment_names.rfm_segment
        end = rfm_segment_descriptions.rfm_segment
    left join business_segments
        on rfm_named.customer_id = business_segments.customer_id
    left join customer_clusters
        on rfm_named.customer_id = customer_clusters.customer_id
    left join cluster_assignments_sql
        on rfm_named.customer_id = cluster_assignments_sql.customer_id
    left join cluster_rules
        on cluster_assignments_sql.tree_leaf_id = cluster_rules.leaf_id
        and customer_clusters.segment_status = 'classified'
    left join customer_predictions
        on rfm_named.customer_id = customer_predictions.customer_id

)

select * from final
