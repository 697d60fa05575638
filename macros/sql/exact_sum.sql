{#-
    Aggregates whose result does not depend on the order rows arrive in. A parallel sum of
    doubles (DuckDB, Spark) adds in whatever order the threads finish, so the same rows can
    give a different last bit from one build to the next; rounding the result afterwards only
    makes that rarer (a value near a rounding edge still flips). Summing exact decimals is
    order-independent, so a rerun, an incremental build and a full refresh publish the same
    bits.

    exact_sum(expr):  the sum of expr, each value first rounded to 1e-12 (decimal(38, 12):
                      values up to 1e26), as a double; with `over` (a window clause's
                      inside, e.g. 'partition by segmentation_type') the window sum;
    exact_avg(expr):  exact_sum(expr) / count(expr), as a double (null when no value);
    exact_stddev_pop(expr, mean): the population standard deviation around `mean` (an
                      exact_avg of the same rows, joined in): two passes, each exact.
-#}
{% macro exact_sum(expr, over=none) %}
    {{ return(adapter.dispatch('exact_sum', 'customer_segmentation')(expr, over)) }}
{% endmacro %}

{% macro default__exact_sum(expr, over=none) %}
    {%- set window = (' over (' ~ over ~ ')') if over else '' -%}
    {{ return('cast(sum(cast(' ~ expr ~ ' as decimal(38, 12)))' ~ window ~ ' as ' ~ type_double() ~ ')') }}
{% endmacro %}

{% macro exact_avg(expr) %}
    {{ return('(' ~ exact_sum(expr) ~ ' / nullif(count(' ~ expr ~ '), 0))') }}
{% endmacro %}

{% macro exact_stddev_pop(expr, mean) %}
    {%- set deviation = '(cast(' ~ expr ~ ' as ' ~ type_double() ~ ') - ' ~ mean ~ ')' -%}
    {{ return('sqrt(' ~ exact_avg(deviation ~ ' * ' ~ deviation) ~ ')') }}
{% endmacro %}
