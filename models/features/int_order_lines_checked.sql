{#-
    Every staged order line with the reason it is excluded, or null when it counts.
    Reasons are checked in this order; a line gets the first that applies.
-#}
with order_lines as (

    select * from {{ ref('stg_orders') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

{#-
    Exact duplicates share the fingerprint of their input row. Grouping the lines by that one
    number is far cheaper than numbering every line within (fingerprint, ids, texts), so only
    lines whose fingerprint repeats - the copies, and the rare hash collisions - are numbered;
    every other line is the only copy of itself. Same result as numbering all lines (the
    fingerprint is never null).
-#}
repeated_fingerprints as (

    select source_row_fingerprint
    from order_lines
    group by 1
    having count(*) > 1

),

numbered as (

    select
        order_lines.*,
        as_of.as_of_date,
        row_number() over (
            partition by
                order_lines.source_row_fingerprint,
                order_lines.order_id,
                order_lines.customer_id,
                order_lines.ordered_at_text,
                order_lines.amount_text
            order by order_lines.ordered_at
        ) as copy_number
    from order_lines
    cross join as_of
    where order_lines.source_row_fingerprint in (select source_row_fingerprint from repeated_fingerprints)

    union all

    select
        order_lines.*,
        as_of.as_of_date,
        1 as copy_number
    from order_lines
    cross join as_of
    where not coalesce(
        order_lines.source_row_fingerprint in (select source_row_fingerprint from repeated_fingerprints),
        false)

),

checked as (

    select
        order_id,
        customer_id,
        order_status,
        is_flagged_cancelled,
        amount,
        quantity,
        ordered_at,
        cast(ordered_at as date) as order_date,
        as_of_date,
        case
            when customer_id is null then 'missing_customer_id'
            when order_id is null then 'missing_order_id'
            when ordered_at is null then 'unparseable_ordered_at'
            when amount is null then 'unparseable_amount'
            when cast(ordered_at as date) > as_of_date then 'after_as_of_date'
            when copy_number > 1 then 'exact_duplicate_row'
        end as exclusion_reason,
        ordered_at_text,
        amount_text
    from numbered

)

select * from checked
