{#-
    Stop the build when an input is unreadable as configured: when every line of it, or more
    than var max_excluded_line_share of its lines, is excluded for a reason a setting can fix
    (unparseable values, missing ids, dates before min_order_date). The message names the
    main reason and the setting to change, so a wrong delimiter or decimal separator never
    gives a passing build in which everyone is "No Purchases". An input with no lines at
    all is not "excluded" (documented: customers with no orders). Duplicates and lines after
    the as-of date are not counted: those are treatments, not unreadable data.
    `relation` has an `exclusion_reason` column; `kind` is 'orders' or 'customers';
    `line_count_sql` counts the lines of a group of its rows (`sum(line_count)` on
    int_order_lines_grouped, whose rows stand for several lines each).
-#}
{% macro assert_excluded_line_share(relation, kind, line_count_sql='count(*)') %}
    {#- Not at parse time, and not in a unit test (its refs are fixtures, not tables). -#}
    {%- if not execute or '__dbt__cte__' in (relation | string) -%}{{ return('') }}{%- endif -%}
    {%- set limit = var('max_excluded_line_share', 0.5) -%}
    {%- if limit is not number or limit is boolean or limit < 0 or limit > 1 -%}
        {{ exceptions.raise_compiler_error("var max_excluded_line_share must be a share from 0 to 1, got: " ~ limit) }}
    {%- endif -%}
    {%- set fixes = {
        'missing_customer_id': kind ~ '_input.columns.customer_id (the id column), or the delimiter / encoding in ' ~ kind ~ '_input',
        'missing_customer_id_in_customers_input': 'customers_input.columns.customer_id (the id column), or the delimiter / encoding in customers_input',
        'missing_order_id': 'orders_input.columns.order_id (the order id column)',
        'unparseable_ordered_at': 'orders_input.timestamp_format (or orders_input.columns.ordered_at)',
        'unparseable_amount': 'orders_input.decimal_separator / orders_input.delimiter (or orders_input.columns.amount)',
        'before_min_order_date': 'var min_order_date (or orders_input.timestamp_format)',
    } -%}
    {%- set counted = fixes.keys() | list -%}
    {%- set reasons = [] -%}
    {%- for reason in counted -%}{%- do reasons.append(quote_literal(reason)) -%}{%- endfor -%}
    {%- set query -%}
        select
            exclusion_reason,
            {{ line_count_sql }} as lines,
            sum({{ line_count_sql }}) over () as all_lines
        from {{ relation }}
        group by 1
        order by 2 desc, 1
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length == 0 -%}{{ return('') }}{%- endif -%}
    {%- set total = rows[0]['all_lines'] | int -%}
    {%- set ns = namespace(excluded=0, main=none, main_lines=0) -%}
    {%- for row in rows if row['exclusion_reason'] in counted -%}
        {%- set ns.excluded = ns.excluded + (row['lines'] | int) -%}
        {%- if ns.main is none -%}{%- set ns.main = row['exclusion_reason'] -%}{%- set ns.main_lines = row['lines'] | int -%}{%- endif -%}
    {%- endfor -%}
    {%- set share = ns.excluded / total -%}
    {%- if ns.excluded == total or share > limit -%}
        {{ exceptions.raise_compiler_error(
            (("Every line" if ns.excluded == total else (ns.excluded ~ " of " ~ total ~ " lines"))
             ~ " of the " ~ kind ~ " input " ~ ("is" if ns.excluded == total else "are") ~ " excluded"
             ~ (" (" ~ ((share * 100) | round(1)) ~ "%, more than var max_excluded_line_share = " ~ limit ~ ")" if ns.excluded != total else "")
             ~ ". Main reason: " ~ ns.main ~ " (" ~ ns.main_lines ~ " lines). Check " ~ fixes[ns.main]
             ~ "; see data_quality_report and docs/input_contract.md."
             ~ (" To accept it, raise var max_excluded_line_share." if ns.excluded != total else ""))) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
