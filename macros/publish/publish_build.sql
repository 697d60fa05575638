{#-
    on-run-end: publish the build when, and only when, it qualifies.

    A run qualifies when no node failed, errored or was skipped (a warning is fine: that is
    what severity warn means), every model, seed and snapshot tagged `published` was built in
    it, and every data test of the project ran. A partial `--select` build therefore never
    publishes (the log says so and names what it did not build), and neither does `dbt run`
    (no tests). Publishing copies every `published` node from the build schema into the
    target schema that BI reads, in one transaction (see publish_relations), and marks the
    build schema clean in the same transaction. A run whose nodes all passed but which did
    not qualify still marks the build schema clean, so the next invocation builds on its
    state (scripts/replay.py's partial steps) instead of restoring the published one.
-#}
{% macro publish_build(results) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not results -%}
        {%- do log('write-audit-publish: NOT published: nothing ran. BI still reads the last published build.', info=true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set passed = [] -%}
    {%- set failed = [] -%}
    {%- for result in results -%}
        {%- set status = result.status | string | lower -%}
        {%- if status in ('success', 'pass', 'warn', 'no-op') -%}
            {%- do passed.append(result.node.unique_id) -%}
        {%- else -%}
            {%- do failed.append(result.node.unique_id ~ ' (' ~ status ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if failed -%}
        {%- do log('write-audit-publish: NOT published: ' ~ (failed | length) ~ ' node(s) did not pass: '
                   ~ (failed[:5] | join(', ')) ~ ('...' if failed | length > 5 else '')
                   ~ '. BI still reads the last published build.', info=true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set published_nodes = wap_nodes('published') -%}
    {%- set missing = [] -%}
    {%- for node in published_nodes if node.unique_id not in passed -%}
        {%- do missing.append(node.name) -%}
    {%- endfor -%}
    {%- set tests_missing = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' and node.unique_id not in passed -%}
        {%- do tests_missing.append(node.name) -%}
    {%- endfor -%}
    {%- if missing or tests_missing -%}
        {%- do run_in_transaction(wap_marker_sql('clean')) -%}
        {%- do log('write-audit-publish: NOT published: this run did not build every published model and run every data test '
                   ~ '(a partial --select build, or a command without tests, never publishes); not built: '
                   ~ ((missing[:5] | join(', ')) or 'none') ~ ('...' if missing | length > 5 else '')
                   ~ '; tests not run: ' ~ (tests_missing | length)
                   ~ '. Its tables stay in the build schema; BI still reads the last published build.', info=true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set pairs = [] -%}
    {%- for node in published_nodes -%}
        {%- do pairs.append((wap_build_relation(node), wap_published_relation(node))) -%}
    {%- endfor -%}
    {%- do publish_relations(pairs) -%}
    {%- do log('write-audit-publish: published build ' ~ invocation_id ~ ': ' ~ (pairs | length) ~ ' tables in schema '
               ~ pairs[0][1].schema ~ '.', info=true) -%}
    {{ return('') }}
{% endmacro %}

{#-
    Switch what BI reads to the build: replace every published relation by a copy of its
    build relation and mark the build schema clean, all or nothing.
-#}
{% macro publish_relations(pairs) %}
    {{ return(adapter.dispatch('publish_relations')(pairs)) }}
{% endmacro %}

{% macro default__publish_relations(pairs) %}
    {#- One transaction on engines with transactional DDL (Postgres, DuckDB, Snowflake). -#}
    {%- set statements = [] -%}
    {%- for build, published in pairs -%}
        {%- if loop.first -%}
            {%- do adapter.create_schema(published) -%}
        {%- endif -%}
        {%- do statements.append(copy_relation_sql(build, published)) -%}
    {%- endfor -%}
    {%- do statements.append(wap_marker_sql('clean')) -%}
    {%- do run_in_transaction(statements | join('')) -%}
{% endmacro %}

{% macro duckdb__publish_relations(pairs) %}
    {#- DuckDB: `create or replace table` in one transaction. A reader process cannot open
        the file while the build holds it, so it sees the previous build or, after the
        commit, this one - never a part. -#}
    {{ return(default__publish_relations(pairs)) }}
{% endmacro %}
