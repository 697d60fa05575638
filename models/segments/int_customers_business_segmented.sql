{#-
    Logical business segments from the editable rule table seeds/config/business_segment_rules.csv.
    Rules are data, never SQL: each row is `column operator value`; rows that share a
    segment_name are combined with AND; the matching segment with the lowest priority wins.
    An invalid row (unknown column or operator, a non-numeric value for a numeric column)
    stops the build with a message naming the row.
-#}
{%- set numeric_columns = business_rule_columns('numeric') -%}
{%- set text_columns = business_rule_columns('text') -%}
{%- set numeric_operators = ['=', '!=', '<', '<=', '>', '>='] -%}
{%- set text_operators = ['=', '!=', 'in', 'not in'] -%}
{%- set all_operators = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'is null', 'is not null', 'always'] -%}

with customer_features as (

    select * from {{ ref('customer_features') }}

),

rules as (

    select * from {{ ref('business_segment_rules') }}

),

conditions as (

    select
        cast(rule_id as integer) as rule_id,
        cast(priority as integer) as priority,
        {{ clean_text('segment_name') }} as segment_name,
        lower({{ clean_text('column_name') }}) as column_name,
        lower({{ clean_text('operator') }}) as operator,
        {{ clean_text('value') }} as rule_value,
        {{ try_cast(clean_text('value'), type_double()) }} as numeric_value,
        case
            when lower({{ clean_text('column_name') }}) in ('{{ numeric_columns | join("', '") }}') then 'numeric'
            when lower({{ clean_text('column_name') }}) in ('{{ text_columns | join("', '") }}') then 'text'
        end as column_kind
    from rules

),

validated as (

    select
        *,
        case
            when segment_name is null then 'segment_name is empty'
            when priority is null then 'priority is empty'
            when min(priority) over (partition by segment_name)
                <> max(priority) over (partition by segment_name)
                then 'the rows of segment "' || segment_name || '" have different priorities'
            when operator is null or operator not in ('{{ all_operators | join("', '") }}')
                then 'unknown operator "' || coalesce(operator, '') || '"; use one of: {{ all_operators | join(", ") }}'
            when operator = 'always' then null
            when column_kind is null
                then 'unknown column "' || coalesce(column_name, '') || '"; rules may test: {{ (numeric_columns + text_columns) | join(", ") }}'
            when operator in ('is null', 'is not null') then null
            when column_kind = 'numeric' and operator not in ('{{ numeric_operators | join("', '") }}')
                then 'operator "' || operator || '" does not apply to the numeric column ' || column_name
            when column_kind = 'numeric' and numeric_value is null
                then 'value "' || coalesce(rule_value, '') || '" for the numeric column ' || column_name || ' is not a number'
            when column_kind = 'text' and operator not in ('{{ text_operators | join("', '") }}')
                then 'operator "' || operator || '" does not apply to the text column ' || column_name
        end as problem
    from conditions

),

problems as (

    select
        {{ dbt.listagg(
            "'rule_id ' || cast(rule_id as " ~ dbt.type_string() ~ ") || ': ' || problem",
            "'; '",
            "order by rule_id") }} as message
    from validated
    where problem is not null

),

guard as (

    select
        case
            when message is not null
                then {{ raise_error("'Invalid business rule in seeds/config/business_segment_rules.csv: ' || message") }}
        end as failure
    from problems

),

segment_definitions as (

    select
        segment_name,
        min(priority) as priority,
        {{ dbt.listagg(
            "case when operator = 'always' then 'everyone else'"
            ~ " when operator in ('is null', 'is not null') then column_name || ' ' || operator"
            ~ " else column_name || ' ' || operator || ' ' || coalesce(rule_value, '') end",
            "' and '",
            "order by rule_id") }} as segment_rule
    from validated
    group by 1

),

customer_conditions as (

    select
        customer_features.customer_id,
        validated.segment_name,
        validated.priority,
        validated.operator,
        validated.column_kind,
        validated.numeric_value,
        validated.rule_value,
        case validated.column_name
            {%- for column in numeric_columns %}
            when '{{ column }}' then cast(customer_features.{{ column }} as {{ type_double() }})
            {%- endfor %}
        end as numeric_feature,
        case validated.column_name
            {%- for column in text_columns %}
            when '{{ column }}' then cast(customer_features.{{ column }} as {{ dbt.type_string() }})
            {%- endfor %}
        end as text_feature
    from customer_features
    cross join validated

),

evaluated as (

    select
        customer_id,
        segment_name,
        priority,
        coalesce(
            case
                when operator = 'always' then true
                when operator = 'is null' then numeric_feature is null and text_feature is null
                when operator = 'is not null' then numeric_feature is not null or text_feature is not null
                when column_kind = 'numeric' then
                    case operator
                        when '=' then numeric_feature = numeric_value
                        when '!=' then numeric_feature <> numeric_value
                        when '<' then numeric_feature < numeric_value
                        when '<=' then numeric_feature <= numeric_value
                        when '>' then numeric_feature > numeric_value
                        when '>=' then numeric_feature >= numeric_value
                    end
                when column_kind = 'text' then
                    case operator
                        when '=' then text_feature = rule_value
                        when '!=' then text_feature <> rule_value
                        when 'in' then {{ dbt.position("'|' || text_feature || '|'", "'|' || rule_value || '|'") }} > 0
                        when 'not in' then {{ dbt.position("'|' || text_feature || '|'", "'|' || rule_value || '|'") }} = 0
                    end
            end,
            false
        ) as is_met
    from customer_conditions

),

matched_segments as (

    select
        customer_id,
        segment_name,
        min(priority) as priority
    from evaluated
    group by 1, 2
    having min(case when is_met then 1 else 0 end) = 1

),

ranked as (

    select
        customer_id,
        segment_name,
        priority,
        row_number() over (partition by customer_id order by priority, segment_name) as match_rank
    from matched_segments

),

assigned as (

    select
        customer_features.customer_id,
        coalesce(ranked.segment_name, {{ quote_literal(var('business_segment_fallback')) }}) as business_segment,
        ranked.priority as business_segment_priority,
        coalesce(segment_definitions.segment_rule, 'no rule matched (fallback segment)') as business_segment_rule
    from customer_features
    left join ranked
        on customer_features.customer_id = ranked.customer_id
        and ranked.match_rank = 1
    left join segment_definitions
        on ranked.segment_name = segment_definitions.segment_name

),

final as (

    select assigned.*
    from assigned
    cross join guard
    where guard.failure is null

)

select * from final
