{#-
    Days in one time unit of the CLV inputs (var clv_time_unit: 'days' -> 1, 'weeks' -> 7).
    The one place that reads and checks the var; the inputs model and the CLV settings use it.
-#}
{% macro clv_days_per_unit() %}
    {%- set unit = var('clv_time_unit', 'weeks') -%}
    {%- set days = {'days': 1, 'weeks': 7} -%}
    {%- if unit not in days -%}
        {{ exceptions.raise_compiler_error("var clv_time_unit must be 'days' or 'weeks', got: " ~ unit) }}
    {%- endif -%}
    {{ return(days[unit]) }}
{% endmacro %}
