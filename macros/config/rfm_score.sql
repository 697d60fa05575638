{#-
    The R, F or M score of `column`, from 1 (worst) to rfm_bins (best), among customers with
    purchases (others get null). `score` is recency, frequency or monetary; its method comes
    from rfm_scoring(score):

    - quantiles: score = 1 + floor(bins * share of scored customers strictly worse than this
      one). Customers with equal values get the same score (ties share the lower score), so
      the result does not depend on row order. Relative: the best fifth always scores 5.
    - edges: fixed edges e1 < .. < e(bins-1). Lower is better (recency, days): bins when
      value <= e1, bins - 1 when <= e2, .., 1 when above the last edge. Higher is better
      (frequency, monetary): 1 below e1, +1 at or above each edge. Absolute: a customer's
      score does not depend on the others.
-#}
{% macro rfm_score(column, score, higher_is_better=true, scored_flag='has_purchases') %}
    {%- set scoring = rfm_scoring(score) -%}
    {%- set bins = rfm_bins() -%}
    {%- if scoring.method == 'edges' -%}
        {%- set whens = [] -%}
        {%- if higher_is_better -%}
            {%- for edge in scoring.edges | reverse -%}
                {%- do whens.append("when " ~ column ~ " >= " ~ edge ~ " then " ~ (bins - loop.index0)) -%}
            {%- endfor -%}
        {%- else -%}
            {%- for edge in scoring.edges -%}
                {%- do whens.append("when " ~ column ~ " <= " ~ edge ~ " then " ~ (bins - loop.index0)) -%}
            {%- endfor -%}
        {%- endif -%}
        {{ return("case when not " ~ scored_flag ~ " or " ~ scored_flag ~ " is null then null "
                  ~ (whens | join(' ')) ~ " else 1 end") }}
    {%- endif -%}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    {%- set window = "over (partition by " ~ scored_flag ~ ")" -%}
    {{ return(
        "case when " ~ scored_flag ~ " then cast(1 + floor(" ~ bins ~ " * (rank() over (partition by "
        ~ scored_flag ~ " order by " ~ column ~ " " ~ direction ~ ") - 1) * 1.0 / count(*) " ~ window
        ~ ") as integer) end"
    ) }}
{% endmacro %}
