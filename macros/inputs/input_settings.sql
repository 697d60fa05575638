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
        'columns': {},
        'timestamp_format': none,
        'date_format': none,
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
    {%- if settings['table'] and settings['file'] -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ " sets both `table` and `file`; set one of them.") }}
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
    {%- if kind == 'orders' and settings['cancelled_statuses'] is string -%}
        {%- do settings.update({'cancelled_statuses': [settings['cancelled_statuses']]}) -%}
    {%- endif -%}
    {{ return(settings) }}
{% endmacro %}


{#- True when the input comes from the user's table or file rather than the demo seed. -#}
{% macro input_is_configured(kind) %}
    {%- set settings = input_settings(kind) -%}
    {{ return(settings['table'] is not none or settings['file'] is not none) }}
{% endmacro %}
