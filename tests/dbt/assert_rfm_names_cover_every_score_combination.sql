{#-
    Every (recency, frequency, monetary) score combination from 1 to rfm_bins must get
    exactly one name: it maps through frequency_monetary_score = floor((f + m + 1) / 2) to
    one row of seeds/config/rfm_segment_names.csv. Fails with each combination that has no
    name or more than one.
-#}
{%- set bins = var('rfm_bins') | int -%}

with rfm_segment_names as (

    select * from {{ ref('rfm_segment_names') }}

),

scores as (

    {%- for score in range(1, bins + 1) %}
    select {{ score }} as score
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

combinations as (

    select
        recency_scores.score as recency_score,
        frequency_scores.score as frequency_score,
        monetary_scores.score as monetary_score,
        cast(floor((frequency_scores.score + monetary_scores.score + 1) / 2.0) as integer)
            as frequency_monetary_score
    from scores as recency_scores
    cross join scores as frequency_scores
    cross join scores as monetary_scores

),

named as (

    select
        combinations.recency_score,
        combinations.frequency_score,
        combinations.monetary_score,
        combinations.frequency_monetary_score,
        count(rfm_segment_names.rfm_segment) as name_count
    from combinations
    left join rfm_segment_names
        on combinations.recency_score = rfm_segment_names.recency_score
        and combinations.frequency_monetary_score = rfm_segment_names.frequency_monetary_score
    group by 1, 2, 3, 4

),

validation_errors as (

    select * from named
    where name_count <> 1

)

select * from validation_errors
