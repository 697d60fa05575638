{#-
    Fails for every segment whose share changed by more than `max_change` (in share points:
    0.1 = ten points, either direction) between the previous as-of date and the latest one.
    A segment missing at one of the two dates counts as share 0 there. Segmentations
    (`group_by`) not present at both dates, and a history with a single as-of date, are not
    compared, so the first build passes quietly.
-#}
{% test segment_share_change(model, column_name, max_change, date_column='as_of_date',
                             group_by=['segmentation_type'], segment_column='segment', where_clause=none) %}
    {%- set test_name = 'segment_share_change' -%}
    {%- set threshold = _drift_number(test_name, 'max_change', max_change, 0, 1) -%}
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
        coalesce(previous_shares.share, 0) as previous_share,
        coalesce(latest_shares.share, 0) as share
    from latest_shares
    full outer join previous_shares
        on {{ _drift_join_on('latest_shares', 'previous_shares', keys) }}

),

validation_errors as (

    select
        compared_dates.previous_as_of_date,
        compared_dates.as_of_date,
        paired.*,
        paired.share - paired.previous_share as share_change
    from paired
    cross join compared_dates
    {%- if groups %}
    inner join groups_at_both_dates
        on {{ _drift_join_on('paired', 'groups_at_both_dates', groups) }}
    {%- endif %}
    where abs(paired.share - paired.previous_share) > {{ threshold }}

)

select * from validation_errors
{% endtest %}
