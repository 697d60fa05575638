{#- True when a double is a finite number (not NaN, not +/- infinity). -#}
{% macro is_finite(expression) %}
    {{ return(adapter.dispatch('is_finite', 'customer_segmentation')(expression)) }}
{% endmacro %}

{% macro default__is_finite(expression) %}
    {{ return('isfinite(' ~ expression ~ ')') }}
{% endmacro %}

{#- Spark has no isfinite(). -#}
{% macro spark__is_finite(expression) %}
    {{ return('(not isnan(' ~ expression ~ ") and abs(" ~ expression ~ ") <> cast('Infinity' as double))") }}
{% endmacro %}
