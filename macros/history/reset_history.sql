{#-
    Drop the segment history - the snapshots and the models in models/history/ - so it can be
    rebuilt from the start (`scripts/replay.py --reset`). Other tables, including the cluster
    model registry, are kept. Run with `dbt run-operation reset_history`.
-#}
{% macro reset_history() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- for node in graph.nodes.values()
            if node.package_name == project_name
            and (node.resource_type == 'snapshot'
                 or (node.resource_type == 'model' and node.original_file_path.startswith('models/history/'))) -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- if relation is not none -%}
            {%- do adapter.drop_relation(relation) -%}
            {%- do log('reset_history: dropped ' ~ relation, info=true) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do adapter.commit() -%}
{% endmacro %}
