{#-
    Fails for every segment whose share (the tested column, a fraction of its segmentation's
    customers) at the latest as-of date is outside [min_share, max_share]: a segment that
    swallows most customers, or one too small to act on. Earlier dates are history and are
    not re-tested. Like the other drift tests it is quiet on the first as-of date of the
    history (a first build into an empty database has no baseline: the shares of a first
    model are what it found, not a drift). Give `min_share`, `max_share` or both (fractions
    from 0 to 1).
-#}
{% test segment_share_between(model, column_name, min_share=none, max_share=none, date_column='as_of_date',
                              where_clause=none) %}
    {%- set test_name = 'segment_share_between' -%}
    {%- if min_share is none and max_share is none -%}
        {{ exceptions.raise_compiler_error(test_name ~ ": give `min_share`, `max_share` or both.") }}
    {%- endif -%}
    {%- set lower = _drift_number(test_name, 'min_share', min_share, 0, 1) if min_share is not none else none -%}
    {%- set upper = _drift_number(test_name, 'max_share', max_share, 0, 1) if max_share is not none else none -%}
    {%- if lower is not none and upper is not none and lower > upper -%}
        {{ exceptions.raise_compiler_error(test_name ~ ": `min_share` (" ~ lower ~ ") is larger than `max_share` (" ~ upper ~ ").") }}
    {%- endif -%}
    {%- set date_column = _drift_column(test_name, 'date_column', date_column) -%}

with history as (

    select * from {{ model }}
    {%- if where_clause %}
    where {{ where_clause }}
    {%- endif %}

),

latest_date as (

    select max({{ date_column }}) as latest_as_of_date
    from history
    having count(distinct {{ date_column }}) >= 2

),

validation_errors as (

    select history.*
    from history
    inner join latest_date
        on history.{{ date_column }} = latest_date.latest_as_of_date
    where
        {%- if lower is not none %}
        history.{{ column_name }} < {{ lower }}
        {%- endif %}
        {%- if lower is not none and upper is not none %}
        or
        {%- endif %}
        {%- if upper is not none %}
        history.{{ column_name }} > {{ upper }}
        {%- endif %}

)

select * from validation_errors
{% endtest %}
