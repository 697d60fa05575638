{#-
    A quantile score from 1 (worst) to rfm_bins (best) among customers with purchases:
    score = 1 + floor(bins * share of scored customers strictly worse than this one).
    Customers with equal values get the same score (ties share the lower score), so the
    result does not depend on row order. `higher_is_better=false` for recency.
-#}
{% macro rfm_score(column, higher_is_better=true, scored_flag='has_purchases') %}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    {%- set window = "over (partition by " ~ scored_flag ~ ")" -%}
    {{ return(
        "case when " ~ scored_flag ~ " then cast(1 + floor(" ~ rfm_bins() ~ " * (rank() over (partition by "
        ~ scored_flag ~ " order by " ~ column ~ " " ~ direction ~ ") - 1) * 1.0 / count(*) " ~ window
        ~ ") as integer) end"
    ) }}
{% endmacro %}
