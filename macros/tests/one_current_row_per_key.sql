{#-
    For an SCD2 snapshot: fails for every key (the tested column) that does not have exactly
    one current row (`valid_to_column` empty) - none, or two at once. With
    `compare_model`, also fails for every key of `compare_model` (column `compare_column`,
    default the same name) that has no current, not-deleted row in the snapshot, and for every
    current, not-deleted snapshot row whose key is no longer in `compare_model`: the snapshot
    then says exactly who is there now. `deleted_column` is the 'True'/'False' flag that
    `hard_deletes: new_record` adds (set it to none for snapshots without one).
-#}
{% test one_current_row_per_key(model, column_name, compare_model=none, compare_column=none,
                                valid_to_column='dbt_valid_to', deleted_column='dbt_is_deleted') %}
    {%- set test_name = 'one_current_row_per_key' -%}
    {%- set valid_to_column = _drift_column(test_name, 'valid_to_column', valid_to_column) -%}
    {%- if deleted_column is not none -%}
        {%- set deleted_column = _drift_column(test_name, 'deleted_column', deleted_column) -%}
    {%- endif -%}
    {%- set compare_column = compare_column or column_name -%}

with current_rows as (

    select
        {{ column_name }} as key_value,
        {%- if deleted_column %}
        {{ deleted_column }} = 'True' as is_deleted
        {%- else %}
        false as is_deleted
        {%- endif %}
    from {{ model }}
    where {{ valid_to_column }} is null

),

keys_with_rows as (

    select distinct {{ column_name }} as key_value
    from {{ model }}

),

current_row_counts as (

    select
        keys_with_rows.key_value,
        count(current_rows.key_value) as current_rows
    from keys_with_rows
    left join current_rows
        on keys_with_rows.key_value = current_rows.key_value
    group by 1

),

validation_errors as (

    select
        cast(key_value as {{ dbt.type_string() }}) as key_value,
        'has ' || cast(current_rows as {{ dbt.type_string() }}) || ' current rows' as problem
    from current_row_counts
    where current_rows <> 1
    {%- if compare_model is not none %}

    union all

    select
        cast(compared.{{ compare_column }} as {{ dbt.type_string() }}) as key_value,
        'is in the compared model but has no current, not-deleted row' as problem
    from {{ compare_model }} as compared
    left join current_rows
        on compared.{{ compare_column }} = current_rows.key_value
        and not current_rows.is_deleted
    where current_rows.key_value is null

    union all

    select
        cast(current_rows.key_value as {{ dbt.type_string() }}) as key_value,
        'has a current, not-deleted row but is no longer in the compared model' as problem
    from current_rows
    left join {{ compare_model }} as compared
        on current_rows.key_value = compared.{{ compare_column }}
    where not current_rows.is_deleted
        and compared.{{ compare_column }} is null
    {%- endif %}

)

select * from validation_errors
{% endtest %}
