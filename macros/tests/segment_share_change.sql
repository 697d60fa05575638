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
        coalesce(previous_shares.share, 0) as previous_share,
        coalesce(latest_shares.share, 0) as share
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
        on {% for group in groups -%}
        paired.{{ group }} = groups_at_both_dates.{{ group }}
        {%- if not loop.last %}
        and {% endif -%}
        {%- endfor %}
    {%- endif %}
    where abs(paired.share - paired.previous_share) > {{ threshold }}

)

select * from validation_errors
{% endtest %}
