{#- Fails for every combination of `combination_of_columns` that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- if combination_of_columns is string or not combination_of_columns -%}
        {{ exceptions.raise_compiler_error("unique_combination_of_columns: `combination_of_columns` must be a non-empty list of column names.") }}
    {%- endif -%}

with validation_errors as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from validation_errors
{% endtest %}
