{#-
    Resolve where an input is read from:
      - `file` set: the file, read by the adapter (DuckDB reads CSV and Parquet);
      - `table` set: the source `<kind>_input.<kind>` declared in models/sources/_sources.yml,
        whose schema and table name come from the same var;
      - `ref` set: a model or seed of the project that installs this one as a package
        (dbt looks the name up in the root project first);
      - `source` set ([source name, table name]): a source that project declares;
      - none of them: the demo seed `demo_<kind>`, which is only there when this project is
        built itself (or var demo_data is true) - otherwise an error says which var to set.
    Sources, refs and seeds all go through dbt, so lineage shows in the docs.
-#}
{% macro input_relation(kind, file_name_column=none) %}
    {%- set settings = input_settings(kind) -%}
    {%- if settings['file'] -%}
        {{ return(read_input_file(settings['file'], settings, kind ~ '_input', file_name_column)) }}
    {%- elif settings['table'] -%}
        {{ return(source(kind ~ '_input', kind)) }}
    {%- elif settings['ref'] -%}
        {{ return(ref(settings['ref'])) }}
    {%- elif settings['source'] -%}
        {{ return(source(settings['source'][0], settings['source'][1])) }}
    {%- elif demo_data_enabled() -%}
        {{ return(ref('demo_' ~ kind)) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "No " ~ kind ~ " input is configured and the demo data is off (customer_segmentation is "
            ~ "installed as a package, or var demo_data is false). Set var " ~ kind ~ "_input to "
            ~ "{ref: <your model or seed>}, {source: [<source>, <table>]}, {schema: s, table: t} or "
            ~ "{file: path}" ~ (", or {enabled: false} to derive customers from orders" if kind == 'customers' else "")
            ~ " under `vars: customer_segmentation:` in your dbt_project.yml.") }}
    {%- endif -%}
{% endmacro %}


{#-
    The columns the input really has, read from the database (input_column_types, or a
    zero-row query where the adapter gives no types), and the
    mapping from our column names to theirs. Explicitly mapped columns must exist; unmapped
    ones are taken by their own name when present (case-insensitively) and are otherwise
    null (optional) or an error (required). Returns {'columns': {our_name: quoted_identifier
    or none}, 'available': [their column names], 'types': {our_name: their database type,
    upper case, or none when unknown}}; the types let staging skip a text round trip.
-#}
{% macro input_columns(kind, relation) %}
    {%- set contract = input_contract(kind) -%}
    {%- set settings = input_settings(kind) -%}
    {%- set mapping = settings['columns'] -%}
    {%- set known = contract['required'] + contract['optional'] -%}
    {%- set resolved = {} -%}

    {%- if not execute -%}
        {#- Parsing: no database yet. Pretend every column exists; nothing is run. -#}
        {%- for name in known -%}{%- do resolved.update({name: quote_identifier(mapping.get(name, name))}) -%}{%- endfor -%}
        {{ return({'columns': resolved, 'available': known, 'types': {}}) }}
    {%- endif -%}

    {#- One metadata query: the adapter's column types when it has them (their names are the
        columns), else a zero-row probe for the names alone. -#}
    {%- set their_types = input_column_types(relation) -%}
    {%- if their_types -%}
        {%- set available = their_types.keys() | list -%}
    {%- else -%}
        {%- set available = run_query('select * from ' ~ relation ~ ' where 1 = 0').column_names | list -%}
    {%- endif -%}
    {%- set by_lower = {} -%}
    {%- for name in available -%}{%- do by_lower.update({name | lower: name}) -%}{%- endfor -%}
    {%- set var_name = kind ~ '_input' -%}
    {%- set matched = {} -%}

    {%- for name in known -%}
        {%- if name in mapping -%}
            {%- set wanted = mapping[name] -%}
            {%- if wanted in available -%}
                {%- do matched.update({name: wanted}) -%}
            {%- elif (wanted | lower) in by_lower -%}
                {%- do matched.update({name: by_lower[wanted | lower]}) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    "var " ~ var_name ~ ".columns maps " ~ name ~ " to the column '" ~ wanted
                    ~ "', but the " ~ kind ~ " input (" ~ relation ~ ") has no such column. "
                    ~ "Its columns are: " ~ (available | join(', '))
                    ~ ". Fix the name in var " ~ var_name ~ ".columns.") }}
            {%- endif -%}
        {%- elif name in by_lower -%}
            {%- do matched.update({name: by_lower[name]}) -%}
        {%- elif name in contract['required'] -%}
            {{ exceptions.raise_compiler_error(
                "The " ~ kind ~ " input (" ~ relation ~ ") has no column for the required field '" ~ name
                ~ "'. Its columns are: " ~ (available | join(', '))
                ~ ". Map one with var " ~ var_name ~ ": {columns: {" ~ name ~ ": <your column>}}.") }}
        {%- else -%}
            {%- do matched.update({name: none}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set types = {} -%}
    {%- for name, column in matched.items() -%}
        {%- do resolved.update({name: quote_identifier(column) if column is not none else none}) -%}
        {%- if column is not none -%}{%- do types.update({name: their_types.get(column)}) -%}{%- endif -%}
    {%- endfor -%}
    {{ return({'columns': resolved, 'available': available, 'types': types}) }}
{% endmacro %}


{#-
    {column name: database type in upper case} of a relation, where the adapter can tell
    cheaply; {} elsewhere (staging then parses every column as text).
-#}
{% macro input_column_types(relation) %}
    {{ return(adapter.dispatch('input_column_types', 'customer_segmentation')(relation)) }}
{% endmacro %}

{% macro default__input_column_types(relation) %}
    {{ return({}) }}
{% endmacro %}

{% macro duckdb__input_column_types(relation) %}
    {%- set described = run_query('describe select * from ' ~ relation) -%}
    {%- set types = {} -%}
    {%- for row in described.rows -%}
        {%- do types.update({row['column_name']: row['column_type'] | upper}) -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}


{#-
    Whether the demo seeds (seeds/demo/) are built: var `demo_data` when it is set, otherwise
    true when this project is the one being built and false when it is installed as a package
    (`project_name` is always the root project's name). seeds/_seeds.yml repeats the same
    expression, because YAML configs cannot call macros.
-#}
{% macro demo_data_enabled() %}
    {%- set setting = var('demo_data', none) -%}
    {%- if setting is none -%}
        {{ return(project_name == 'customer_segmentation') }}
    {%- endif -%}
    {%- if setting is not sameas true and setting is not sameas false -%}
        {#- While parsing, on-run-start's validate_vars names this var with every other mistyped one. -#}
        {%- if not execute -%}
            {{ return(project_name == 'customer_segmentation') }}
        {%- endif -%}
        {{ exceptions.raise_compiler_error("var demo_data must be true, false or null (null = on only when this project is built itself, off when it is installed as a package); got: " ~ setting) }}
    {%- endif -%}
    {{ return(setting) }}
{% endmacro %}
