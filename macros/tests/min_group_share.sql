{#-
    Fails for every group (value of `column_name`) whose share of the model's rows is below
    `min_share` (a fraction, e.g. 0.02). Rows where `where_clause` is false are ignored.
-#}
{% test min_group_share(model, column_name, min_share, where_clause=none) %}
    {%- if min_share is none or min_share < 0 or min_share > 1 -%}
        {{ exceptions.raise_compiler_error("min_group_share: min_share must be a fraction from 0 to 1, got: " ~ min_share) }}
    {%- endif -%}

with grouped as (

    select
        {{ column_name }} as group_value,
        count(*) as group_rows
    from {{ model }}
    where {{ column_name }} is not null
    {%- if where_clause %}
        and ({{ where_clause }})
    {%- endif %}
    group by 1

),

shares as (

    select
        group_value,
        group_rows,
        group_rows * 1.0 / sum(group_rows) over () as group_share
    from grouped

),

validation_errors as (

    select * from shares
    where group_share < {{ min_share }}

)

select * from validation_errors
{% endtest %}
