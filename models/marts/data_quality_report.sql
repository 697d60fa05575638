{#-
    One row per data-quality check on the inputs, with how many rows and customers it
    touched and what the project did about it. Every check is listed, even at zero, so a
    reader can see it ran. Nothing is dropped without a row here.
-#}
with order_lines as (

    select * from {{ ref('int_order_lines_checked') }}

),

orders as (

    select * from {{ ref('int_orders_aggregated') }}

),

customers_input as (

    select * from {{ ref('stg_customers') }}

),

customers as (

    select * from {{ ref('int_customers_unioned') }}

),

customer_features as (

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
        select customer_id from {{ relation }} where customer_id_as_given is not null
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
        count(*) as rows_affected,
        count(distinct customer_id) as customers_affected,
        sum(amount) as amount_affected
    from order_lines
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
        'cancelled_orders',
        'orders',
        'Order flagged cancelled (status or id prefix) with a non-negative amount',
        'Kept: counted in cancellation_count; adds nothing to monetary (never paid).',
        count(*),
        count(distinct customer_id),
        sum(order_amount)
    from orders
    where order_kind = 'cancelled'

    union all

    select
        'zero_amount_orders',
        'orders',
        'Order whose lines sum to exactly zero and is not flagged cancelled',
        'Kept but not counted as a purchase (frequency) and adds nothing to monetary.',
        count(*),
        count(distinct customer_id),
        sum(order_amount)
    from orders
    where order_kind = 'zero_amount'

    union all

    select
        'negative_net_monetary',
        'customers',
        'Customer whose refunds exceed their purchases',
        'Kept: monetary is negative (the true net); scored like any other value.',
        count(*),
        count(*),
        sum(monetary)
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
        'duplicate_customer_rows',
        'customers',
        'Extra rows for a customer id already seen in the customers input',
        'Collapsed to one row per customer (earliest signup date, then a stable row hash).',
        coalesce(sum(input_rows - 1), 0),
        count(*),
        cast(null as {{ dbt.type_numeric() }})
    from customer_input_rows
    where input_rows > 1

    union all

    select
        'customers_only_in_orders',
        'customers',
        'Customer id found in orders but not in the customers input',
        'Included with null demographics (is_in_customers_input = false).',
        count(*),
        count(*),
        cast(null as {{ dbt.type_numeric() }})
    from customers
    where is_in_orders_input and not is_in_customers_input and exclusion_reason is null
        and {{ 'true' if input_settings('customers')['enabled'] else 'false' }}

    union all

    select
        'only_orders_after_as_of_date',
        'customers',
        'Customer known only from orders dated after the as-of date',
        'Left out of this as-of date: not yet a customer then.',
        count(*),
        count(*),
        cast(null as {{ dbt.type_numeric() }})
    from customers
    where exclusion_reason = 'only_orders_after_as_of_date'

    union all

    select
        'signed_up_after_as_of_date',
        'customers',
        'Customer who signed up after the as-of date and had no earlier order',
        'Left out of this as-of date: not yet a customer then.',
        count(*),
        count(*),
        cast(null as {{ dbt.type_numeric() }})
    from customers
    where exclusion_reason = 'signed_up_after_as_of_date'

    union all

    select
        'customer_ids_merged_in_orders',
        'customers',
        'Customer id written two ways in the orders input (12.0 and 12) that normalise to one',
        'Merged into one customer (orders_input.normalize_ids); each extra form counted here. Set normalize_ids: false to keep them apart.',
        coalesce(sum(id_forms - 1), 0),
        count(*),
        cast(null as {{ dbt.type_numeric() }})
    from orders_merged_ids
    where id_forms > 1

    union all

    select
        'customer_ids_merged_in_customers_input',
        'customers',
        'Customer id written two ways in the customers input (12.0 and 12) that normalise to one',
        'Merged into one customer (customers_input.normalize_ids); each extra form counted here. Set normalize_ids: false to keep them apart.',
        coalesce(sum(id_forms - 1), 0),
        count(*),
        cast(null as {{ dbt.type_numeric() }})
    from customers_merged_ids
    where id_forms > 1

    union all

    select
        'unreadable_birth_date',
        'customers',
        'birth_date given but not a readable date (set customers_input.date_format)',
        'Kept with birth_date and age null; the cluster reason says "unreadable age".',
        count(*),
        count(distinct customer_id),
        cast(null as {{ dbt.type_numeric() }})
    from customers_input
    where unreadable_birth_date_text is not null

    union all

    select
        'unreadable_signup_date',
        'customers',
        'signup_date given but not a readable date (set customers_input.date_format)',
        'Kept with signup_date null (tenure from the first order); the cluster reason says "unreadable tenure_days" when tenure is then missing.',
        count(*),
        count(distinct customer_id),
        cast(null as {{ dbt.type_numeric() }})
    from customers_input
    where unreadable_signup_date_text is not null

    union all

    select
        'implausible_age',
        'customers',
        'Age (given or from birth date) below 0 or above 120 at the as-of date',
        'Age set to null; the customer is kept.',
        count(*),
        count(*),
        cast(null as {{ dbt.type_numeric() }})
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
