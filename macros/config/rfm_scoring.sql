{#-
    How one of the R, F and M scores is given, validated: var rfm_<score>_method is
    'quantiles' or 'edges'; with 'edges', the var rfm_recency_edges_days / rfm_frequency_edges /
    rfm_monetary_edges must hold rfm_bins - 1 strictly increasing numbers. Returns
    {'method': ..., 'edges': [...], 'var': <name of the edges var>}.
-#}
{% macro rfm_scoring(score) %}
    {%- set defaults = {'recency': 'edges', 'frequency': 'quantiles', 'monetary': 'quantiles'} -%}
    {%- set edge_vars = {'recency': 'rfm_recency_edges_days', 'frequency': 'rfm_frequency_edges',
                         'monetary': 'rfm_monetary_edges'} -%}
    {%- if score not in defaults -%}
        {{ exceptions.raise_compiler_error("rfm_scoring: score must be recency, frequency or monetary, got: " ~ score) }}
    {%- endif -%}
    {%- set method_var = 'rfm_' ~ score ~ '_method' -%}
    {%- set method = var(method_var, defaults[score]) -%}
    {#- A mistyped method or edge is left to on-run-start's validate_vars while parsing, so that
        one message names every mistyped var; lengths and order are checked here. -#}
    {%- set typed = method in ['quantiles', 'edges'] -%}
    {%- if not execute and not typed -%}
        {%- set method = defaults[score] -%}
    {%- elif not typed -%}
        {{ exceptions.raise_compiler_error("var " ~ method_var ~ " must be 'quantiles' or 'edges', got: " ~ method) }}
    {%- endif -%}
    {%- set edges_var = edge_vars[score] -%}
    {%- set edges = [] -%}
    {%- if method == 'edges' -%}
        {%- set given = var(edges_var, none) -%}
        {%- set bins = rfm_bins() -%}
        {%- if not execute and given is iterable and given is not string and given is not mapping
               and (given | reject('number') | list | length > 0 or given | select('boolean') | list | length > 0) -%}
            {{ return({'method': 'quantiles', 'edges': [], 'var': edges_var}) }}
        {%- endif -%}
        {%- if given is string or given is not iterable or given is mapping
               or (given | length) != bins - 1 -%}
            {{ exceptions.raise_compiler_error("var " ~ edges_var ~ " must be a list of rfm_bins - 1 = " ~ (bins - 1) ~ " increasing numbers (var " ~ method_var ~ " is 'edges', var rfm_bins is " ~ bins ~ "), got: " ~ given) }}
        {%- endif -%}
        {%- for edge in given -%}
            {%- if edge is not number or edge is boolean -%}
                {{ exceptions.raise_compiler_error("var " ~ edges_var ~ " must hold numbers only, got: " ~ given) }}
            {%- endif -%}
            {%- if not loop.first and edge <= given[loop.index0 - 1] -%}
                {{ exceptions.raise_compiler_error("var " ~ edges_var ~ " must be strictly increasing, got: " ~ given) }}
            {%- endif -%}
            {%- do edges.append(edge) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return({'method': method, 'edges': edges, 'var': edges_var}) }}
{% endmacro %}
