{#-
    Assign every customer of `input_relation` to the nearest stored centroid, in plain SQL.
    It applies the stored preprocessing exactly as the Python model does:
      numeric:      z = (signed_log1p_if(clip(coalesce(x, impute_value), lower, upper)) - center) / scale
      categorical:  z = weight / sqrt(2) when the customer's level (unknown -> '__other__',
                    null -> '__missing__') equals the column's level, else 0
    then the squared Euclidean distance to each centroid; ties go to the lower cluster_id.
    Distances are rounded to 1e-9: a parallel SQL sum adds in no fixed order, and the last
    bits would otherwise differ between identical reruns.
    Customers with a feature that cannot be computed get no row (they are unclassified).
    Returns a select with: customer_id, cluster_id, distance_to_centroid, distance_to_second.
-#}
{% macro score_nearest_centroid(input_relation, preprocessing_relation, centroids_relation, numeric_columns, categorical_columns) %}
{%- set value_selects = [] -%}
{%- for column in numeric_columns -%}
    {%- do value_selects.append("select customer_id, " ~ quote_literal(column) ~ " as source_column, cast("
        ~ quote_identifier(column) ~ " as " ~ type_double() ~ ") as numeric_value, cast(null as "
        ~ dbt.type_string() ~ ") as text_value, 'numeric' as value_kind from scored_input") -%}
{%- endfor -%}
{%- for column in categorical_columns -%}
    {%- do value_selects.append("select customer_id, " ~ quote_literal(column) ~ " as source_column, cast(null as "
        ~ type_double() ~ ") as numeric_value, cast(" ~ quote_identifier(column) ~ " as " ~ dbt.type_string()
        ~ ") as text_value, 'categorical' as value_kind from scored_input") -%}
{%- endfor -%}

with scored_input as (

    select * from {{ input_relation }}

),

preprocessing as (

    select * from {{ preprocessing_relation }}

),

centroids as (

    select * from {{ centroids_relation }}

),

long_values as (

    {% if value_selects -%}
    {{ value_selects | join('\n    union all\n    ') }}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as source_column,
        cast(null as {{ type_double() }}) as numeric_value,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(null as {{ dbt.type_string() }}) as value_kind
    where 1 = 0
    {%- endif %}

),

numeric_clipped as (

    select
        long_values.customer_id,
        preprocessing.feature_name,
        preprocessing.log_transform,
        preprocessing.center,
        preprocessing.scale,
        case
            when coalesce(long_values.numeric_value, preprocessing.impute_value) is null then null
            when preprocessing.clip_lower is not null
                and coalesce(long_values.numeric_value, preprocessing.impute_value) < preprocessing.clip_lower
                then preprocessing.clip_lower
            when preprocessing.clip_upper is not null
                and coalesce(long_values.numeric_value, preprocessing.impute_value) > preprocessing.clip_upper
                then preprocessing.clip_upper
            else coalesce(long_values.numeric_value, preprocessing.impute_value)
        end as clipped_value
    from long_values
    inner join preprocessing
        on long_values.value_kind = 'numeric'
        and preprocessing.kind = 'numeric'
        and long_values.source_column = preprocessing.source_column

),

numeric_scaled as (

    select
        customer_id,
        feature_name,
        (
            case
                when log_transform then sign(clipped_value) * ln(1 + abs(clipped_value))
                else clipped_value
            end - center
        ) / scale as scaled_value
    from numeric_clipped

),

categorical_levels as (

    select
        source_column,
        level
    from preprocessing
    where kind = 'categorical'

),

categorical_mapped as (

    select
        long_values.customer_id,
        long_values.source_column,
        case
            when long_values.text_value is null then '__missing__'
            when categorical_levels.level is not null then long_values.text_value
            else '__other__'
        end as mapped_level
    from long_values
    left join categorical_levels
        on long_values.source_column = categorical_levels.source_column
        and long_values.text_value = categorical_levels.level
    where long_values.value_kind = 'categorical'

),

categorical_scaled as (

    select
        categorical_mapped.customer_id,
        preprocessing.feature_name,
        case
            when categorical_mapped.mapped_level = preprocessing.level
                then preprocessing.weight / sqrt(2.0)
            else 0
        end as scaled_value
    from categorical_mapped
    inner join preprocessing
        on preprocessing.kind = 'categorical'
        and categorical_mapped.source_column = preprocessing.source_column

),

scaled as (

    select * from numeric_scaled
    union all
    select * from categorical_scaled

),

{#- The features every customer must have a value for: those of the stored centroids. The
    centroids leave out the one-hot columns of pseudo-levels (__other__, __missing__) that no
    classified customer had; every centroid is 0 there, so such a column adds the same amount
    to a customer's distance to every centroid and cannot change the nearest one. #}
model_size as (

    select count(distinct feature_name) as feature_count
    from centroids

),

distances as (

    select
        scaled.customer_id,
        centroids.cluster_id,
        sum((scaled.scaled_value - centroids.scaled_value) * (scaled.scaled_value - centroids.scaled_value))
            as squared_distance,
        count(scaled.scaled_value) as features_used
    from scaled
    inner join centroids
        on scaled.feature_name = centroids.feature_name
    group by 1, 2

),

complete as (

    select distances.*
    from distances
    cross join model_size
    where distances.features_used = model_size.feature_count

),

ranked as (

    select
        customer_id,
        cluster_id,
        squared_distance,
        row_number() over (partition by customer_id order by squared_distance, cluster_id) as distance_rank
    from complete

),

nearest as (

    select
        customer_id,
        max(case when distance_rank = 1 then cluster_id end) as cluster_id,
        round(sqrt(max(case when distance_rank = 1 then squared_distance end)), 9) as distance_to_centroid,
        round(sqrt(max(case when distance_rank = 2 then squared_distance end)), 9) as distance_to_second
    from ranked
    group by 1

)

select * from nearest
{% endmacro %}
