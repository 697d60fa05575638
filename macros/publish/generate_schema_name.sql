{#-
    Write-audit-publish, step "write": every node (seeds, models, Python models, snapshot)
    is built into the build schema `<target.schema>_build`, where BI does not look. Only a
    build that passed every model and every error-severity test copies the `published`
    models into the target schema itself, which is what BI reads (see publish_build).
    A node's own `schema` config, if one is ever set, gets dbt's usual
    `<target.schema>_<schema>` name plus the same suffix.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set base = target.schema if custom_schema_name is none
        else target.schema ~ '_' ~ (custom_schema_name | trim) -%}
    {{ base ~ build_schema_suffix() }}
{%- endmacro %}

{#- The suffix of the build schema: `main` is published, `main_build` is written. -#}
{% macro build_schema_suffix() %}
    {{- return('_build') -}}
{% endmacro %}
