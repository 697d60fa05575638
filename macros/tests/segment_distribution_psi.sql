{#-
    Fails for every segmentation (`group_by`) whose population stability index between the
    previous as-of date and the latest one is above `max_psi`:

        PSI = sum over segments of (a - e) * ln(a / e)

    with e the segment's share at the previous date and a its share at the latest date (the
    tested column). A share of 0 (a segment missing at one date) is replaced by `epsilon`, so
    a segment that appears or vanishes counts strongly instead of dividing by zero. Usual
    reading: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major shift.
    Segmentations not present at both dates, and a history with a single as-of date, are not
    compared, so the first build passes quietly.
-#}
{% test segment_distribution_psi(model, column_name, max_psi, date_column='as_of_date',
                                 group_by=['segmentation_type'], segment_column='segment',
                                 epsilon=0.0001, where_clause=none) %}
    {%- set test_name = 'segment_distribution_psi' -%}
    {%- set threshold = _drift_number(test_name, 'max_psi', max_psi, 0) -%}
    {%- set floor_share = _drift_number(test_name, 'epsilon', epsilon, 0.0000000001, 0.1) -%}
    {%- set date_column = _drift_column(test_name, 'date_column', date_column) -%}
    {%- set segment_column = _drift_column(test_name, 'segment_column', segment_column) -%}
    {%- set groups = _drift_columns(test_name, 'group_by', group_by) -%}
    {%- set keys = groups + [segment_column] -%}

with history as (

    select * from {{ model }}
    {%- if where_clause %}
    where {{ where_clause }}
    {%- endif %}

),

latest_date as (

    select max({{ date_column }}) as as_of_date
    from history

),

compared_dates as (

    select
        latest_date.as_of_date,
        max(history.{{ date_column }}) as previous_as_of_date
    from latest_date
    inner join history
        on history.{{ date_column }} < latest_date.as_of_date
    group by 1

),

latest_shares as (

    select
        {%- for key in keys %}
        history.{{ key }},
        {%- endfor %}
        history.{{ column_name }} as share
    from history
    inner join compared_dates
        on history.{{ date_column }} = compared_dates.as_of_date

),

previous_shares as (

    select
        {%- for key in keys %}
        history.{{ key }},
        {%- endfor %}
        history.{{ column_name }} as share
    from history
    inner join compared_dates
        on history.{{ date_column }} = compared_dates.previous_as_of_date

),

paired as (

    select
        {%- for key in keys %}
        coalesce(latest_shares.{{ key }}, previous_shares.{{ key }}) as {{ key }},
        {%- endfor %}
        case
            when coalesce(previous_shares.share, 0) < {{ floor_share }} then {{ floor_share }}
            else previous_shares.share
        end as expected_share,
        case
            when coalesce(latest_shares.share, 0) < {{ floor_share }} then {{ floor_share }}
            else latest_shares.share
        end as actual_share
    from latest_shares
    full outer join previous_shares
        on {% for key in keys -%}
        latest_shares.{{ key }} = previous_shares.{{ key }}
        {%- if not loop.last %}
        and {% endif -%}
        {%- endfor %}

),

{%- if groups %}

groups_at_both_dates as (

    select distinct
        {%- for group in groups %}
        latest_shares.{{ group }}{{ ',' if not loop.last }}
        {%- endfor %}
    from latest_shares
    inner join previous_shares
        on {% for group in groups -%}
        latest_shares.{{ group }} = previous_shares.{{ group }}
        {%- if not loop.last %}
        and {% endif -%}
        {%- endfor %}

),
{%- endif %}

indexed as (

    select
        {%- for group in groups %}
        paired.{{ group }},
        {%- endfor %}
        count(*) as segments,
        sum((paired.actual_share - paired.expected_share) * ln(paired.actual_share / paired.expected_share))
            as population_stability_index
    from paired
    {%- if groups %}
    inner join groups_at_both_dates
        on {% for group in groups -%}
        paired.{{ group }} = groups_at_both_dates.{{ group }}
        {%- if not loop.last %}
        and {% endif -%}
        {%- endfor %}
    group by {% for group in groups %}{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}
    {%- endif %}

),

validation_errors as (

    select
        compared_dates.previous_as_of_date,
        compared_dates.as_of_date,
        indexed.*
    from indexed
    cross join compared_dates
    where indexed.population_stability_index > {{ threshold }}

)

select * from validation_errors
{% endtest %}
