{#-
    The one table a dashboard needs: one row per segmentation type x segment with its size,
    share, net revenue and revenue share, and the mean and median of each customer feature.
    Segments follow the convention of the history tables (segment_size_history): for
    clusters `segment` is the cluster id as text (stable across retrains) and
    `segment_name` the cluster's name; customers without a cluster form the segment
    'unclassified', so the segments of every type add up to all customers. The predicted
    value columns sum customer_predictions per segment (sort by expected_revenue_365).
-#}
{%- set features = ['recency_days', 'frequency', 'monetary', 'avg_order_value', 'tenure_days', 'age', 'cancellation_rate'] -%}

with customer_segments as (

    select * from {{ ref('customer_segments') }}

),

customer_features as (

    select * from {{ ref('customer_features') }}

),

customer_predictions as (

    select * from {{ ref('customer_predictions') }}

),

memberships as (

    select
        customer_id,
        'rfm' as segmentation_type,
        rfm_segment as segment,
        rfm_segment as segment_name
    from customer_segments

    union all

    select
        customer_id,
        'business' as segmentation_type,
        business_segment as segment,
        business_segment as segment_name
    from customer_segments

    union all

    select
        customer_id,
        'cluster' as segmentation_type,
        case
            when cluster_id is null then 'unclassified'
            else cast(cluster_id as {{ dbt.type_string() }})
        end as segment,
        coalesce(cluster_name, 'unclassified') as segment_name
    from customer_segments

),

members_described as (

    select
        memberships.segmentation_type,
        memberships.segment,
        memberships.segment_name,
        customer_features.customer_id,
        customer_features.has_marketing_consent,
        {#- Features keep their exact types here: sums and means of decimals and integers do
            not depend on the order of the rows, so a rerun or shuffled input gives the same
            digits (a float sum differs in its last digit from one parallel run to the next). #}
        {%- for feature in features %}
        customer_features.{{ feature }},
        {%- endfor %}
        customer_predictions.probability_alive,
        {%- for horizon in clv_horizons() %}
        customer_predictions.predicted_clv_{{ horizon }},
        {%- endfor %}
        customer_features.as_of_date
    from memberships
    inner join customer_features
        on memberships.customer_id = customer_features.customer_id
    left join customer_predictions
        on memberships.customer_id = customer_predictions.customer_id

),

aggregated as (

    select
        segmentation_type,
        segment,
        segment_name,
        count(*) as customers,
        {{ exact_sum('monetary') }} as revenue,
        sum(case when has_marketing_consent then 1 else 0 end) as consented_customers,
        {%- for feature in features %}
        {{ exact_avg(feature) }} as mean_{{ feature }},
        percentile_cont(0.5) within group (order by {{ feature }}) as median_{{ feature }},
        {%- endfor %}
        {{ exact_avg('probability_alive') }} as mean_probability_alive,
        {%- for horizon in clv_horizons() %}
        {{ exact_sum('predicted_clv_' ~ horizon) }} as expected_revenue_{{ horizon }},
        {%- endfor %}
        max(as_of_date) as as_of_date
    from members_described
    group by 1, 2, 3

),

final as (

    select
        cast(segmentation_type as {{ dbt.type_string() }}) as segmentation_type,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(segment_name as {{ dbt.type_string() }}) as segment_name,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(customers * 1.0 / sum(customers) over (partition by segmentation_type) as {{ type_double() }}) as share,
        cast(revenue as {{ type_double() }}) as revenue,
        -- doubles on both sides: Spark divides two decimal(38, s) sums at scale 6
        cast(revenue as {{ type_double() }})
            / nullif({{ exact_sum('revenue', over='partition by segmentation_type') }}, 0)
            as revenue_share,
        cast(consented_customers as {{ dbt.type_bigint() }}) as consented_customers,
        {%- for feature in features %}
        cast(mean_{{ feature }} as {{ type_double() }}) as mean_{{ feature }},
        cast(median_{{ feature }} as {{ type_double() }}) as median_{{ feature }},
        {%- endfor %}
        cast(mean_probability_alive as {{ type_double() }}) as mean_probability_alive,
        {%- for horizon in clv_horizons() %}
        cast(expected_revenue_{{ horizon }} as {{ type_double() }}) as expected_revenue_{{ horizon }},
        {%- endfor %}
        as_of_date
    from aggregated

)

select * from final
