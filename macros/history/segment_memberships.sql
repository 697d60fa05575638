{#-
    Unpivot one row per customer (with the columns of customer_segments) into one row per
    customer and segmentation type - the one place that says what a "segment" is in the
    history tables:
      rfm       segment = segment_name = the named RFM segment;
      business  segment = segment_name = the business-rule segment;
      cluster   segment = the cluster id as text (stable across retrains) and segment_name =
                the cluster's name, or 'unclassified' for both when the customer has no cluster.
    `model_version` is the cluster model version for the cluster type, else empty.
    `relation` is a relation or CTE name; `extra_columns` are carried along unchanged.
    Returns a select with customer_id, as_of_date, segmentation_type, segment, segment_name,
    model_version and the extra columns.
-#}
{% macro segment_memberships(relation, extra_columns=[]) %}
    {%- set carried = [] -%}
    {%- for column in extra_columns -%}{%- do carried.append(',\n    ' ~ column) -%}{%- endfor -%}
    {%- set types = [
        ('rfm', 'rfm_segment', 'rfm_segment', 'cast(null as ' ~ dbt.type_bigint() ~ ')'),
        ('business', 'business_segment', 'business_segment', 'cast(null as ' ~ dbt.type_bigint() ~ ')'),
        ('cluster',
         "case when cluster_id is null then 'unclassified' else cast(cluster_id as " ~ dbt.type_string() ~ ") end",
         "case when cluster_id is null then 'unclassified' else cluster_name end",
         'cast(cluster_model_version as ' ~ dbt.type_bigint() ~ ')'),
    ] -%}
    {%- for segmentation_type, segment, segment_name, model_version in types %}
select
    customer_id,
    as_of_date,
    cast({{ quote_literal(segmentation_type) }} as {{ dbt.type_string() }}) as segmentation_type,
    cast({{ segment }} as {{ dbt.type_string() }}) as segment,
    cast({{ segment_name }} as {{ dbt.type_string() }}) as segment_name,
    {{ model_version }} as model_version{{ carried | join('') }}
from {{ relation }}
{%- if not loop.last %}
union all
{%- endif %}
    {%- endfor %}
{% endmacro %}
