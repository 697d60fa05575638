{#-
    One card per segment of every segmentation (the same rows as segment_profiles): size and
    share, revenue share, what the segment is and the rules that put customers in it, in
    words, how it differs from all customers, and the suggested action from
    seeds/config/segment_actions.csv. scripts/render_charts.py draws these cards for the docs.
-#}
{%- set features = ['recency_days', 'frequency', 'monetary', 'avg_order_value', 'tenure_days', 'age', 'cancellation_rate'] -%}
{#- The profile text names the features on which a segment differs most from everyone. -#}
{%- set profile_features_shown = 3 -%}
{%- set text = dbt.type_string() -%}

with segment_profiles as (

    select * from {{ ref('segment_profiles') }}

),

segment_actions as (

    select * from {{ ref('int_segments_actions_matched') }}

),

customer_features as (

    select * from {{ ref('customer_features') }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

rfm_segment_names as (

    select * from {{ ref('rfm_segment_names') }}

),

rfm_segment_descriptions as (

    select * from {{ ref('rfm_segment_descriptions') }}

),

business_segment_rules as (

    select * from {{ ref('business_segment_rules') }}

),

cluster_rules as (

    select * from {{ ref('cluster_rules') }}

),

cluster_centroids as (

    select * from {{ ref('cluster_centroids') }}

),

{#- Means and standard deviations summed exactly (macros/sql/exact_sum.sql): the same
    bits on a rerun, an incremental build and a full refresh. -#}
population_means as (

    select
        {%- for feature in features %}
        {{ exact_avg(feature) }} as mean_{{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_features

),

population as (

    select
        {%- for feature in features %}
        population_means.mean_{{ feature }},
        {{ exact_stddev_pop('customer_features.' ~ feature, 'population_means.mean_' ~ feature) }} as std_{{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_features
    cross join population_means
    group by
        {%- for feature in features %}
        population_means.mean_{{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}

),

profiles_scored as (

    select
        segment_profiles.*,
        {%- for feature in features %}
        population.mean_{{ feature }} as population_mean_{{ feature }},
        round((segment_profiles.mean_{{ feature }} - population.mean_{{ feature }})
            / nullif(population.std_{{ feature }}, 0), 9) as z_{{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from segment_profiles
    cross join population

),

{#- Clusters are profiled on the features k-means used (as cluster_centroids, which names
    them); the other segments, and customers without a cluster, on customer_features. -#}
feature_deviations as (

    {%- for feature in features %}
    select
        segmentation_type,
        segment,
        '{{ feature }}' as feature_name,
        mean_{{ feature }} as segment_value,
        population_mean_{{ feature }} as population_value,
        z_{{ feature }} as z_score
    from profiles_scored
    where segmentation_type <> 'cluster' or segment = 'unclassified'

    union all
    {%- endfor %}

    {#- original_value is the back-transformed centroid (for log features nearer a geometric
        mean); the members' mean is population_mean + z_score * population_std. #}
    select
        'cluster' as segmentation_type,
        cast(cluster_id as {{ text }}) as segment,
        feature_name,
        population_mean + z_score * population_std as segment_value,
        population_mean as population_value,
        z_score
    from cluster_centroids

),

deviations_ranked as (

    select
        *,
        row_number() over (
            partition by segmentation_type, segment
            order by abs(z_score) desc, feature_name
        ) as deviation_rank
    from feature_deviations
    where z_score is not null

),

profile_texts as (

    select
        segmentation_type,
        segment,
        {{ dbt.listagg(
            "feature_name || ' ' || " ~ format_number('segment_value')
            ~ " || ' vs ' || " ~ format_number('population_value') ~ " || ' overall ('"
            ~ " || case when round(z_score, 1) > 0 then '+' when round(z_score, 1) < 0 then '-' else '' end"
            ~ " || cast(round(abs(z_score), 1) as " ~ text ~ ") || ' sd)'",
            "'; '",
            "order by deviation_rank") }} as profile_text
    from deviations_ranked
    where deviation_rank <= {{ profile_features_shown }}
    group by 1, 2

),

rfm_grid_rows as (

    select
        rfm_segment,
        recency_score,
        'recency score ' || cast(recency_score as {{ text }}) || ' and frequency-monetary score '
        || {{ dbt.listagg("cast(frequency_monetary_score as " ~ text ~ ")", "' or '", "order by frequency_monetary_score") }}
            as condition
    from rfm_segment_names
    where recency_score <= {{ rfm_bins() }}
        and frequency_monetary_score <= {{ rfm_bins() }}
    group by 1, 2

),

rfm_rules as (

    select
        'rfm' as segmentation_type,
        rfm_segment as segment,
        {{ dbt.listagg("condition", "'; or '", "order by recency_score desc") }} as rules_text
    from rfm_grid_rows
    group by 1, 2

    union all

    select
        'rfm' as segmentation_type,
        {{ quote_literal(var('rfm_no_purchase_segment')) }} as segment,
        'no purchase up to the as-of date, so no RFM scores' as rules_text

),

business_rules as (

    select
        'business' as segmentation_type,
        business_segment as segment,
        min(business_segment_rule)
        || coalesce(' (priority ' || cast(min(business_segment_priority) as {{ text }})
            || ': only customers no segment with a lower number took)', '') as rules_text
    from customer_segments
    group by 1, 2

),

cluster_rule_texts as (

    select
        'cluster' as segmentation_type,
        cast(cluster_id as {{ text }}) as segment,
        {{ dbt.listagg(
            "rule_text || ' (' || cast(round(100 * support, 1) as " ~ text ~ ") || '% of clustered customers, precision '"
            ~ " || cast(round(100 * leaf_precision, 1) as " ~ text ~ ") || '%)'",
            "'; or '",
            "order by support desc, leaf_id") }} as rules_text
    from cluster_rules
    group by 1, 2

),

unclassified_reasons as (

    select
        cluster_unclassified_reason as reason,
        count(*) as customers
    from customer_segments
    where cluster_id is null
    group by 1

),

unclassified_rules as (

    select
        'cluster' as segmentation_type,
        'unclassified' as segment,
        'not placed in a cluster: '
        || {{ dbt.listagg(
            "coalesce(reason, 'no reason recorded') || ' (' || cast(customers as " ~ text ~ ") || case when customers = 1 then ' customer)' else ' customers)' end",
            "'; '",
            "order by customers desc, reason") }} as rules_text
    from unclassified_reasons
    group by 1, 2

),

segment_rules as (

    select * from rfm_rules
    union all
    select * from business_rules
    union all
    select * from cluster_rule_texts
    union all
    select * from unclassified_rules

),

business_descriptions as (

    select
        {{ clean_text('segment_name') }} as segment,
        {{ dbt.listagg(clean_text('description'), "' '", "order by rule_id") }} as description
    from business_segment_rules
    group by 1

),

cluster_versions as (

    select max(cluster_model_version) as model_version
    from customer_segments

),

described as (

    select
        profiles_scored.segmentation_type,
        profiles_scored.segment,
        case
            when profiles_scored.segmentation_type = 'rfm' then rfm_segment_descriptions.description
            when profiles_scored.segmentation_type = 'business' then
                coalesce(business_descriptions.description, 'No business rule matched these customers.')
            when profiles_scored.segment = 'unclassified' then
                'Customers the cluster model could not place; the rules say why.'
            else 'k-means cluster ' || profiles_scored.segment || ' of cluster model version '
                || cast(cluster_versions.model_version as {{ text }})
                || ', named after the features on which it differs most from all clustered customers.'
        end as description
    from profiles_scored
    cross join cluster_versions
    left join rfm_segment_descriptions
        on profiles_scored.segmentation_type = 'rfm'
        and profiles_scored.segment = rfm_segment_descriptions.rfm_segment
    left join business_descriptions
        on profiles_scored.segmentation_type = 'business'
        and profiles_scored.segment = business_descriptions.segment

),

final as (

    select
        profiles_scored.segmentation_type,
        profiles_scored.segment,
        profiles_scored.segment_name,
        profiles_scored.customers,
        profiles_scored.share,
        profiles_scored.revenue,
        profiles_scored.revenue_share,
        profiles_scored.mean_probability_alive,
        {%- for horizon in clv_horizons() %}
        profiles_scored.expected_revenue_{{ horizon }},
        {%- endfor %}
        cast(described.description as {{ text }}) as description,
        cast(coalesce(
            segment_rules.rules_text,
            case
                when profiles_scored.segmentation_type = 'cluster' then
                    'no leaf of the explanation tree predicts this cluster (it is small or overlaps'
                    || ' others), so there is no rule in words: its customers are the ones nearest'
                    || ' to its centre (see the profile and cluster_centroids)'
                else 'no rule recorded for this segment'
            end
        ) as {{ text }}) as rules_text,
        cast(profile_texts.profile_text as {{ text }}) as profile_text,
        {%- for feature in features %}
        cast(profiles_scored.z_{{ feature }} as {{ type_double() }}) as z_{{ feature }},
        {%- endfor %}
        cast(segment_actions.suggested_action as {{ text }}) as suggested_action,
        cast(segment_actions.action_matched_on as {{ text }}) as action_matched_on,
        profiles_scored.as_of_date
    from profiles_scored
    left join described
        on profiles_scored.segmentation_type = described.segmentation_type
        and profiles_scored.segment = described.segment
    left join segment_rules
        on profiles_scored.segmentation_type = segment_rules.segmentation_type
        and profiles_scored.segment = segment_rules.segment
    left join profile_texts
        on profiles_scored.segmentation_type = profile_texts.segmentation_type
        and profiles_scored.segment = profile_texts.segment
    left join segment_actions
        on profiles_scored.segmentation_type = segment_actions.segmentation_type
        and profiles_scored.segment = segment_actions.segment

)

select * from final
