{#-
    What the incremental change guard knows of each file of the orders input, per order
    date: the line count, amount sum and row checksum (the figures the guard compares with
    the stored state; macros/incremental/order_input_files.sql). Rebuilt before
    int_order_lines_window on every incremental build: the rows of a file listed again with
    the same name, size and modification time are kept (the file is not read); new and
    changed files, and files modified shortly before they were read (settle time), are read
    again through stg_orders' file-name column, one file at a time in the reader (the filter
    on the file name reaches DuckDB's reader: other files are not opened). Empty when the
    input is not listed by file (tables, the demo seeds, Spark) and on full builds (nothing
    to guard): the first incremental build reads every file once.
-#}
{{ config(materialized='table') }}
{%- set files = order_input_files() -%}
{%- set stored_state = order_lines_stored_relation() -%}
{%- set fingerprint = order_lines_settings_fingerprint() -%}
{%- set text = dbt.type_string() -%}
{%- set timestamp = dbt.type_timestamp() -%}
{%- set bigint = dbt.type_bigint() -%}
{%- set trusted = [] -%}
{%- set to_read = [] -%}
{%- if files is not none and stored_state is not none -%}
    {%- set previous = stored_model_relation('int_order_input_file_days') -%}
    {%- set known = order_input_file_identities(previous, settled_only=true) if previous is not none else {} -%}
    {%- for file in files -%}
        {%- if known.get(file['file_name']) == [file['file_size'], file['file_modified_at']] -%}
            {%- do trusted.append(file) -%}
        {%- else -%}
            {%- do to_read.append(file) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do log('int_order_input_file_days: ' ~ (to_read | length) ~ ' of ' ~ (files | length)
               ~ ' orders input file(s) read, ' ~ (trusted | length) ~ ' unchanged since read', info=true) -%}
{%- endif %}
-- depends_on: {{ ref('stg_orders') }}
{%- if trusted %}
select
    file_name,
    file_size,
    file_modified_at,
    listed_at,
    order_date,
    line_count,
    amount,
    row_checksum,
    settings_fingerprint
from {{ stored_model_relation('int_order_input_file_days') }}
where
    settings_fingerprint = {{ fingerprint }}
    and file_name in ({% for file in trusted %}{{ quote_literal(file['file_name']) }}{{ ', ' if not loop.last }}{% endfor %})
{%- endif %}
{%- if trusted and to_read %}

union all
{% endif %}
{%- if to_read %}
select
    listed.file_name,
    listed.file_size,
    listed.file_modified_at,
    listed.listed_at,
    lines.order_date,
    cast(count(lines.file_name) as {{ bigint }}) as line_count,
    sum(lines.amount) as amount,
    {{ order_lines_checksum('lines.source_row_fingerprint') }} as row_checksum,
    cast({{ fingerprint }} as {{ bigint }}) as settings_fingerprint
from (
    {%- for file in to_read %}
    select
        cast({{ quote_literal(file['file_name']) }} as {{ text }}) as file_name,
        cast({{ file['file_size'] }} as {{ bigint }}) as file_size,
        cast({{ quote_literal(file['file_modified_at']) }} as {{ timestamp }}) as file_modified_at,
        cast({{ quote_literal(file['listed_at']) }} as {{ timestamp }}) as listed_at
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
) as listed
left join (
    select
        source_file_name as file_name,
        cast(ordered_at as date) as order_date,
        amount,
        source_row_fingerprint
    from {{ ref('stg_orders') }}
    where source_file_name in ({% for file in to_read %}{{ quote_literal(file['file_name']) }}{{ ', ' if not loop.last }}{% endfor %})
) as lines
    on listed.file_name = lines.file_name
group by 1, 2, 3, 4, 5
{%- endif %}
{%- if not trusted and not to_read %}
select
    cast(null as {{ text }}) as file_name,
    cast(null as {{ bigint }}) as file_size,
    cast(null as {{ timestamp }}) as file_modified_at,
    cast(null as {{ timestamp }}) as listed_at,
    cast(null as date) as order_date,
    cast(null as {{ bigint }}) as line_count,
    cast(null as {{ dbt.type_numeric() }}) as amount,
    cast(null as {{ bigint }}) as row_checksum,
    cast(null as {{ bigint }}) as settings_fingerprint
where 1 = 0
{%- endif %}
