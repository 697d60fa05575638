{#-
    Cast that yields null instead of failing on values that do not convert.
    dbt-duckdb does not override dbt.safe_cast (a plain cast there), so DuckDB gets try_cast.
-#}
{% macro try_cast(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast', 'customer_segmentation')(expression, data_type)) }}
{% endmacro %}

{% macro default__try_cast(expression, data_type) %}
    {{ return(dbt.safe_cast(expression, data_type)) }}
{% endmacro %}

{% macro duckdb__try_cast(expression, data_type) %}
    {{ return('try_cast(' ~ expression ~ ' as ' ~ data_type ~ ')') }}
{% endmacro %}

{#- Spark has try_cast; dbt-spark's safe_cast is a plain cast, which raises under ANSI mode. -#}
{% macro spark__try_cast(expression, data_type) %}
    {{ return('try_cast(' ~ expression ~ ' as ' ~ data_type ~ ')') }}
{% endmacro %}
