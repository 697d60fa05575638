{#-
    One row per row of the customers input, renamed to the input contract, typed and
    trimmed. Optional columns the input lacks are null. With customers_input.enabled = false
    this is empty and customers come from the distinct ids in orders.
-#}
{%- set settings = input_settings('customers') -%}

{%- if settings['enabled'] -%}
{%- set relation = input_relation('customers') -%}
{%- set input = input_columns('customers', relation) -%}
{%- set col = input['columns'] -%}
{%- set source_columns = [] -%}
{%- for name in input['available'] -%}{%- do source_columns.append(quote_identifier(name)) -%}{%- endfor -%}
{%- set customer_id_sql = normalize_id(col['customer_id']) if settings['normalize_ids'] else clean_text(col['customer_id']) -%}
{%- set null_text = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}

with source as (

    select * from {{ relation }}

),

renamed as (

    select
        {{ customer_id_sql }} as customer_id,
        {#- The id as written, only where normalisation changed it (counted as merges). #}
        case when {{ customer_id_sql }} <> {{ clean_text(col['customer_id']) }} then {{ clean_text(col['customer_id']) }} end as customer_id_as_given,
        {% if col['gender'] is not none -%}
        case
            when lower({{ clean_text(col['gender']) }}) in ('f', 'female', 'woman', 'w') then 'F'
            when lower({{ clean_text(col['gender']) }}) in ('m', 'male', 'man') then 'M'
            when {{ clean_text(col['gender']) }} is not null then 'X'
        end as gender,
        {%- else -%}
        {{ null_text }} as gender,
        {%- endif %}
        {{ clean_text(col['country']) if col['country'] is not none else null_text }} as country,
        {{ clean_text(col['region']) if col['region'] is not none else null_text }} as region,
        {{ clean_text(col['city']) if col['city'] is not none else null_text }} as city,
        {{ parse_boolean(col['marketing_consent']) if col['marketing_consent'] is not none else 'cast(null as boolean)' }} as has_marketing_consent,
        {{ parse_number(col['age'], none, settings['decimal_separator']) if col['age'] is not none else 'cast(null as ' ~ dbt.type_numeric() ~ ')' }} as reported_age,
        {{ parse_date(col['birth_date'], settings['date_format']) if col['birth_date'] is not none else 'cast(null as date)' }} as birth_date,
        {{ parse_date(col['signup_date'], settings['date_format']) if col['signup_date'] is not none else 'cast(null as date)' }} as signup_date,
        {#- The texts only where a date was given but could not be read (counted, and the
            cluster reason says "unreadable"). #}
        {%- for name in ['birth_date', 'signup_date'] %}
        {% if col[name] is not none -%}
        case when {{ parse_date(col[name], settings['date_format']) }} is null then {{ clean_text(col[name]) }} end
        {%- else -%}
        {{ null_text }}
        {%- endif %} as unreadable_{{ name }}_text,
        {%- endfor %}
        {{ row_fingerprint(source_columns) }} as source_row_fingerprint
    from source

)

select * from renamed

{%- else -%}

select
    cast(null as {{ dbt.type_string() }}) as customer_id,
    cast(null as {{ dbt.type_string() }}) as customer_id_as_given,
    cast(null as {{ dbt.type_string() }}) as gender,
    cast(null as {{ dbt.type_string() }}) as country,
    cast(null as {{ dbt.type_string() }}) as region,
    cast(null as {{ dbt.type_string() }}) as city,
    cast(null as boolean) as has_marketing_consent,
    cast(null as {{ dbt.type_numeric() }}) as reported_age,
    cast(null as date) as birth_date,
    cast(null as date) as signup_date,
    cast(null as {{ dbt.type_string() }}) as unreadable_birth_date_text,
    cast(null as {{ dbt.type_string() }}) as unreadable_signup_date_text,
    cast(null as {{ dbt.type_bigint() }}) as source_row_fingerprint
where 1 = 0

{%- endif %}
