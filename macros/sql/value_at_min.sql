{#-
    The value of `value` on the row where `order_by` is smallest, as an aggregate (one pass,
    no window): DuckDB's arg_min, Spark's (and Snowflake's, Databricks') min_by. Use it where
    `order_by` is unique within the group, so the result does not depend on row order.
-#}
{% macro value_at_min(value, order_by) %}
    {{ return(adapter.dispatch('value_at_min', 'customer_segmentation')(value, order_by)) }}
{% endmacro %}

{% macro default__value_at_min(value, order_by) %}
    {{ return('min_by(' ~ value ~ ', ' ~ order_by ~ ')') }}
{% endmacro %}

{% macro duckdb__value_at_min(value, order_by) %}
    {{ return('arg_min(' ~ value ~ ', ' ~ order_by ~ ')') }}
{% endmacro %}
