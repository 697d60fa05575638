{#-
    No customer is lost or invented on the way to the features: the distinct customer ids
    of the two staged inputs are exactly the rows of int_customers_unioned, and
    customer_features has one row per customer of it without an exclusion reason.
    Fails with one row per count that does not match.
-#}
with customers_input as (

    select customer_id from {{ ref('stg_customers') }}

),

order_lines as (

    {#- The staged ids as stored in int_order_lines_grouped (every line of stg_orders is in
        one row, see assert_order_lines_conserved): reading the view would parse every line
        again. -#}
    select customer_id from {{ ref('int_order_lines_grouped') }}

),

customers_unioned as (

    select * from {{ ref('int_customers_unioned') }}

),

customer_features as (

    select customer_id from {{ ref('customer_features') }}

),

staged_ids as (

    select customer_id from customers_input where customer_id is not null
    union all
    select customer_id from order_lines where customer_id is not null

),

counts as (

    select
        (select count(distinct customer_id) from staged_ids) as staged_customers,
        (select count(*) from customers_unioned) as unioned_customers,
        (select count(*) from customers_unioned where exclusion_reason is null) as included_customers,
        (select count(*) from customer_features) as feature_customers

),

validation_errors as (

    select
        'distinct staged customer ids <> rows of int_customers_unioned' as mismatch,
        staged_customers as expected_rows,
        unioned_customers as actual_rows
    from counts
    where staged_customers <> unioned_customers

    union all

    select
        'included rows of int_customers_unioned <> rows of customer_features' as mismatch,
        included_customers as expected_rows,
        feature_customers as actual_rows
    from counts
    where included_customers <> feature_customers

)

select * from validation_errors
