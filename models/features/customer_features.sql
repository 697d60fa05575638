{#-
    One row per customer known at the as-of date, including customers with no orders:
    RFM measures, tenure, demographics and geography, and the R, F and M quantile scores.
-#}
with customers as (

    select * from {{ ref('int_customers_unioned') }}
    where exclusion_reason is null

),

order_summaries as (

    select * from {{ ref('int_customers_orders_summarized') }}

),

joined as (

    select
        customers.customer_id,
        customers.is_in_customers_input,
        customers.gender,
        customers.country,
        customers.region,
        customers.city,
        customers.has_marketing_consent,
        customers.reported_age,
        customers.birth_date,
        customers.signup_date,
        customers.as_of_date,
        coalesce(order_summaries.frequency, 0) as frequency,
        coalesce(order_summaries.monetary, 0) as monetary,
        coalesce(order_summaries.gross_revenue, 0) as gross_revenue,
        coalesce(order_summaries.refunded_amount, 0) as refunded_amount,
        coalesce(order_summaries.cancellation_count, 0) as cancellation_count,
        order_summaries.first_order_date,
        order_summaries.last_order_date,
        coalesce(order_summaries.frequency, 0) > 0 as has_purchases
    from customers
    left join order_summaries
        on customers.customer_id = order_summaries.customer_id

),

derived as (

    select
        *,
        cast({{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as {{ dbt.type_bigint() }}) as recency_days,
        cast({{ dbt.datediff(
            'case when signup_date is null then first_order_date'
            ~ ' when first_order_date is null then signup_date'
            ~ ' when signup_date < first_order_date then signup_date else first_order_date end',
            'as_of_date', 'day') }} as {{ dbt.type_bigint() }}) as tenure_days,
        case
            when reported_age is not null then cast(floor(reported_age) as integer)
            when birth_date is not null then
                {{ dbt.datediff('birth_date', 'as_of_date', 'year') }}
                - case
                    when extract(month from as_of_date) * 100 + extract(day from as_of_date)
                        < extract(month from birth_date) * 100 + extract(day from birth_date)
                        then 1
                    else 0
                end
        end as raw_age
    from joined

),

measured as (

    select
        *,
        -- Explicit types: the contract's on every engine (Spark gives int for dates and
        -- a decimal for a decimal division, DuckDB bigint and double).
        cast(case when raw_age between 0 and 120 then raw_age end as {{ dbt.type_bigint() }}) as age,
        case when has_purchases then cast(gross_revenue as {{ type_double() }}) / frequency end as avg_order_value,
        case
            when frequency + cancellation_count > 0
                then cast(cancellation_count as {{ type_double() }}) / (frequency + cancellation_count)
        end as cancellation_rate
    from derived

),

{#- Quantile scores come from the distinct values with their counts (rfm_quantile_scores),
    joined back on the value; fixed edges are a CASE on the row. #}
{%- set rfm_inputs = [('recency', 'recency_days', false), ('frequency', 'frequency', true), ('monetary', 'monetary', true)] %}
{%- for score, column, higher_is_better in rfm_inputs if rfm_scoring(score).method != 'edges' %}
{{ score }}_quantile_scores as (

    {{ rfm_quantile_scores(column, 'measured', higher_is_better=higher_is_better) | indent(4) }}

),
{% endfor %}

scored as (

    select
        measured.*,
        {%- for score, column, higher_is_better in rfm_inputs %}
        {%- set quantiles = rfm_scoring(score).method != 'edges' %}
        {{ rfm_score('measured.' ~ column, score, higher_is_better=higher_is_better, scored_flag='measured.has_purchases',
                     ranks=(score ~ '_quantile_scores') if quantiles else none) }} as {{ score }}_score{{ ',' if not loop.last }}
        {%- endfor %}
    from measured
    {%- for score, column, higher_is_better in rfm_inputs if rfm_scoring(score).method != 'edges' %}
    {#- On the value alone, so it is a hash join; rfm_score keeps the score to scored customers. #}
    left join {{ score }}_quantile_scores
        on measured.{{ column }} = {{ score }}_quantile_scores.value
    {%- endfor %}

),

final as (

    select
        customer_id,
        gender,
        age,
        {{ age_band('age') }} as age_band,
        country,
        region,
        city,
        has_marketing_consent,
        is_in_customers_input,
        has_purchases,
        recency_days,
        frequency,
        monetary,
        gross_revenue,
        refunded_amount,
        avg_order_value,
        cancellation_count,
        cancellation_rate,
        tenure_days,
        recency_score,
        frequency_score,
        monetary_score,
        case
            when has_purchases then
                cast(recency_score as {{ dbt.type_string() }})
                || cast(frequency_score as {{ dbt.type_string() }})
                || cast(monetary_score as {{ dbt.type_string() }})
        end as rfm_cell,
        signup_date,
        birth_date,
        first_order_date,
        last_order_date,
        as_of_date
    from scored

)

select * from final
