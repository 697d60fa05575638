{#-
    SQL that replaces table `target_relation` by a copy of `source_relation`. Run inside the
    caller's transaction: on DuckDB `create or replace table` is transactional, so a set of
    them committed together switches every table at once. Engines without transactional DDL
    get a drop and a create (not atomic; a spark__ variant belongs to the Spark target).
-#}
{% macro copy_relation_sql(source_relation, target_relation) %}
    {{ return(adapter.dispatch('copy_relation_sql')(source_relation, target_relation)) }}
{% endmacro %}

{% macro default__copy_relation_sql(source_relation, target_relation) %}
    {{- return('drop table if exists ' ~ target_relation ~ ';\ncreate table ' ~ target_relation
               ~ ' as select * from ' ~ source_relation ~ ';\n') -}}
{% endmacro %}

{% macro duckdb__copy_relation_sql(source_relation, target_relation) %}
    {{- return('create or replace table ' ~ target_relation ~ ' as select * from ' ~ source_relation ~ ';\n') -}}
{% endmacro %}

{#- Run `sql` (statements separated by `;`) as one transaction and commit it. -#}
{% macro run_in_transaction(sql) %}
    {{ return(adapter.dispatch('run_in_transaction')(sql)) }}
{% endmacro %}

{% macro default__run_in_transaction(sql) %}
    {#- dbt opens the transaction before the first statement (auto_begin) and this commits
        it; a failing statement rolls everything back. -#}
    {%- do run_query(sql) -%}
    {%- do adapter.commit() -%}
{% endmacro %}
