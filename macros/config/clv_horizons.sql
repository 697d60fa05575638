{#-
    The horizons (whole days) of var clv_horizons_days, checked, for the SQL models that
    carry one expected_purchases_<h> / predicted_clv_<h> column per horizon.
-#}
{% macro clv_horizons() %}
    {%- set horizons = var('clv_horizons_days', [90, 365]) -%}
    {%- if horizons is string or horizons is not iterable or (horizons | length) == 0 -%}
        {{ exceptions.raise_compiler_error("var clv_horizons_days must be a non-empty list of whole days, got: " ~ horizons) }}
    {%- endif -%}
    {%- for horizon in horizons -%}
        {%- if horizon is not number or horizon != (horizon | int) or horizon < 1 -%}
            {{ exceptions.raise_compiler_error("var clv_horizons_days must be a non-empty list of whole days, got: " ~ horizons) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(horizons | map('int') | list) }}
{% endmacro %}
