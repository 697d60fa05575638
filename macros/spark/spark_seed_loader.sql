{#-
    dbt-spark's seed loader, corrected for this project (root-project macros override the
    adapter's spark__ versions of dbt's seed macros):
      - column types: the project declares seed types in one neutral spelling
        (dbt_project.yml, `varchar`, `integer`); target_data_type() turns each into the
        target's type, so Spark gets `string`, not `varchar`;
      - values: dbt-spark's session cursor pastes bound values into the SQL without escaping
        quotes and writes an empty cell as the text 'None'. Here Spark's CSV reader reads the
        file itself (spark__load_csv_rows), so a quote stays a quote and an empty cell is null.
-#}
{% macro _spark_seed_types(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
        {%- do types.append(target_data_type(column_override.get(col_name, inferred_type))) -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {%- set types = _spark_seed_types(model, agate_table) -%}
    {% set sql %}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set column_name = (col_name | string) -%}
            {{ adapter.quote_seed_column(column_name, quote_seed_column) }} {{ types[loop.index0] }}
            {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ partition_cols(label="partitioned by") }}
    {{ clustered_cols(label="clustered by") }}
    {{ location_clause() }}
    {{ comment_clause() }}
    {% endset %}
    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}
    {{ return(sql) }}
{% endmacro %}

{#-
    The rows: Spark's own CSV reader reads the seed file (one job instead of thousands of
    VALUES rows, which took 164 s for the 16,022 demo orders on 2 cores), with every column as
    text and quotes read as CSV writes them ("" inside a quoted value), an empty cell (or
    'null', as dbt's own CSV reader has it) as null;
    each column is then cast to its seed type.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set types = _spark_seed_types(model, agate_table) -%}
    {%- set path = model['root_path'] ~ '/' ~ model['original_file_path'] -%}
    {%- set view = quote_identifier(this.identifier ~ '__seed_csv') -%}
    {%- set columns = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {#- dbt's CSV reading (agate) reads 'null' in any case as null too. -#}
        {%- set column = "case when lower(" ~ quote_identifier(col_name) ~ ") = 'null' then null else " ~ quote_identifier(col_name) ~ " end" -%}
        {%- do columns.append((column if types[loop.index0] == 'string' else 'cast(' ~ column ~ ' as ' ~ types[loop.index0] ~ ')') ~ ' as ' ~ quote_identifier(col_name)) -%}
    {%- endfor -%}
    {%- set options = {'path': path, 'header': 'true', 'inferSchema': 'false', 'escape': '"',
                       'multiLine': 'true', 'mode': 'FAILFAST'} -%}
    {%- set option_sql = [] -%}
    {%- for key, value in options.items() -%}{%- do option_sql.append(key ~ ' ' ~ quote_literal(value)) -%}{%- endfor -%}
    {%- do run_query('create or replace temporary view ' ~ view ~ ' using csv options (' ~ option_sql | join(', ') ~ ')') -%}
    {%- set sql = 'insert into ' ~ this.render() ~ ' select ' ~ columns | join(', ') ~ ' from ' ~ view -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- do run_query('drop view if exists ' ~ view) -%}
    {{ return(sql) }}
{% endmacro %}
