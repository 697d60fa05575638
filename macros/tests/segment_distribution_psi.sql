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

with {{ _drift_shares_at_two_dates(model, column_name, date_column, groups, segment_column, where_clause) }}

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
        on {{ _drift_join_on('latest_shares', 'previous_shares', keys) }}

),

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
        on {{ _drift_join_on('paired', 'groups_at_both_dates', groups) }}
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
