{#-
    The rows of the business-rule table as the segment model evaluates them: one dict per
    row, in rule_id order, with the cleaned segment_name, priority, column_name (lower
    case), operator (lower case) and rule_value, read when the model runs.
    `conditions_sql` is the model's own cleaning select (without its from clause), so the
    shape and the validation see the same values. Unit tests set the shape with
    `overrides: macros: business_rule_shape: [...]` (their rules are a fixture, not a table).
-#}
{% macro business_rule_shape(rules_relation, conditions_sql) %}
    {%- set rows = [] -%}
    {%- if execute and load_relation(rules_relation) is not none -%}
        {%- set shape = run_query('select segment_name, priority, column_name, operator, rule_value from ('
            ~ conditions_sql ~ ' from ' ~ rules_relation ~ ') as conditions order by rule_id') -%}
        {%- for row in shape.rows -%}
            {%- do rows.append({'segment_name': row['segment_name'], 'priority': row['priority'],
                'column_name': row['column_name'], 'operator': row['operator'], 'rule_value': row['rule_value']}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(rows) }}
{% endmacro %}
