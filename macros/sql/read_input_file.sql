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

{#-
    Spark reads files through its own readers: Parquet as parquet.`path`, CSV through a
    temporary view with a header row and every column as text (Spark's CSV reader infers no
    types unless asked), named after the file so each input gets its own view.
-#}
{% macro spark__read_input_file(path) %}
    {%- set lowered = path | lower -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {{ return('parquet.' ~ quote_identifier(path)) }}
    {%- elif lowered.endswith('.csv') or lowered.endswith('.csv.gz') or lowered.endswith('.tsv') or lowered.endswith('.txt') -%}
        {%- set view_name = 'segmentation_input_file_' ~ local_md5(path) -%}
        {%- if execute -%}
            {%- do run_query('create or replace temporary view ' ~ quote_identifier(view_name)
                ~ ' using csv options (path ' ~ quote_literal(path) ~ ", header 'true', inferSchema 'false'"
                ~ (", sep '\\t'" if lowered.endswith('.tsv') else '') ~ ')') -%}
        {%- endif -%}
        {{ return(quote_identifier(view_name)) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("Cannot tell the format of the input file '" ~ path ~ "': name it .csv, .csv.gz, .tsv or .parquet.") }}
    {%- endif -%}
{% endmacro %}
