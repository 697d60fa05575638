{#-
    Private SQL builders shared by the drift tests that compare a segmentation's shares at
    the latest as-of date with the previous one (segment_share_change,
    segment_distribution_psi).
-#}

{#- `left.c = right.c and ...` over `columns`, for a join condition. -#}
{% macro _drift_join_on(left, right, columns) %}
    {%- set conditions = [] -%}
    {%- for column in columns -%}
        {%- do conditions.append(left ~ '.' ~ column ~ ' = ' ~ right ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ return(conditions | join('\n        and ')) }}
{% endmacro %}

{#-
    The CTEs `history` (the model, filtered by `where_clause`), `latest_date`,
    `compared_dates` (the latest and the previous as-of date; no row with a single date),
    `latest_shares` and `previous_shares` (the group and segment keys with `share`) and,
    when there are groups, `groups_at_both_dates`. Each CTE ends with a comma.
-#}
{% macro _drift_shares_at_two_dates(model, column_name, date_column, groups, segment_column, where_clause) %}
    {%- set keys = groups + [segment_column] %}
history as (

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
{%- for side, date in [('latest', 'as_of_date'), ('previous', 'previous_as_of_date')] %}

{{ side }}_shares as (

    select
        {%- for key in keys %}
        history.{{ key }},
        {%- endfor %}
        history.{{ column_name }} as share
    from history
    inner join compared_dates
        on history.{{ date_column }} = compared_dates.{{ date }}

),
{%- endfor %}
{%- if groups %}

groups_at_both_dates as (

    select distinct
        {%- for group in groups %}
        latest_shares.{{ group }}{{ ',' if not loop.last }}
        {%- endfor %}
    from latest_shares
    inner join previous_shares
        on {{ _drift_join_on('latest_shares', 'previous_shares', groups) }}

),
{%- endif %}
{% endmacro %}
