{#-
    on-run-start, after the guards: make the build schema's `state` tables (the cluster model
    registry, the snapshot, the history tables: rows that carry over from build to build) a
    copy of what is published, unless they already are the outcome of the last invocation
    that finished successfully.

    The build schema holds a one-row table `wap_build_state` whose `status` is 'dirty' from
    the start of every invocation until that invocation ends with every node passing
    ('clean'). A build that failed, or was killed (no on-run-end at all), leaves it 'dirty',
    so the next invocation first replaces every state table by its published copy (or drops
    it when nothing is published yet): what a failed build appended to the registry or the
    history never leaks into a later build. After a clean invocation nothing is copied, so
    large incremental state is not copied on every build, and a series of partial builds
    (scripts/replay.py) keeps growing the history in the build schema until a full build
    publishes it.

    Nodes tagged `input_state` (int_order_lines_grouped and the order and customer rows
    derived from it: incremental state derived from the inputs, not published, so there is
    no copy to restore) are dropped instead after an unclean invocation: a killed build may
    have deleted its slice without inserting it again, so the next build rebuilds them from
    every line. A partial build that selects some of them drops the others (below).
-#}
{% macro prepare_build_schema() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements = restore_build_state_sql() -%}
    {%- do statements.append(wap_marker_sql('dirty')) -%}
    {%- do run_in_transaction(statements | join('')) -%}
    {{ return('') }}
{% endmacro %}

{#-
    The statements that make the build schema's state tables copies of their published
    ones, when the build schema is not marked clean (an empty list when it is). Logs what
    it restores.
-#}
{% macro restore_build_state_sql() %}
    {%- set marker = wap_marker_relation() -%}
    {%- do adapter.create_schema(marker) -%}
    {%- set statements = [] -%}
    {%- set restored = [] -%}
    {%- if not wap_build_is_clean() -%}
        {%- for node in wap_nodes('state') -%}
            {%- set build = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- set published_relation = wap_published_relation(node) -%}
            {%- set published = adapter.get_relation(published_relation.database, published_relation.schema, published_relation.identifier) -%}
            {%- if published is not none -%}
                {%- do statements.append(copy_relation_sql(published, wap_build_relation(node))) -%}
                {%- do restored.append(node.alias ~ ' (from ' ~ published ~ ')') -%}
            {%- elif build is not none -%}
                {%- do statements.append('drop table if exists ' ~ build ~ ';\n') -%}
                {%- do restored.append(node.alias ~ ' (dropped: nothing published yet)') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for node in wap_nodes('input_state') -%}
            {%- set build = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- if build is not none -%}
                {#- Through the adapter, so dbt's relation cache forgets it too (is_incremental()
                    reads the cache: the model then builds in full). -#}
                {%- do adapter.drop_relation(build) -%}
                {%- do restored.append(node.alias ~ ' (dropped: rebuilt from every line)') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- The order-line state moves together: a build that selects some of its models but not
        all would advance int_order_lines_grouped past what the order and customer rows
        downstream were derived from (the next build re-derives only the orders its own
        window touches). So the state models this invocation does not rebuild are dropped,
        and rebuilt from every stored row by the next build that selects them. -#}
    {%- set state_nodes = wap_nodes('input_state') -%}
    {%- set selected_state = state_nodes | selectattr('unique_id', 'in', selected_resources) | list -%}
    {%- if selected_state and selected_state | length < state_nodes | length -%}
        {%- for node in state_nodes if node.unique_id not in selected_resources -%}
            {%- set build = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- if build is not none -%}
                {%- do adapter.drop_relation(build) -%}
                {%- do log('incremental state: ' ~ node.alias ~ ' dropped (not selected with the rest of the order-line state; the next build that selects it derives it from every row)', info=true) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- Intermediate tables an incremental Python model left behind (see make_temp_relation). -#}
    {%- for name in wap_relation_names(marker.without_identifier()) if '__dbt_tmp' in name -%}
        {%- do statements.append('drop table if exists ' ~ marker.incorporate(path={'identifier': name}) ~ ';\n') -%}
    {%- endfor -%}
    {%- if restored -%}
        {%- do log('write-audit-publish: the last invocation did not end cleanly; restoring the build schema\'s state tables from the published build: ' ~ (restored | join(', ')), info=true) -%}
    {%- endif -%}
    {{ return(statements) }}
{% endmacro %}

{#- SQL that records the build schema's status ('dirty' or 'clean') and this invocation. -#}
{% macro wap_marker_sql(status) %}
    {%- set marker = wap_marker_relation() -%}
    {{- return('drop table if exists ' ~ marker ~ ';\ncreate table ' ~ marker ~ ' as select '
               ~ quote_literal(status) ~ ' as status, ' ~ quote_literal(invocation_id) ~ ' as invocation_id, '
               ~ dbt.current_timestamp() ~ ' as recorded_at;\n') -}}
{% endmacro %}

{#- True when the last invocation left the build schema clean (wap_build_state says so). -#}
{% macro wap_build_is_clean() %}
    {%- set marker = wap_marker_relation() -%}
    {%- if adapter.get_relation(marker.database, marker.schema, marker.identifier) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set rows = run_query('select status from ' ~ marker).rows -%}
    {{ return(rows | length == 1 and rows[0][0] == 'clean') }}
{% endmacro %}
