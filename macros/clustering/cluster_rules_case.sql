{#-
    The decision-tree rules of the latest model as one SQL CASE expression: each leaf's
    condition, written for the target by cluster_rule_condition_sql from the leaf's
    rule_conditions (stored by the Python model as data, with thresholds chosen so that SQL
    and the tree agree exactly), returns that leaf's `output` column ('cluster_id' or 'leaf_id').
    Evaluate it over a relation that has the clustering feature columns.
-#}
{% macro cluster_rules_case(rules_relation, output='cluster_id') %}
    {%- if output not in ['cluster_id', 'leaf_id'] -%}
        {{ exceptions.raise_compiler_error("cluster_rules_case: output must be 'cluster_id' or 'leaf_id', got: " ~ output) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return('cast(null as integer)') }}
    {%- endif -%}
    {%- set rules = run_query('select leaf_id, cluster_id, rule_conditions from ' ~ rules_relation ~ ' order by leaf_id') -%}
    {%- if rules.rows | length == 0 -%}
        {{ return('cast(null as integer)') }}
    {%- endif -%}
    {%- set branches = [] -%}
    {%- for rule in rules.rows -%}
        {%- do branches.append('when ' ~ cluster_rule_condition_sql(rule['rule_conditions']) ~ ' then ' ~ (rule[output] | int)) -%}
    {%- endfor -%}
    {{ return('case ' ~ branches | join(' ') ~ ' end') }}
{% endmacro %}
