{#-
    The clustering's reason "missing value in: age, monetary" rewritten for features whose
    value was given but could not be read: "unreadable age; missing value in: monetary".
    `flags` maps a feature name to a boolean SQL expression (true = its source was
    unreadable, e.g. a birth_date that is not a date). Other reasons pass unchanged.
-#}
{% macro cluster_reason_with_unreadable(reason, flags) %}
    {{ return(adapter.dispatch('cluster_reason_with_unreadable', 'customer_segmentation')(reason, flags)) }}
{% endmacro %}

{% macro default__cluster_reason_with_unreadable(reason, flags) %}
    {%- set ns = namespace(sql=reason) -%}
    {%- for feature, flag in flags.items() | sort -%}
        {%- set padded = "(" ~ ns.sql ~ " || ',')" -%}
        {%- set listed = "(" ~ padded ~ " like '%: " ~ feature ~ ",%' or " ~ padded ~ " like '%, " ~ feature ~ ",%')" -%}
        {#- the rest of the reason: this feature taken out of the list, an emptied list dropped -#}
        {%- set rest = "regexp_replace(rtrim(regexp_replace(" ~ padded ~ ", '(: |, )" ~ feature ~ ", ?', '\\1'), ', '), '(^|; )missing value in:$', '')" -%}
        {%- set ns.sql = "case when coalesce(" ~ flag ~ ", false) and " ~ listed
            ~ " then 'unreadable " ~ feature ~ "' || case when " ~ rest ~ " = '' then '' else '; ' || " ~ rest ~ " end"
            ~ " else " ~ ns.sql ~ " end" -%}
    {%- endfor -%}
    {{ return(ns.sql) }}
{% endmacro %}
