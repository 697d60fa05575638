{#-
    A double-precision float type. type_double() is 4-byte FLOAT on DuckDB, too coarse
    for money thresholds and centroid distances.
-#}
{% macro type_double() %}
    {{ return(adapter.dispatch('type_double', 'customer_segmentation')()) }}
{% endmacro %}

{% macro default__type_double() %}
    {{ return('double precision') }}
{% endmacro %}

{% macro duckdb__type_double() %}
    {{ return('double') }}
{% endmacro %}

{% macro bigquery__type_double() %}
    {{ return('float64') }}
{% endmacro %}

{% macro snowflake__type_double() %}
    {{ return('float') }}
{% endmacro %}

{% macro spark__type_double() %}
    {{ return('double') }}
{% endmacro %}
