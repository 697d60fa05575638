{#-
    One row per data-quality check on the inputs, with how many rows and customers it
    touched and what the project did about it. Every check is listed, even at zero, so a
    reader can see it ran. Nothing is dropped without a row here.
-#}
{#- The stored tables are each read by several checks: inlined, not materialized (DuckDB
    would first copy every row of a CTE read more than once; the order state has one row
    per order). -#}
with order_lines as {{ cte_not_materialized() }} (

    {#- Every line is in one stored row (line_count lines), never re-read here. -#}
    select * from {{ ref('int_order_lines_grouped') }}

),

excluded_lines as (

    select * from {{ ref('int_order_lines_excluded') }}

),

orders as {{ cte_not_materialized() }} (

    select * from {{ ref('int_orders_aggregated') }}

),

customers_input as (

    select * from {{ ref('stg_customers') }}

),

customers as {{ cte_not_materialized() }} (

    select * from {{ ref('int_customers_unioned') }}

),

customer_features as {{ cte_not_materialized() }} (

    select * from {{ ref('customer_features') }}

),

customer_input_rows as (

    select
        customer_id,
        count(*) as input_rows
    from customers_input
    where customer_id is not null
    group by 1

),

{#- A normalised id written more than one way ('12.0' and '12') in one input: the forms
    are merged into one customer, and every form beyond the first is counted here. -#}
{%- for input_name, relation in [('orders', 'order_lines'), ('customers', 'customers_input')] %}
{{ input_name }}_merged_ids as (

    select
        {{ relation }}.customer_id,
        count(distinct coalesce({{ relation }}.customer_id_as_given, {{ relation }}.customer_id)) as id_forms
    from {{ relation }}
    where {{ relation }}.customer_id in (
        select given.customer_id from {{ relation }} as given where given.customer_id_as_given is not null
    )
    group by 1

),

{% endfor -%}

line_reasons as (

    {%- set line_checks = [
        ('missing_customer_id', 'Order line has no customer id', 'Excluded; counted here. Its amount is not attributed to anyone.'),
        ('missing_order_id', 'Order line has no order id', 'Excluded; cannot be counted as an order.'),
        ('unparseable_ordered_at', 'Order timestamp missing or not a valid date/time', 'Excluded. Fix the data or set orders_input.timestamp_format.'),
        ('unparseable_amount', 'Amount (or quantity x unit price) missing or not a number', 'Excluded.'),
        ('before_min_order_date', 'Order dated before var min_order_date (year 1, BC, 1900: a placeholder, not a real order)', 'Excluded. Lower var min_order_date if such old orders are real.'),
        ('after_as_of_date', 'Order dated after the as-of date (future or later than var as_of_date)', 'Ignored for this as-of date, so a past build reproduces what was known then.'),
        ('exact_duplicate_row', 'Row identical in every column to an earlier row', 'Dropped as a double load; the first copy counts.'),
    ] -%}
    {%- for reason, description, treatment in line_checks %}
    select
        '{{ reason }}' as check_name,
        'order_lines' as checked_input,
        '{{ description }}' as description,
        '{{ treatment }}' as treatment,
        coalesce(sum(line_count), 0) as rows_affected,
        count(distinct customer_id) as customers_affected,
        sum(amount) as amount_affected
    from excluded_lines
    where exclusion_reason = '{{ reason }}'
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

order_checks as (

    select
        'refund_orders' as check_name,
        'orders' as checked_input,
        'Order whose lines sum below zero (refund, return, negative cancellation)' as description,
        'Kept: netted against monetary and counted in cancellation_count.' as treatment,
        count(*) as rows_affected,
        count(distinct customer_id) as customers_affected,
        sum(order_amount) as amount_affected
    from orders
    where order_kind = 'refund'

    union all

    select
        'cancelled_orders' as check_name,
        'orders' as checked_input,
        'Order flagged cancelled (status or id prefix) with a non-negative amount' as description,
        'Kept: counted in cancellation_count; adds nothing to monetary (never paid).' as treatment,
        count(*) as rows_affected,
        count(distinct customer_id) as customers_affected,
        sum(order_amount) as amount_affected
    from orders
    where order_kind = 'cancelled'

    union all

    select
        'zero_amount_orders' as check_name,
        'orders' as checked_input,
        'Order whose lines sum to exactly zero and is not flagged cancelled' as description,
        'Kept but not counted as a purchase (frequency) and adds nothing to monetary.' as treatment,
        count(*) as rows_affected,
        count(distinct customer_id) as customers_affected,
        sum(order_amount) as amount_affected
    from orders
    where order_kind = 'zero_amount'

    union all

    select
        'negative_net_monetary' as check_name,
        'customers' as checked_input,
        'Customer whose refunds exceed their purchases' as description,
        'Kept: monetary is negative (the true net); scored like any other value.' as treatment,
        count(*) as rows_affected,
        count(*) as customers_affected,
        sum(monetary) as amount_affected
    from customer_features
    where monetary < 0

),

customer_checks as (

    select
        'missing_customer_id_in_customers_input' as check_name,
        'customers' as checked_input,
        'Row of the customers input without a customer id' as description,
        'Excluded: it cannot be matched to orders.' as treatment,
        count(*) as rows_affected,
        0 as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customers_input
    where customer_id is null

    union all

    select
        'duplicate_customer_rows' as check_name,
        'customers' as checked_input,
        'Extra rows for a customer id already seen in the customers input' as description,
        'Collapsed to one row per customer (earliest signup date, then a stable row hash).' as treatment,
        coalesce(sum(input_rows - 1), 0) as rows_affected,
        count(*) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customer_input_rows
    where input_rows > 1

    union all

    select
        'customers_only_in_orders' as check_name,
        'customers' as checked_input,
        'Customer id found in orders but not in the customers input' as description,
        'Included with null demographics (is_in_customers_input = false).' as treatment,
        count(*) as rows_affected,
        count(*) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customers
    where is_in_orders_input and not is_in_customers_input and exclusion_reason is null
        and {{ 'true' if input_settings('customers')['enabled'] else 'false' }}

    union all

    select
        'only_orders_after_as_of_date' as check_name,
        'customers' as checked_input,
        'Customer known only from orders dated after the as-of date' as description,
        'Left out of this as-of date: not yet a customer then.' as treatment,
        count(*) as rows_affected,
        count(*) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customers
    where exclusion_reason = 'only_orders_after_as_of_date'

    union all

    select
        'signed_up_after_as_of_date' as check_name,
        'customers' as checked_input,
        'Customer who signed up after the as-of date and had no earlier order' as description,
        'Left out of this as-of date: not yet a customer then.' as treatment,
        count(*) as rows_affected,
        count(*) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customers
    where exclusion_reason = 'signed_up_after_as_of_date'

    union all

    select
        'customer_ids_merged_in_orders' as check_name,
        'customers' as checked_input,
        'Customer id written two ways in the orders input (12.0 and 12) that normalise to one' as description,
        'Merged into one customer (orders_input.normalize_ids); each extra form counted here. Set normalize_ids: false to keep them apart.' as treatment,
        coalesce(sum(id_forms - 1), 0) as rows_affected,
        count(*) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from orders_merged_ids
    where id_forms > 1

    union all

    select
        'customer_ids_merged_in_customers_input' as check_name,
        'customers' as checked_input,
        'Customer id written two ways in the customers input (12.0 and 12) that normalise to one' as description,
        'Merged into one customer (customers_input.normalize_ids); each extra form counted here. Set normalize_ids: false to keep them apart.' as treatment,
        coalesce(sum(id_forms - 1), 0) as rows_affected,
        count(*) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customers_merged_ids
    where id_forms > 1

    union all

    select
        'unreadable_birth_date' as check_name,
        'customers' as checked_input,
        'birth_date given but not a readable date (set customers_input.date_format)' as description,
        'Kept with birth_date and age null; the cluster reason says "unreadable age".' as treatment,
        count(*) as rows_affected,
        count(distinct customer_id) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customers_input
    where unreadable_birth_date_text is not null

    union all

    select
        'unreadable_signup_date' as check_name,
        'customers' as checked_input,
        'signup_date given but not a readable date (set customers_input.date_format)' as description,
        'Kept with signup_date null (tenure from the first order); the cluster reason says "unreadable tenure_days" when tenure is then missing.' as treatment,
        count(*) as rows_affected,
        count(distinct customer_id) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customers_input
    where unreadable_signup_date_text is not null

    union all

    select
        'implausible_age' as check_name,
        'customers' as checked_input,
        'Age (given or from birth date) below 0 or above 120 at the as-of date' as description,
        'Age set to null; the customer is kept.' as treatment,
        count(*) as rows_affected,
        count(*) as customers_affected,
        cast(null as {{ dbt.type_numeric() }}) as amount_affected
    from customer_features
    where age is null and birth_date is not null

),

unioned as (

    select * from line_reasons
    union all
    select * from order_checks
    union all
    select * from customer_checks

),

final as (

    select
        check_name,
        checked_input,
        description,
        treatment,
        cast(rows_affected as {{ dbt.type_bigint() }}) as rows_affected,
        cast(customers_affected as {{ dbt.type_bigint() }}) as customers_affected,
        cast(coalesce(amount_affected, 0) as {{ dbt.type_numeric() }}) as amount_affected
    from unioned

)

select * from final
