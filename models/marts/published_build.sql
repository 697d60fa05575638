{#-
    One row naming the build: which dbt invocation wrote it, when it started and for which
    as-of date. Published with every other BI table in one transaction, so a reader that
    reads this row and the marts in one connection knows which build it is looking at, and
    can tell two builds apart.
-#}
with as_of_date as (

    select * from {{ ref('int_as_of_date') }}

),

described as (

    select
        cast({{ quote_literal(invocation_id) }} as {{ dbt.type_string() }}) as build_id,
        cast({{ quote_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) }} as {{ dbt.type_timestamp() }}) as build_started_at,
        as_of_date,
        as_of_date_source,
        cast({{ quote_literal(dbt_version) }} as {{ dbt.type_string() }}) as dbt_version
    from as_of_date

)

select * from described
