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
    Exact duplicates are numbered within their input-row fingerprint (a hash of every input
    column), their ids and their read time and amount: the copies of one row share all of
    these, and a hash collision between different rows would also need the same ids, time
    and amount. One window over typed keys; numbering within the texts as well cost twice
    as much on 20M lines.
-#}
numbered as (

    select
        order_lines.*,
        as_of.as_of_date,
        row_number() over (
            partition by
                order_lines.source_row_fingerprint,
                order_lines.order_id,
                order_lines.customer_id,
                order_lines.ordered_at,
                order_lines.amount
            order by order_lines.ordered_at
        ) as copy_number
    from order_lines
    cross join as_of

),

checked as (

    select
        order_id,
        customer_id,
        customer_id_as_given,
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
            when cast(ordered_at as date) < {{ min_order_date_literal() }} then 'before_min_order_date'
            when cast(ordered_at as date) > as_of_date then 'after_as_of_date'
            when copy_number > 1 then 'exact_duplicate_row'
        end as exclusion_reason,
        ordered_at_text,
        amount_text
    from numbered

)

select * from checked
