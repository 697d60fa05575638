{#-
    One row per day, the time spine MetricFlow requires (its `metric_time`). The range covers
    any as-of date this project can be built for; a day outside it cannot be queried as a
    metric_time, so it is wide rather than derived from the data, and costs ~18k rows.
-#}
with days as (

    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2050-01-01' as date)") }}

),

renamed as (

    select cast(date_day as date) as date_day
    from days

)

select * from renamed
