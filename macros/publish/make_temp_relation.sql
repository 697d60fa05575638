{#-
    dbt-duckdb writes the intermediate table of an incremental *Python* model (the
    cluster_models registry) as a plain table with no schema, so it lands in the default
    schema - the one BI reads - and is never dropped (`cluster_models__dbt_tmp<time>`, one per
    build). Keep it in the model's own (build) schema instead; prepare_build_schema drops such
    leftovers at the start of the next invocation. SQL models keep dbt-duckdb's real
    temporary tables.
-#}
{% macro duckdb__make_temp_relation(base_relation, suffix) %}
    {%- if model is defined and model is not none and model.get('language') == 'python' -%}
        {%- set identifier = base_relation.identifier ~ suffix ~ py_current_timestring() -%}
        {{ return(base_relation.incorporate(path={"identifier": identifier})) }}
    {%- endif -%}
    {{ return(dbt.duckdb__make_temp_relation(base_relation, suffix)) }}
{% endmacro %}
