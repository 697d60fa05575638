{#-
    Every distinct customer id that comes in, from the customers input and from orders,
    with its attributes and the reason it is left out of the features (null = included).
    Customers who were not yet known at the as-of date are left out, so a build for a past
    date reproduces what was known then.
    Stops first when too many customer rows have no readable id (assert_excluded_line_share).
-#}
{{ assert_excluded_line_share(
    "(select case when customer_id is null then 'missing_customer_id_in_customers_input' end as exclusion_reason from "
    ~ ref('stg_customers') ~ ") as customer_rows", 'customers') }}
with customers as (

    select * from {{ ref('stg_customers') }}

),

order_customers as (

    select * from {{ ref('int_order_customers') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

{%- set attributes = ['customer_id', 'gender', 'country', 'region', 'city', 'has_marketing_consent',
                      'reported_age', 'birth_date', 'signup_date', 'unreadable_birth_date_text',
                      'unreadable_signup_date_text'] %}
{#- A customer id given once is its row (nearly every id: one hash aggregation finds the
    rest); only the rows of an id given more than once are numbered, and the first by
    signup date, then fingerprint, is kept. The same rows as one window over every row,
    without sorting millions of rows by id (the fingerprint is hashed for the repeats only). -#}
repeated_ids as (

    select customer_id
    from customers
    where customer_id is not null
    group by 1
    having count(*) > 1

),

customers_deduplicated as (

    select
        {{ attributes | join(',\n        ') }}
    from customers
    where
        customer_id is not null
        and customer_id not in (select repeated_ids.customer_id from repeated_ids)

    union all

    select
        {{ attributes | join(',\n        ') }}
    from (
        select
            customers.*,
            row_number() over (
                partition by customers.customer_id
                order by customers.signup_date, customers.source_row_fingerprint
            ) as copy_number
        from customers
        where customers.customer_id in (select repeated_ids.customer_id from repeated_ids)
    ) as repeated
    where copy_number = 1

),

unioned as (

    select
        coalesce(customers_deduplicated.customer_id, order_customers.customer_id) as customer_id,
        customers_deduplicated.customer_id is not null as is_in_customers_input,
        order_customers.customer_id is not null as is_in_orders_input,
        case
            when customers_deduplicated.customer_id is null
                and not order_customers.has_lines_up_to_as_of_date
                then 'only_orders_after_as_of_date'
            when customers_deduplicated.signup_date > as_of.as_of_date
                and not coalesce(order_customers.has_lines_up_to_as_of_date, false)
                then 'signed_up_after_as_of_date'
        end as exclusion_reason,
        customers_deduplicated.gender,
        customers_deduplicated.country,
        customers_deduplicated.region,
        customers_deduplicated.city,
        customers_deduplicated.has_marketing_consent,
        customers_deduplicated.reported_age,
        customers_deduplicated.birth_date,
        customers_deduplicated.signup_date,
        coalesce(customers_deduplicated.unreadable_birth_date_text is not null, false) as has_unreadable_birth_date,
        coalesce(customers_deduplicated.unreadable_signup_date_text is not null, false) as has_unreadable_signup_date,
        as_of.as_of_date
    from customers_deduplicated
    full outer join order_customers
        on customers_deduplicated.customer_id = order_customers.customer_id
    cross join as_of

)

select * from unioned
