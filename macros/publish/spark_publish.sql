{#-
    Write-audit-publish on Spark (dbt-spark; README "Running on a bigger warehouse").

    Spark SQL has no multi-statement transactions, and a Parquet table (the default
    SEGMENTATION_SPARK_FILE_FORMAT) has no `create or replace table`. So on Spark:
    - run_in_transaction runs its statements one by one: nothing is rolled back when one fails;
    - copy_relation_sql drops the target table and creates it again with the configured file
      format as a copy of the build table (`create or replace table` on Delta / Iceberg);
    - publish_relations copies the published tables ONE TABLE AT A TIME.

    Publishing on Spark is therefore NOT atomic. While it runs (seconds to minutes), a reader
    of the published schema may find a table missing (between its drop and its create), or
    some tables from the new build next to others still from the previous one; a failure in
    the middle leaves the published schema mixed until the next successful build publishes
    again. published_build is copied LAST, so while its build_id is the previous build's, the
    other tables may already be partly the new build's; once it shows the new build_id every
    table is this build's. The build schema's marker is only set clean after every copy.
-#}
{% macro spark__run_in_transaction(sql) %}
    {#- No transaction on Spark: each `;`-terminated statement runs on its own. -#}
    {%- for statement in sql.split(';\n') if statement | trim -%}
        {%- do run_query(statement | trim) -%}
    {%- endfor -%}
{% endmacro %}

{% macro spark__copy_relation_sql(source_relation, target_relation) %}
    {%- set file_format = env_var('SEGMENTATION_SPARK_FILE_FORMAT', 'parquet') | lower -%}
    {%- if file_format in ['delta', 'iceberg'] -%}
        {{- return('create or replace table ' ~ target_relation ~ ' using ' ~ file_format
                   ~ ' as select * from ' ~ source_relation ~ ';\n') -}}
    {%- endif -%}
    {{- return('drop table if exists ' ~ target_relation ~ ';\ncreate table ' ~ target_relation
               ~ ' using ' ~ file_format ~ ' as select * from ' ~ source_relation ~ ';\n') -}}
{% endmacro %}

{% macro spark__publish_relations(pairs) %}
    {#- Table by table, NOT atomic (see the top of this file); published_build last. -#}
    {%- set ordered = [] -%}
    {%- set last = [] -%}
    {%- for build, published in pairs -%}
        {%- do (last if published.identifier == 'published_build' else ordered).append((build, published)) -%}
    {%- endfor -%}
    {%- for build, published in ordered + last -%}
        {%- if loop.first -%}
            {%- do adapter.create_schema(published) -%}
        {%- endif -%}
        {%- do run_in_transaction(copy_relation_sql(build, published)) -%}
    {%- endfor -%}
    {%- do run_in_transaction(wap_marker_sql('clean')) -%}
    {%- do log('write-audit-publish: on Spark the tables were published one by one (not atomically).', info=true) -%}
{% endmacro %}

{#- Names of the relations in `schema_relation`'s schema (list_relations_without_caching's
    rows differ by adapter). -#}
{% macro wap_relation_names(schema_relation) %}
    {{ return(adapter.dispatch('wap_relation_names')(schema_relation)) }}
{% endmacro %}

{% macro default__wap_relation_names(schema_relation) %}
    {%- set names = [] -%}
    {%- for row in list_relations_without_caching(schema_relation) -%}
        {%- do names.append(row['name']) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{% macro spark__wap_relation_names(schema_relation) %}
    {%- set names = [] -%}
    {#- `show tables` (dbt-spark's macro): columns namespace, tableName, isTemporary. -#}
    {%- for row in list_relations_show_tables_without_caching(schema_relation) -%}
        {%- do names.append(row['tableName']) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
