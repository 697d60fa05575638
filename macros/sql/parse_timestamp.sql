{#-
    Parse a value to a timestamp in UTC; unparseable values become null (and are counted by
    the data-quality checks) instead of failing the build. `format` is a strptime format or
    none; `source_type` the value's database type when known (see input_columns), else none.
    A value with an offset ('2024-03-01T23:30:00-05:00', a format with %z) or a time-zone
    typed column is converted to UTC; a value without one is taken as UTC already. Results
    never depend on the machine's time zone (profiles.yml also sets the session to UTC).
    The words DuckDB reads as dates ('epoch', 'infinity') are not dates: null.
-#}
{% macro parse_timestamp(expression, format=none, source_type=none) %}
    {{ return(adapter.dispatch('parse_timestamp', 'customer_segmentation')(expression, format, source_type)) }}
{% endmacro %}

{% macro default__parse_timestamp(expression, format=none, source_type=none) %}
    {{ return(try_cast(clean_text(expression), api.Column.translate_type('timestamp'))) }}
{% endmacro %}

{#- A timestamp or date column read without a format is cast directly: the same value as
    through its text, without writing and re-reading 20M timestamps. Only texts whose time
    ends in an offset ('10:00:00Z', '+01', '-05:00', '+0530') take the time-zone cast. -#}
{% macro duckdb__parse_timestamp(expression, format=none, source_type=none) %}
    {%- set text = clean_text(expression) -%}
    {%- if format and ('%z' in format or '%Z' in format) -%}
        {{ return("timezone('UTC', try_strptime(" ~ text ~ ", " ~ quote_literal(format) ~ "))") }}
    {%- elif format -%}
        {{ return('try_strptime(' ~ text ~ ', ' ~ quote_literal(format) ~ ')') }}
    {%- elif source_type in ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ'] -%}
        {{ return("timezone('UTC', " ~ expression ~ ")") }}
    {%- elif source_type is not none and (source_type.startswith('TIMESTAMP') or source_type == 'DATE') -%}
        {{ return('try_cast(' ~ expression ~ ' as timestamp)') }}
    {%- else -%}
        {#- The time-zone cast is ~8x slower than the plain one, hence the gate. -#}
        {{ return("case when regexp_matches(" ~ text ~ ", '[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')"
                  ~ " then timezone('UTC', try_cast(" ~ text ~ " as timestamptz))"
                  ~ " when " ~ text ~ " ilike 'epoch' or " ~ text ~ " ilike '%infinity' then null"
                  ~ " else try_cast(" ~ text ~ " as timestamp) end") }}
    {%- endif -%}
{% endmacro %}
