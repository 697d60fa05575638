{#-
    One decision-tree rule as a SQL condition for the target engine, written from the
    dialect-free `rule_conditions` the Python model stores (JSON list, every condition must
    hold; see segmentation/clustering/explain.py, tree_rules). Identifiers go through
    quote_identifier, levels through quote_literal, thresholds as cast('<exact repr>' as
    double) - text to double is correctly rounded on every engine, so SQL and the tree agree
    exactly. An empty list (a tree with one leaf) is `true`.
-#}
{% macro cluster_rule_condition_sql(conditions_json) %}
    {%- set conditions = fromjson(conditions_json) if conditions_json is string else conditions_json -%}
    {%- set double = type_double() -%}
    {%- set parts = [] -%}
    {%- for condition in conditions -%}
        {%- set column = quote_identifier(condition['column']) -%}
        {%- set op = condition['op'] -%}
        {%- if op in ['<=', '<', '>', '>='] -%}
            {%- set value = column -%}
            {%- if condition.get('impute') is not none -%}
                {%- set value = "coalesce(case when " ~ is_finite(column) ~ " then " ~ column ~ " end, cast("
                    ~ quote_literal(condition['impute']) ~ " as " ~ double ~ "))" -%}
            {%- endif -%}
            {%- do parts.append(value ~ " " ~ op ~ " cast(" ~ quote_literal(condition['value']) ~ " as " ~ double ~ ")") -%}
        {%- else -%}
            {%- set levels = [] -%}
            {%- for level in condition.get('levels', []) -%}{%- do levels.append(quote_literal(level)) -%}{%- endfor -%}
            {%- set level_list = "(" ~ levels | join(', ') ~ ")" -%}
            {%- if op == 'is_null' -%}
                {%- do parts.append(column ~ " is null") -%}
            {%- elif op == 'is_not_null' -%}
                {%- do parts.append(column ~ " is not null") -%}
            {%- elif op == 'in' -%}
                {%- do parts.append(column ~ " in " ~ level_list) -%}
            {%- elif op == 'null_or_in' -%}
                {%- do parts.append("(" ~ column ~ " is null or " ~ column ~ " in " ~ level_list ~ ")") -%}
            {%- elif op == 'null_or_not_in' -%}
                {%- do parts.append("(" ~ column ~ " is null or " ~ column ~ " not in " ~ level_list ~ ")") -%}
            {%- elif op == 'not_null_and_not_in' -%}
                {%- do parts.append("(" ~ column ~ " is not null and " ~ column ~ " not in " ~ level_list ~ ")") -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error("cluster_rule_condition_sql: unknown operator '" ~ op ~ "' in rule_conditions of cluster_rules") }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('(' ~ parts | join(' and ') ~ ')' if parts else 'true') }}
{% endmacro %}
