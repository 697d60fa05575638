{#-
    Every staged order line with the reason it is excluded, or null when it counts (a view:
    20M lines are not stored; int_order_lines_grouped stores them summed per order and day,
    and the excluded ones line by line). Reasons are checked in this order; a line gets the
    first that applies. Lines after the as-of date are not excluded here (see
    int_order_lines_excluded).
-#}
{{ config(materialized='view') }}

with order_lines as {{ cte_not_materialized() }} (

    select * from {{ ref('stg_orders') }}

),

{{ order_lines_checks('order_lines') }}

select * from checked
