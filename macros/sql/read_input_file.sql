{#-
    A relation expression that reads a CSV or Parquet file. CSV is read as text
    (all_varchar) so staging, not the reader, decides what is unparseable and counts it.
    `options` are the validated reader options of the input var (csv_reader_options):
    {'encoding': .., 'delimiter': .., 'read_options': {name: value}}; every value reaches
    SQL as a literal or a checked number/boolean. `setting` names the var in errors.
-#}
{% macro read_input_file(path, options=none, setting='the input var', file_name_column=none) %}
    {{ return(adapter.dispatch('read_input_file', 'customer_segmentation')(path, options, setting, file_name_column)) }}
{% endmacro %}

{% macro default__read_input_file(path, options=none, setting='the input var', file_name_column=none) %}
    {{ exceptions.raise_compiler_error("Reading the file '" ~ path ~ "' needs the duckdb adapter. On " ~ target.type ~ ", load the file into a table and set `table` (and `schema`) in the input var instead of `file`.") }}
{% endmacro %}

{#- file_name_column: also a column of that name with each line's file (the reader's
    `filename` option; order_input_file_days reads one file's lines through it). -#}
{% macro duckdb__read_input_file(path, options=none, setting='the input var', file_name_column=none) %}
    {%- set options = options or {} -%}
    {%- set file_name = (', filename = ' ~ quote_literal(file_name_column)) if file_name_column else '' -%}
    {%- set lowered = path | lower -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {%- if options.get('encoding') or options.get('delimiter') or options.get('read_options') -%}
            {{ exceptions.raise_compiler_error("var " ~ setting ~ ": encoding, delimiter and read_options apply to CSV files; '" ~ path ~ "' is Parquet (it carries its own types).") }}
        {%- endif -%}
        {{ return('read_parquet(' ~ quote_literal(path) ~ file_name ~ ')') }}
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
        {{ return('read_csv(' ~ (arguments | join(', ')) ~ file_name ~ ')') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("Cannot tell the format of the input file '" ~ path ~ "': name it .csv, .csv.gz, .tsv or .parquet.") }}
    {%- endif -%}
{% endmacro %}

{#-
    Spark reads files through its own readers: Parquet as parquet.`path`, CSV through a
    temporary view with a header row and every column as text (Spark's CSV reader infers no
    types unless asked), named after the file and its options so each input gets its own
    view. encoding and delimiter become the reader's `encoding` and `sep`; read_options are
    DuckDB read_csv options and stop the build with an error naming the var.
-#}
{% macro spark__read_input_file(path, options=none, setting='the input var', file_name_column=none) %}
    {%- set options = options or {} -%}
    {%- if file_name_column -%}
        {{ exceptions.raise_compiler_error("read_input_file: a file name column is read on DuckDB only (order_input_files_enabled).") }}
    {%- endif -%}
    {%- set lowered = path | lower -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {%- if options.get('encoding') or options.get('delimiter') or options.get('read_options') -%}
            {{ exceptions.raise_compiler_error("var " ~ setting ~ ": encoding, delimiter and read_options apply to CSV files; '" ~ path ~ "' is Parquet (it carries its own types).") }}
        {%- endif -%}
        {{ return('parquet.' ~ quote_identifier(path)) }}
    {%- elif lowered.endswith('.csv') or lowered.endswith('.csv.gz') or lowered.endswith('.tsv') or lowered.endswith('.txt') -%}
        {%- if options.get('read_options') -%}
            {{ exceptions.raise_compiler_error("var " ~ setting ~ ".read_options (" ~ (options['read_options'].keys() | sort | join(', ')) ~ ") are DuckDB read_csv options and are not supported on " ~ target.type ~ ": set only encoding and delimiter, or load '" ~ path ~ "' into a table and set `table`.") }}
        {%- endif -%}
        {%- set delimiter = options.get('delimiter') or ('\t' if lowered.endswith('.tsv') else ',') -%}
        {%- set reader_options = ['path ' ~ quote_literal(path), "header 'true'", "inferSchema 'false'",
                                  'sep ' ~ quote_literal(delimiter)] -%}
        {%- if options.get('encoding') -%}{%- do reader_options.append('encoding ' ~ quote_literal(options['encoding'])) -%}{%- endif -%}
        {%- set view_name = 'segmentation_input_file_' ~ local_md5(reader_options | join(', ')) -%}
        {%- if execute -%}
            {%- do run_query('create or replace temporary view ' ~ quote_identifier(view_name)
                ~ ' using csv options (' ~ (reader_options | join(', ')) ~ ')') -%}
        {%- endif -%}
        {{ return(quote_identifier(view_name)) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("Cannot tell the format of the input file '" ~ path ~ "': name it .csv, .csv.gz, .tsv or .parquet.") }}
    {%- endif -%}
{% endmacro %}
