{#-
    The orders input's files, for the incremental change guard (README "Incremental daily
    builds"). When the orders input is a file or a glob of files read by DuckDB, every line
    carries its file's name (stg_orders.source_file_name), and int_order_input_file_days
    keeps, per file and order date, the line count, amount sum and row checksum the guard
    compares with the stored state. A file listed again with the same name, size and
    modification time is not read again; only new or changed files are. Tables, refs, the
    demo seeds and Spark have no file listing: the guard reads every line, as before.
-#}

{#- The column of stg_orders' source that names each line's file (the reader's `filename`). -#}
{% macro order_input_file_column() %}
    {{ return('__segmentation_source_file') }}
{% endmacro %}

{#-
    Whether the orders input is listed by file: DuckDB (dispatch; the default is false),
    the input a local `file` (or glob; not a URL or an object store), the state
    incremental, and the input without a column of the reader's file-name column's name. Decided at compile time without reading a line.
-#}
{% macro order_input_files_enabled() %}
    {{ return(adapter.dispatch('order_input_files_enabled', 'customer_segmentation')()) }}
{% endmacro %}

{% macro default__order_input_files_enabled() %}
    {{ return(false) }}
{% endmacro %}

{% macro duckdb__order_input_files_enabled() %}
    {%- set settings = input_settings('orders') -%}
    {%- if not settings['enabled'] or not settings['file'] or order_lines_state_config()['materialized'] != 'incremental' -%}
        {{ return(false) }}
    {%- endif -%}
    {#- Local files only: a URL or an object store's modification times come from another
        clock, and not every remote file system lists files. -#}
    {%- if '://' in settings['file'] -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if execute -%}
        {%- set available = input_columns('orders', input_relation('orders'))['available'] -%}
        {%- for name in available if (name | lower) == (order_input_file_column() | lower) -%}
            {{ return(false) }}
        {%- endfor -%}
    {%- endif -%}
    {{ return(true) }}
{% endmacro %}

{#-
    The files of the orders input now, as a list of dicts {file_name, file_size,
    file_modified_at ('YYYY-MM-DD HH:MM:SS', UTC)} sorted by name, with `listed_at` (the
    database clock when listed) on each; none when the input is not listed by file
    (order_input_files_enabled) or at parse time. DuckDB's read_blob without its content
    column reads no file, only the directory entries.
-#}
{% macro order_input_files() %}
    {%- if not execute or not order_input_files_enabled() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select
            filename as file_name,
            size as file_size,
            strftime(timezone('UTC', last_modified), '%Y-%m-%d %H:%M:%S') as file_modified_at,
            strftime(timezone('UTC', current_timestamp), '%Y-%m-%d %H:%M:%S') as listed_at
        from read_blob({{ quote_literal(input_settings('orders')['file']) }})
        order by filename
    {%- endset -%}
    {%- set files = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do files.append({'file_name': row['file_name'], 'file_size': row['file_size'] | int,
                             'file_modified_at': row['file_modified_at'], 'listed_at': row['listed_at']}) -%}
    {%- endfor -%}
    {{ return(files) }}
{% endmacro %}

{#-
    How long a file must have been unmodified when it was read (its modification time that
    long before the listing) for a later build to trust its stored figures without reading
    it again. File times have a resolution of a second and a file rewritten within the
    second it was read would keep its size and time; so a file modified shortly before it
    was read is read again by the next build (git calls this the "racy" case). An hour also
    covers clocks that differ between the database and a file server.
-#}
{% macro order_input_file_settle_seconds() %}
    {{ return(3600) }}
{% endmacro %}

{#-
    The files int_order_input_file_days (`relation`) holds figures of under the current
    settings, as a dict {file_name: [file_size, file_modified_at 'YYYY-MM-DD HH:MM:SS']}.
    `settled_only`: only the files modified at least order_input_file_settle_seconds before
    they were read (the ones a later build may trust without reading them again).
-#}
{% macro order_input_file_identities(relation, settled_only=false) %}
    {%- set query -%}
        select
            file_name,
            max(file_size) as file_size,
            strftime(max(file_modified_at), '%Y-%m-%d %H:%M:%S') as file_modified_at
        from {{ relation }}
        where settings_fingerprint = {{ order_lines_settings_fingerprint() }}
        group by file_name
        having count(distinct file_size) = 1
            and count(distinct file_modified_at) = 1
            {%- if settled_only %}
            and max(file_modified_at) < min({{ dbt.dateadd('second', -1 * order_input_file_settle_seconds(), 'listed_at') }})
            {%- endif %}
    {%- endset -%}
    {%- set identities = {} -%}
    {%- for row in run_query(query).rows -%}
        {%- do identities.update({row['file_name']: [row['file_size'] | int, row['file_modified_at']]}) -%}
    {%- endfor -%}
    {{ return(identities) }}
{% endmacro %}
