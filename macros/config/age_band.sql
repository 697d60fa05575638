{#-
    An age band label such as '25-34' from the `age_band_edges` var (ascending integers).
    Ages below the first edge are '<first', ages at or above the last are 'last+'.
-#}
{% macro age_band(age_expression) %}
    {%- set edges = var('age_band_edges', [18, 25, 35, 45, 55, 65]) -%}
    {%- if edges is string or edges is not iterable or (edges | length) == 0 -%}
        {{ exceptions.raise_compiler_error("var age_band_edges must be a list of ascending integers, got: " ~ edges) }}
    {%- endif -%}
    {%- for edge in edges -%}
        {%- if edge is not number or (loop.index > 1 and edge <= edges[loop.index0 - 1]) -%}
            {{ exceptions.raise_compiler_error("var age_band_edges must be a list of ascending integers, got: " ~ edges) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set parts = ["case", "when " ~ age_expression ~ " is null then null",
                     "when " ~ age_expression ~ " < " ~ edges[0] ~ " then '<" ~ edges[0] ~ "'"] -%}
    {%- for edge in edges[1:] -%}
        {%- do parts.append("when " ~ age_expression ~ " < " ~ edge ~ " then '" ~ edges[loop.index0] ~ "-" ~ (edge - 1) ~ "'") -%}
    {%- endfor -%}
    {%- do parts.append("else '" ~ edges[-1] ~ "+' end") -%}
    {{ return(parts | join(' ')) }}
{% endmacro %}
