{#- Fails for every row where `expression` is not true (null counts as a failure). -#}
{% test expression_is_true(model, expression, where_clause=none) %}
    {%- if not expression -%}
        {{ exceptions.raise_compiler_error("expression_is_true: the `expression` argument is required.") }}
    {%- endif -%}

with validation_errors as (

    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
    {%- if where_clause %}
        and ({{ where_clause }})
    {%- endif %}

)

select * from validation_errors
{% endtest %}
