{#-
    Write-audit-publish, step "write": every node (seeds, models, Python models, snapshot)
    is built into the build schema `<target.schema>_build`, where BI does not look. Only a
    build that passed every model and every error-severity test copies the `published`
    models into the target schema itself, which is what BI reads (see publish_build).
    A node's own `schema` config, if one is ever set, gets dbt's usual
    `<target.schema>_<schema>` name plus the same suffix. Test failures stored with
    `--store-failures` keep dbt's `<target.schema>_dbt_test__audit`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set base = target.schema if custom_schema_name is none
        else target.schema ~ '_' ~ (custom_schema_name | trim) -%}
    {%- if node is not none and node.resource_type == 'test' -%}
        {#- `--store-failures` tables keep dbt's own schema (`main_dbt_test__audit`): they are
            the audit's findings, read by whoever debugs the build, and never published. -#}
        {{ base }}
    {%- else -%}
        {{ base ~ build_schema_suffix() }}
    {%- endif -%}
{%- endmacro %}

{#- The suffix of the build schema: `main` is published, `main_build` is written. -#}
{% macro build_schema_suffix() %}
    {{- return('_build') -}}
{% endmacro %}
