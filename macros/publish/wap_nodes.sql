{#-
    The nodes of this project that carry `tag` (`published`: BI reads them; `state`: their
    rows carry over from one build to the next), as a list of graph nodes. Seeds, models
    and snapshots only; disabled nodes are not in the graph.
-#}
{% macro wap_nodes(tag) %}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values()
            if node.resource_type in ('model', 'snapshot', 'seed') and tag in (node.tags or []) -%}
        {%- do found.append(node) -%}
    {%- endfor -%}
    {{ return(found | sort(attribute='unique_id')) }}
{% endmacro %}

{#- The relation a node is built into (the build schema), as it would be created. -#}
{% macro wap_build_relation(node) %}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias, type='table')) }}
{% endmacro %}

{#- The published copy of a node: the same name in the schema without the build suffix. -#}
{% macro wap_published_relation(node) %}
    {%- set suffix = build_schema_suffix() -%}
    {%- set schema = node.schema[: (node.schema | length) - (suffix | length)] if node.schema.endswith(suffix) else node.schema -%}
    {{ return(api.Relation.create(database=node.database, schema=schema, identifier=node.alias, type='table')) }}
{% endmacro %}

{#- The bookkeeping table of the build schema: whether its state tables are clean. -#}
{% macro wap_marker_relation() %}
    {{ return(api.Relation.create(database=target.database, schema=target.schema ~ build_schema_suffix(),
                                  identifier='wap_build_state', type='table')) }}
{% endmacro %}
