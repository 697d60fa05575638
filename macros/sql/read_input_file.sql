{#-
    A relation expression that reads a CSV or Parquet file. CSV is read as text
    (all_varchar) so staging, not the reader, decides what is unparseable and counts it.
    `options` are the validated reader options of the input var (csv_reader_options):
    {'encoding': .., 'delimiter': .., 'read_options': {name: value}}; every value reaches
    SQL as a literal or a checked number/boolean. `setting` names the var in errors.
-#}
{% macro read_input_file(path, options=none, setting='the input var') %}
    {{ return(adapter.dispatch('read_input_file', 'customer_segmentation')(path, options, setting)) }}
{% endmacro %}

{% macro default__read_input_file(path, options=none, setting='the input var') %}
    {{ exceptions.raise_compiler_error("Reading the file '" ~ path ~ "' needs the duckdb adapter. On " ~ target.type ~ ", load the file into a table and set `table` (and `schema`) in the input var instead of `file`.") }}
{% endmacro %}

{% macro duckdb__read_input_file(path, options=none, setting='the input var') %}
    {%- set options = options or {} -%}
    {%- set lowered = path | lower -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {%- if options.get('encoding') or options.get('delimiter') or options.get('read_options') -%}
            {{ exceptions.raise_compiler_error("var " ~ setting ~ ": encoding, delimiter and read_options apply to CSV files; '" ~ path ~ "' is Parquet (it carries its own types).") }}
        {%- endif -%}
        {{ return('read_parquet(' ~ quote_literal(path) ~ ')') }}
    {%- elif lowered.endswith('.csv') or lowered.endswith('.csv.gz') or lowered.endswith('.tsv') or lowered.endswith('.txt') -%}
        {%- set arguments = [quote_literal(path), 'header = true', 'all_varchar = true'] -%}
        {%- if options.get('encoding') -%}{%- do arguments.append('encoding = ' ~ quote_literal(options['encoding'])) -%}{%- endif -%}
        {%- if options.get('delimiter') -%}{%- do arguments.append('delim = ' ~ quote_literal(options['delimiter'])) -%}{%- endif -%}
        {%- for name, value in (options.get('read_options') or {}).items() | sort -%}
            {%- if value is boolean -%}
                {%- do arguments.append(name ~ ' = ' ~ ('true' if value else 'false')) -%}
            {%- elif value is number -%}
                {%- do arguments.append(name ~ ' = ' ~ (value | int)) -%}
            {%- else -%}
                {%- do arguments.append(name ~ ' = ' ~ quote_literal(value)) -%}
            {%- endif -%}
        {%- endfor -%}
        {{ return('read_csv(' ~ (arguments | join(', ')) ~ ')') }}
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
