{#-
    A SQL expression that fails the query with `message_expression` (a text expression)
    when it is evaluated. Used to stop a build on invalid configuration rows (such as an
    unknown column in a business rule) with a message that names the problem.
-#}
{% macro raise_error(message_expression) %}
    {{ return(adapter.dispatch('raise_error', 'customer_segmentation')(message_expression)) }}
{% endmacro %}

{% macro default__raise_error(message_expression) %}
    {#- Most engines have no error(): a failed cast still shows the message in its error. -#}
    {{ return("cast(" ~ message_expression ~ " as integer)") }}
{% endmacro %}

{% macro duckdb__raise_error(message_expression) %}
    {{ return("error(" ~ message_expression ~ ")") }}
{% endmacro %}

{#- Spark has raise_error(); its result (type void) is cast so it fits any typed branch. -#}
{% macro spark__raise_error(message_expression) %}
    {{ return("cast(raise_error(" ~ message_expression ~ ") as int)") }}
{% endmacro %}
