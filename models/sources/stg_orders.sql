{#-
    One row per order line as the user's data has it: renamed to the input contract, typed,
    trimmed. Nothing is dropped here; int_order_lines_checked decides what is excluded and why.
-#}
{%- set settings = input_settings('orders') -%}

{%- if settings['enabled'] -%}
{%- set relation = input_relation('orders') -%}
{%- set input = input_columns('orders', relation) -%}
{%- set col = input['columns'] -%}
{%- set types = input['types'] -%}
{%- if col['amount'] is none and (col['quantity'] is none or col['unit_price'] is none) -%}
    {{ exceptions.raise_compiler_error("The orders input needs an amount: map `amount`, or both `quantity` and `unit_price` (amount = quantity * unit_price), in var orders_input.columns. Its columns are: " ~ (input['available'] | join(', '))) }}
{%- endif -%}
{%- set cancelled_tests = [] -%}
{%- if col['is_cancelled'] is not none -%}
    {%- do cancelled_tests.append("coalesce(" ~ parse_boolean(col['is_cancelled']) ~ ", false)") -%}
{%- endif -%}
{%- if col['status'] is not none and settings['cancelled_statuses'] -%}
    {%- set statuses = [] -%}
    {%- for status in settings['cancelled_statuses'] -%}{%- do statuses.append(quote_literal(status | lower)) -%}{%- endfor -%}
    {%- do cancelled_tests.append("coalesce(lower(" ~ clean_text(col['status']) ~ ") in (" ~ statuses | join(', ') ~ "), false)") -%}
{%- endif -%}
{%- if settings['cancelled_order_id_prefix'] -%}
    {%- set prefix = quote_literal(settings['cancelled_order_id_prefix']) -%}
    {%- do cancelled_tests.append("coalesce(" ~ dbt.position(prefix, clean_text(col['order_id'])) ~ " = 1, false)") -%}
{%- endif -%}
{%- if col['amount'] is not none -%}
    {%- set amount_sql = parse_number(col['amount'], types.get('amount'), settings['decimal_separator']) -%}
    {%- set amount_text_sql = clean_text(col['amount']) -%}
{%- else -%}
    {%- set amount_sql = 'cast(' ~ parse_number(col['quantity'], types.get('quantity'), settings['decimal_separator']) ~ ' * ' ~ parse_number(col['unit_price'], types.get('unit_price'), settings['decimal_separator']) ~ ' as ' ~ dbt.type_numeric() ~ ')' -%}
    {%- set amount_text_sql = clean_text(col['quantity']) ~ " || ' x ' || " ~ clean_text(col['unit_price']) -%}
{%- endif -%}
{%- set ordered_at_sql = parse_timestamp(col['ordered_at'], settings['timestamp_format'], types.get('ordered_at')) -%}
{%- set customer_id_sql = normalize_id(col['customer_id']) if settings['normalize_ids'] else clean_text(col['customer_id']) -%}
{%- set source_columns = [] -%}
{%- for name in input['available'] -%}{%- do source_columns.append(quote_identifier(name)) -%}{%- endfor -%}

{#- The line's file, when the input is listed by file (order_input_files_enabled). -#}
{%- set file_column = order_input_file_column() if order_input_files_enabled() else none %}

with source as (

    select * from {{ input_relation('orders', file_column) if file_column else relation }}

),

renamed as (

    select
        {{ normalize_id(col['order_id']) if settings['normalize_ids'] else clean_text(col['order_id']) }} as order_id,
        {{ customer_id_sql }} as customer_id,
        {#- The id as written, only where normalisation changed it (counted as merges). #}
        case when {{ customer_id_sql }} <> {{ clean_text(col['customer_id']) }} then {{ clean_text(col['customer_id']) }} end as customer_id_as_given,
        {{ clean_text(col['status']) if col['status'] is not none else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as order_status,
        {{ (cancelled_tests | join(' or ')) if cancelled_tests else 'false' }} as is_flagged_cancelled,
        {{ amount_sql }} as amount,
        {{ parse_number(col['quantity'], types.get('quantity'), settings['decimal_separator']) if col['quantity'] is not none else 'cast(null as ' ~ dbt.type_numeric() ~ ')' }} as quantity,
        {{ ordered_at_sql }} as ordered_at,
        {#- The texts only where reading failed: writing 20M timestamps back out as text cost
            more than reading them. CASE computes the text for those lines alone. #}
        case when {{ ordered_at_sql }} is null then {{ clean_text(col['ordered_at']) }} end as ordered_at_text,
        case when {{ amount_sql }} is null then {{ amount_text_sql }} end as amount_text,
        {{ row_fingerprint(source_columns) }} as source_row_fingerprint,
        {{ quote_identifier(file_column) if file_column else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as source_file_name
    from source

)

select * from renamed

{%- else -%}

{#- orders_input.enabled = false: a survey-style data set with customers and no orders. -#}
select
    cast(null as {{ dbt.type_string() }}) as order_id,
    cast(null as {{ dbt.type_string() }}) as customer_id,
    cast(null as {{ dbt.type_string() }}) as customer_id_as_given,
    cast(null as {{ dbt.type_string() }}) as order_status,
    false as is_flagged_cancelled,
    cast(null as {{ dbt.type_numeric() }}) as amount,
    cast(null as {{ dbt.type_numeric() }}) as quantity,
    cast(null as {{ dbt.type_timestamp() }}) as ordered_at,
    cast(null as {{ dbt.type_string() }}) as ordered_at_text,
    cast(null as {{ dbt.type_string() }}) as amount_text,
    cast(null as {{ dbt.type_bigint() }}) as source_row_fingerprint,
    cast(null as {{ dbt.type_string() }}) as source_file_name
where 1 = 0

{%- endif %}
