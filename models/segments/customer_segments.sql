{#-
    One row per customer with every segmentation side by side: the named RFM segment, the
    business-rule segment, and (from the clustering models) the k-means cluster - each with
    the reason the customer is in it.
-#}
with customer_features as (

    select * from {{ ref('customer_features') }}

),

rfm_segment_names as (

    select * from {{ ref('rfm_segment_names') }}

),

business_segments as (

    select * from {{ ref('int_customers_business_segmented') }}

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
        rfm_named.rfm_cell,
        rfm_named.recency_score,
        rfm_named.frequency_score,
        rfm_named.monetary_score,
        rfm_named.frequency_monetary_score,
        business_segments.business_segment,
        business_segments.business_segment_rule,
        business_segments.business_segment_priority,
        rfm_named.as_of_date
    from rfm_named
    left join rfm_segment_names
        on rfm_named.recency_score = rfm_segment_names.recency_score
        and rfm_named.frequency_monetary_score = rfm_segment_names.frequency_monetary_score
    left join business_segments
        on rfm_named.customer_id = business_segments.customer_id

)

select * from final
