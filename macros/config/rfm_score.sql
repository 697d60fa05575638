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
{% macro rfm_score(column, score, higher_is_better=true, scored_flag='has_purchases', ranks=none) %}
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
    {%- if ranks is none -%}
        {{ exceptions.raise_compiler_error("rfm_score(" ~ column ~ "): quantile scores are read from a CTE made by rfm_quantile_scores; pass its name as ranks") }}
    {%- endif -%}
    {{ return("case when " ~ scored_flag ~ " then " ~ ranks ~ ".score end") }}
{% endmacro %}

{#-
    The quantile score of each distinct value of `column` among the rows of `relation` where
    `scored_flag` holds, as a select of (value, score): the same figures as rank() over every
    customer (rank = 1 + the customers with a strictly worse value), computed over the
    distinct values with their counts. Left join it on the value and pass its name as
    rfm_score's `ranks` (which keeps the score to the scored customers). Why: a window over every customer sorts the whole wide row in
    one partition per flag value (20 s for R, F and M at 5M customers); the distinct values
    are a few hundred for recency and frequency, and the counts carry the ties.
-#}
{% macro rfm_quantile_scores(column, relation, higher_is_better=true, scored_flag='has_purchases') %}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    {%- set bins = rfm_bins() -%}
    select
        value,
        cast(1 + floor({{ bins }} * (value_rank - 1) * 1.0 / scored_count) as integer) as score
    from (
        select
            value,
            cast(sum(customers) over (order by value {{ direction }} rows between unbounded preceding and current row) as {{ dbt.type_bigint() }})
                - customers + 1 as value_rank,
            cast(sum(customers) over () as {{ dbt.type_bigint() }}) as scored_count
        from (
            select
                {{ column }} as value,
                count(*) as customers
            from {{ relation }}
            where {{ scored_flag }}
            group by 1
        ) as value_counts
    ) as ranked
{% endmacro %}
