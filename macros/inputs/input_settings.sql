{#-
    The input contract lives here: which columns each input may have, which are required,
    and which keys the `orders_input` / `customers_input` vars accept. Every other macro and
    model reads input configuration through `input_settings()`, so it is validated once.
-#}

{% macro input_contract(kind) %}
    {%- set contracts = {
        'orders': {
            'required': ['order_id', 'customer_id', 'ordered_at'],
            'optional': ['amount', 'quantity', 'unit_price', 'status', 'is_cancelled'],
        },
        'customers': {
            'required': ['customer_id'],
            'optional': ['signup_date', 'birth_date', 'age', 'gender', 'country', 'region',
                         'city', 'marketing_consent'],
        },
    } -%}
    {%- if kind not in contracts -%}
        {{ exceptions.raise_compiler_error("input_contract: unknown input '" ~ kind ~ "'; expected 'orders' or 'customers'.") }}
    {%- endif -%}
    {{ return(contracts[kind]) }}
{% endmacro %}


{% macro input_settings(kind) %}
    {%- set contract = input_contract(kind) -%}
    {%- set defaults = {
        'enabled': true,
        'database': none,
        'schema': none,
        'table': none,
        'file': none,
        'ref': none,
        'source': none,
        'columns': {},
        'timestamp_format': none,
        'date_format': none,
        'normalize_ids': true,
        'encoding': none,
        'delimiter': none,
        'decimal_separator': '.',
        'read_options': {},
    } -%}
    {%- if kind == 'orders' -%}
        {%- do defaults.update({
            'cancelled_order_id_prefix': none,
            'cancelled_statuses': ['cancelled', 'canceled', 'refunded', 'returned'],
        }) -%}
    {%- endif -%}
    {%- set var_name = kind ~ '_input' -%}
    {%- set given = var(var_name, {}) -%}
    {%- if given is none -%}{%- set given = {} -%}{%- endif -%}
    {%- if given is not mapping -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ " must be a mapping such as {file: data/orders.csv}, got: " ~ given) }}
    {%- endif -%}
    {%- for key in given -%}
        {%- if key not in defaults -%}
            {{ exceptions.raise_compiler_error("Unknown key '" ~ key ~ "' in var " ~ var_name ~ ". Allowed keys: " ~ (defaults.keys() | sort | join(', ')) ~ ".") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set settings = {} -%}
    {%- do settings.update(defaults) -%}
    {%- do settings.update(given) -%}
    {%- if settings['columns'] is none -%}{%- do settings.update({'columns': {}}) -%}{%- endif -%}

    {%- for key in ['database', 'schema', 'table'] -%}
        {%- do checked_name(settings[key], var_name ~ '.' ~ key) -%}
    {%- endfor -%}
    {%- set locations = [] -%}
    {%- for key in ['table', 'file', 'ref', 'source'] if settings[key] -%}{%- do locations.append(key) -%}{%- endfor -%}
    {%- if locations | length > 1 -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ " sets " ~ (locations | join(' and ')) ~ "; set only one of table, file, ref or source.") }}
    {%- endif -%}
    {%- if settings['ref'] is not none and (settings['ref'] is not string or (settings['ref'] | length) == 0) -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".ref must be the name of a model or seed of your project, e.g. {ref: stg_shop__orders}; got: " ~ settings['ref']) }}
    {%- endif -%}
    {%- if settings['source'] is not none -%}
        {%- set src = settings['source'] -%}
        {%- if src is string or src is mapping or (src | length) != 2 or src[0] is not string or src[1] is not string -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".source must be [source name, table name] of a source your project declares, e.g. {source: [shop, orders]}; got: " ~ src) }}
        {%- endif -%}
    {%- endif -%}
    {%- if settings['columns'] is not mapping -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".columns must map our column names to yours, e.g. {customer_id: CustomerID}; got: " ~ settings['columns']) }}
    {%- endif -%}
    {%- set known = contract['required'] + contract['optional'] -%}
    {%- for ours, theirs in settings['columns'].items() -%}
        {%- if ours not in known -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".columns maps '" ~ ours ~ "', which is not a column of the " ~ kind ~ " input contract. Known columns: " ~ (known | join(', ')) ~ ".") }}
        {%- endif -%}
        {%- if theirs is not string or (theirs | length) == 0 -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".columns." ~ ours ~ " must be the name of a column in your data, got: " ~ theirs) }}
        {%- endif -%}
    {%- endfor -%}
    {%- do _check_reader_options(settings, var_name) -%}
    {%- if settings['normalize_ids'] is not boolean -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".normalize_ids must be true or false, got: " ~ settings['normalize_ids']) }}
    {%- endif -%}
    {%- for key in ['timestamp_format', 'date_format', 'cancelled_order_id_prefix'] if settings.get(key) is not none -%}
        {%- if settings[key] is not string -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ "." ~ key ~ " must be text, got: " ~ settings[key]) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if kind == 'orders' and settings['cancelled_statuses'] is string -%}
        {%- do settings.update({'cancelled_statuses': [settings['cancelled_statuses']]}) -%}
    {%- endif -%}
    {{ return(settings) }}
{% endmacro %}


{#-
    The CSV reader options of an input var, validated: encoding (utf-8, utf-16, latin-1),
    delimiter (1-4 characters), decimal_separator ('.' or ','), and read_options, a mapping
    passed to DuckDB's read_csv whose names are whitelisted here and whose values must be
    text, whole numbers or booleans as listed. Options that would drop lines silently
    (ignore_errors, rejects_*) or change what staging reads (header, columns, types,
    all_varchar) are refused.
-#}
{% macro _check_reader_options(settings, var_name) %}
    {%- set encodings = ['utf-8', 'utf-16', 'latin-1'] -%}
    {%- if settings['encoding'] is not none and settings['encoding'] not in encodings -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".encoding must be one of " ~ (encodings | join(', ')) ~ ", got: " ~ settings['encoding']) }}
    {%- endif -%}
    {%- set delimiter = settings['delimiter'] -%}
    {%- if delimiter is not none and (delimiter is not string or (delimiter | length) < 1 or (delimiter | length) > 4) -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".delimiter must be 1 to 4 characters such as ';' or '|', got: " ~ delimiter) }}
    {%- endif -%}
    {%- if settings['decimal_separator'] not in ['.', ','] -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".decimal_separator must be '.' or ',', got: " ~ settings['decimal_separator']) }}
    {%- endif -%}
    {%- set allowed = {
        'quote': 'text', 'escape': 'text', 'comment': 'text', 'new_line': 'text', 'nullstr': 'text',
        'compression': 'text', 'skip': 'integer', 'max_line_size': 'integer', 'sample_size': 'integer',
        'null_padding': 'boolean', 'strict_mode': 'boolean', 'parallel': 'boolean',
    } -%}
    {%- set options = settings['read_options'] or {} -%}
    {%- if options is not mapping -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".read_options must be a mapping of DuckDB read_csv options such as {quote: \"'\", skip: 2}, got: " ~ options) }}
    {%- endif -%}
    {%- for name, value in options.items() -%}
        {%- if name not in allowed -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".read_options: '" ~ name ~ "' is not an accepted read_csv option. Accepted: " ~ (allowed.keys() | sort | join(', ')) ~ " (set encoding and delimiter as keys of " ~ var_name ~ "; options that drop lines silently, such as ignore_errors, are not accepted).") }}
        {%- endif -%}
        {%- set kind = allowed[name] -%}
        {%- set ok = (kind == 'text' and value is string)
                     or (kind == 'boolean' and value is boolean)
                     or (kind == 'integer' and value is number and value is not boolean and value == (value | int) and value >= 0) -%}
        {%- if not ok -%}
            {{ exceptions.raise_compiler_error("var " ~ var_name ~ ".read_options." ~ name ~ " must be " ~ {'text': 'text', 'boolean': 'true or false', 'integer': 'a whole number from 0'}[kind] ~ ", got: " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {%- do settings.update({'read_options': options}) -%}
{% endmacro %}


{#- True when the input comes from the user's table, file, ref or source rather than the demo seed. -#}
{% macro input_is_configured(kind) %}
    {%- set settings = input_settings(kind) -%}
    {{ return(settings['table'] is not none or settings['file'] is not none
              or settings['ref'] is not none or settings['source'] is not none) }}
{% endmacro %}
