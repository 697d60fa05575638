{#-
    Drop the segment history - the snapshots and the models in models/history/ - so it can be
    rebuilt from the start (`scripts/replay.py --reset`). Other tables, including the cluster
    model registry, are kept. Run with `dbt run-operation reset_history`.

    Write-audit-publish: it drops the history in the build schema (after restoring the
    build schema's state from the published build when the last invocation did not end
    cleanly) and marks the build schema clean, so the next builds start the history afresh;
    BI keeps reading the published history until a full build publishes the new one.
-#}
{% macro reset_history() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements = restore_build_state_sql() -%}
    {%- for node in graph.nodes.values()
            if node.package_name == project_name
            and (node.resource_type == 'snapshot'
                 or (node.resource_type == 'model' and node.original_file_path.startswith('models/history/'))) -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- if relation is not none -%}
            {%- do statements.append('drop ' ~ relation.type ~ ' if exists ' ~ relation ~ ';\n') -%}
            {%- do log('reset_history: dropping ' ~ relation, info=true) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do statements.append(wap_marker_sql('clean')) -%}
    {%- do run_in_transaction(statements | join('')) -%}
{% endmacro %}
