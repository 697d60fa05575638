{#-
    A relation expression that reads a CSV or Parquet file. CSV is read as text
    (all_varchar) so staging, not the reader, decides what is unparseable and counts it.
-#}
{% macro read_input_file(path) %}
    {{ return(adapter.dispatch('read_input_file', 'customer_segmentation')(path)) }}
{% endmacro %}

{% macro default__read_input_file(path) %}
    {{ exceptions.raise_compiler_error("Reading the file '" ~ path ~ "' needs the duckdb adapter. On " ~ target.type ~ ", load the file into a table and set `table` (and `schema`) in the input var instead of `file`.") }}
{% endmacro %}

{% macro duckdb__read_input_file(path) %}
    {%- set lowered = path | lower -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {{ return('read_parquet(' ~ quote_literal(path) ~ ')') }}
    {%- elif lowered.endswith('.csv') or lowered.endswith('.csv.gz') or lowered.endswith('.tsv') or lowered.endswith('.txt') -%}
        {{ return('read_csv(' ~ quote_literal(path) ~ ', header = true, all_varchar = true)') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("Cannot tell the format of the input file '" ~ path ~ "': name it .csv, .csv.gz, .tsv or .parquet.") }}
    {%- endif -%}
{% endmacro %}
