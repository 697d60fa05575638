{#-
    The incremental settings of the history tables (segment_size_history,
    segment_transitions): each build replaces the rows of its own as-of date.
      default (DuckDB):  delete+insert on unique_key as_of_date;
      spark:             insert_overwrite of the as_of_date partition (Spark has no
                         delete+insert; merge would need Delta).
    Returns a dict of config() arguments.
-#}
{% macro history_incremental_config() %}
    {{ return(adapter.dispatch('history_incremental_config', 'customer_segmentation')()) }}
{% endmacro %}

{% macro default__history_incremental_config() %}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': 'as_of_date'}) }}
{% endmacro %}

{% macro spark__history_incremental_config() %}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': ['as_of_date']}) }}
{% endmacro %}
