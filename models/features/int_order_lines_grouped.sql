{#-
    The one stored table derived from every order line, in one pass: the lines that count
    summed per customer, order and day, and the excluded lines one row per distinct line
    (identical excluded lines share a row, line_count says how many). Every input line is in
    exactly one row. Incremental on DuckDB (macros/incremental/order_lines_state.sql): a
    build reads only the lines of the window int_order_lines_window decided (the last var
    incremental_lookback_days days before the watermark and later, plus undated and
    pre-min_order_date lines), after deleting their rows; the window's model has checked
    the days before unchanged against the input, and int_order_keys_reread has kept the
    keys of the deleted rows.
-#}
{%- set slice = order_lines_window(is_incremental()) -%}
{{ config(
    pre_hook="{{ order_lines_delete_slice() }}",
    **order_lines_state_config()
) }}
-- depends_on: {{ ref('int_order_lines_window') }}
-- depends_on: {{ ref('int_order_keys_reread') }}
with order_lines as {{ cte_not_materialized() }} (

    {{ order_lines_slice_select(ref('stg_orders'), slice) }}

),

{{ order_lines_checks('order_lines') }},

{#- Excluded lines keep what they were read as; lines that count only their order keys. -#}
keyed as (

    select
        customer_id,
        order_id,
        order_date,
        customer_id_as_given,
        exclusion_reason,
        case when exclusion_reason is not null then ordered_at end as excluded_ordered_at,
        case when exclusion_reason is not null then order_status end as excluded_order_status,
        case when exclusion_reason is not null then quantity end as excluded_quantity,
        case when exclusion_reason is not null then amount end as excluded_amount,
        ordered_at_text,
        amount_text,
        is_flagged_cancelled,
        ordered_at,
        amount,
        source_row_fingerprint
    from checked

),

grouped as (

    select
        customer_id,
        order_id,
        order_date,
        customer_id_as_given,
        exclusion_reason,
        excluded_order_status as order_status,
        excluded_quantity as quantity,
        excluded_amount as line_amount,
        ordered_at_text,
        amount_text,
        excluded_ordered_at,
        {{ dbt.bool_or('is_flagged_cancelled') }} as is_flagged_cancelled,
        min(ordered_at) as ordered_at,
        sum(amount) as amount,
        count(*) as line_count,
        {{ order_lines_checksum('source_row_fingerprint') }} as row_checksum,
        cast({{ order_lines_settings_fingerprint() }} as {{ dbt.type_bigint() }}) as settings_fingerprint
    from keyed
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11

),

{#- The excluded lines' time is a key above; it is their `ordered_at` already. -#}
final as (

    select
        customer_id,
        order_id,
        order_date,
        customer_id_as_given,
        exclusion_reason,
        order_status,
        quantity,
        line_amount,
        ordered_at_text,
        amount_text,
        is_flagged_cancelled,
        ordered_at,
        amount,
        line_count,
        row_checksum,
        settings_fingerprint
    from grouped

)

select * from final
