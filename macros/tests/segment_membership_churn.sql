{#-
    Fails for every segmentation (`group_by`) in which more than `max_churn` of the customers
    changed segment between the previous as-of date and the latest one. The model holds
    transition counts (from -> to, `count_column` customers) per as-of date; the churn at
    the latest date is

        customers with from <> to / customers with any from -> to

    counting only customers present at both dates: rows whose from or to side is one of
    `pseudo_states` (arrivals and departures) are left out. No transitions at the latest
    date (the first build) means nothing to compare, and the test passes quietly.
-#}
{% test segment_membership_churn(model, max_churn, date_column='as_of_date', group_by=['segmentation_type'],
                                 from_column='from_segment', to_column='to_segment', count_column='customers',
                                 pseudo_states=['new customer', 'returned', 'left'], where_clause=none) %}
    {%- set test_name = 'segment_membership_churn' -%}
    {%- set threshold = _drift_number(test_name, 'max_churn', max_churn, 0, 1) -%}
    {%- set date_column = _drift_column(test_name, 'date_column', date_column) -%}
    {%- set from_column = _drift_column(test_name, 'from_column', from_column) -%}
    {%- set to_column = _drift_column(test_name, 'to_column', to_column) -%}
    {%- set count_column = _drift_column(test_name, 'count_column', count_column) -%}
    {%- set groups = _drift_columns(test_name, 'group_by', group_by) -%}
    {%- set excluded = _drift_columns(test_name, 'pseudo_states', pseudo_states) -%}
    {%- set excluded_literals = [] -%}
    {%- for state in excluded -%}{%- do excluded_literals.append(quote_literal(state)) -%}{%- endfor -%}

with transitions as (

    select * from {{ model }}
    {%- if where_clause %}
    where {{ where_clause }}
    {%- endif %}

),

latest_date as (

    select max({{ date_column }}) as as_of_date
    from transitions

),

stayers_and_movers as (

    select transitions.*
    from transitions
    inner join latest_date
        on transitions.{{ date_column }} = latest_date.as_of_date
    {%- if excluded_literals %}
    where transitions.{{ from_column }} not in ({{ excluded_literals | join(', ') }})
        and transitions.{{ to_column }} not in ({{ excluded_literals | join(', ') }})
    {%- endif %}

),

churned as (

    select
        {%- for group in groups %}
        {{ group }},
        {%- endfor %}
        sum({{ count_column }}) as customers_at_both_dates,
        sum(case when {{ from_column }} <> {{ to_column }} then {{ count_column }} else 0 end) as customers_moved,
        sum(case when {{ from_column }} <> {{ to_column }} then {{ count_column }} else 0 end) * 1.0
            / nullif(sum({{ count_column }}), 0) as membership_churn
    from stayers_and_movers
    {%- if groups %}
    group by {% for group in groups %}{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}
    {%- endif %}

),

validation_errors as (

    select
        latest_date.as_of_date,
        churned.*
    from churned
    cross join latest_date
    where churned.membership_churn > {{ threshold }}

)

select * from validation_errors
{% endtest %}
