{#-
    Logical business segments from the editable rule table seeds/config/business_segment_rules.csv.
    Rules are data, never SQL: each row is `column operator value`; rows that share a
    segment_name are combined with AND; the matching segment with the lowest priority wins
    (ties: the segment name, in binary order).
    An invalid row (unknown column or operator, a non-numeric value for a numeric column)
    stops the build with a message naming the row.
-#}
{%- set numeric_columns = business_rule_columns('numeric') -%}
{%- set text_columns = business_rule_columns('text') -%}
{%- set numeric_operators = ['=', '!=', '<', '<=', '>', '>='] -%}
{%- set text_operators = ['=', '!=', 'in', 'not in'] -%}
{%- set all_operators = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'is null', 'is not null', 'always'] -%}

{%- set conditions_sql -%}
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
{%- endset -%}
{#- The rules' shape (which column, operator and value each row tests, and each segment's
    place in the priority order) is read when the model runs, so each customer is evaluated
    in one row: one boolean per rule row, one CASE in priority order. Values stay data: each
    is a quoted literal, cast by the engine exactly as the validation below casts it.
    Columns and operators are written into SQL only when they are on the allowed lists; an
    invalid row evaluates to false and the guard stops the build with its message. -#}
{%- set rule_rows = [] -%}
{%- set segment_order = [] -%}
{%- for row in business_rule_shape(ref('business_segment_rules'), conditions_sql) -%}
    {%- set column_kind = 'numeric' if row['column_name'] in numeric_columns else ('text' if row['column_name'] in text_columns else none) -%}
    {%- do rule_rows.append({'index': loop.index, 'segment_name': row['segment_name'], 'priority': row['priority'],
        'column_name': row['column_name'], 'operator': row['operator'], 'rule_value': row['rule_value'],
        'column_kind': column_kind}) -%}
{%- endfor -%}
{#- Segments in priority order (a segment's smallest priority), then by name in binary
    order. A segment without a priority fails validation; it sorts last meanwhile. -#}
{%- set segments = {} -%}
{%- for row in rule_rows if row['segment_name'] is not none -%}
    {%- set priority = row['priority'] | int if row['priority'] is not none else none -%}
    {%- set known = segments.get(row['segment_name']) -%}
    {%- if known is none or (priority is not none and priority < known) -%}
        {%- do segments.update({row['segment_name']: priority}) -%}
    {%- endif -%}
{%- endfor -%}
{%- set keyed = [] -%}
{%- for name, priority in segments.items() -%}
    {%- do keyed.append({'name': name, 'missing': priority is none, 'priority': priority if priority is not none else 0}) -%}
{%- endfor -%}
{%- for segment in keyed | sort(attribute='missing,priority,name', case_sensitive=true) -%}
    {%- do segment_order.append(segment['name']) -%}
{%- endfor -%}

with customer_features as (

    select * from {{ ref('customer_features') }}

),

rules as (

    select * from {{ ref('business_segment_rules') }}

),

conditions as (

{{ conditions_sql }}
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

evaluated as (

    select
        customer_id,
        {%- for row in rule_rows %}
        {%- set column = row['column_name'] %}
        {%- set numeric_feature = 'cast(customer_features.' ~ column ~ ' as ' ~ type_double() ~ ')' if column in numeric_columns else 'cast(null as ' ~ type_double() ~ ')' %}
        {%- set text_feature = 'cast(customer_features.' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' if column in text_columns else 'cast(null as ' ~ dbt.type_string() ~ ')' %}
        {%- set operator = row['operator'] if row['operator'] in all_operators else none %}
        {%- set rule_value = quote_literal(row['rule_value']) if row['rule_value'] is not none else 'cast(null as ' ~ dbt.type_string() ~ ')' %}
        {%- set numeric_value = try_cast(rule_value, type_double()) if row['rule_value'] is not none else 'cast(null as ' ~ type_double() ~ ')' %}
        coalesce(
            {%- if operator is none %}
            false
            {%- elif operator == 'always' %}
            true
            {%- elif operator == 'is null' %}
            {{ numeric_feature }} is null and {{ text_feature }} is null
            {%- elif operator == 'is not null' %}
            {{ numeric_feature }} is not null or {{ text_feature }} is not null
            {%- elif row['column_kind'] == 'numeric' and operator in numeric_operators %}
            {{ numeric_feature }} {{ '<>' if operator == '!=' else operator }} {{ numeric_value }}
            {%- elif row['column_kind'] == 'text' and operator in ['=', '!='] %}
            {{ text_feature }} {{ '<>' if operator == '!=' else operator }} {{ rule_value }}
            {%- elif row['column_kind'] == 'text' and operator == 'in' %}
            {{ dbt.position("'|' || " ~ text_feature ~ " || '|'", "'|' || " ~ rule_value ~ " || '|'") }} > 0
            {%- elif row['column_kind'] == 'text' and operator == 'not in' %}
            {{ dbt.position("'|' || " ~ text_feature ~ " || '|'", "'|' || " ~ rule_value ~ " || '|'") }} = 0
            {%- else %}
            false
            {%- endif %},
            false
        ) as rule_met_{{ row['index'] }}{{ ',' if not loop.last }}
        {%- else %}
        false as no_rule
        {%- endfor %}
    from customer_features

),

matched as (

    {#- A segment matches when every one of its rule rows is met; the first in priority order wins. #}
    select
        customer_id,
        {%- if segment_order %}
        case
            {%- for segment_name in segment_order %}
            {%- set conditions = [] %}
            {%- for row in rule_rows if row['segment_name'] == segment_name %}
            {%- do conditions.append('rule_met_' ~ row['index']) %}
            {%- endfor %}
            when {{ conditions | join(' and ') }} then {{ quote_literal(segment_name) }}
            {%- endfor %}
        end
        {%- else %}
        cast(null as {{ dbt.type_string() }})
        {%- endif %} as segment_name
    from evaluated

),

assigned as (

    select
        matched.customer_id,
        coalesce(matched.segment_name, {{ quote_literal(var('business_segment_fallback')) }}) as business_segment,
        segment_definitions.priority as business_segment_priority,
        coalesce(segment_definitions.segment_rule, 'no rule matched (fallback segment)') as business_segment_rule
    from matched
    left join segment_definitions
        on matched.segment_name = segment_definitions.segment_name

),

final as (

    select assigned.*
    from assigned
    cross join guard
    where guard.failure is null

)

select * from final
