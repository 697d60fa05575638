{#-
    One row naming the build: which dbt invocation wrote it, when it started and for which
    as-of date. Published with every other BI table in one transaction, so a reader that
    reads this row and the marts in one connection knows which build it is looking at, and
    can tell two builds apart. It also says what the build did with each model registry
    (the retrain schedule, segmentation/retrain.py): a model trained by this build (its
    trained_at is not before the build started) gives its retrain_reason; otherwise the
    build scored with the stored model, and the note counts its age in as-of days (for CLV:
    unless customer_predictions scored nobody, as when a due refit did not converge).
-#}
{%- set started = run_started_at.strftime('%Y-%m-%dT%H:%M:%S') -%}
{%- set after_days = var('retrain_after_days') | int -%}

with as_of_date as (

    select * from {{ ref('int_as_of_date') }}

),

cluster_models as (

    select * from {{ ref('cluster_models') }}

),

clv_models as (

    select * from {{ ref('clv_models') }}

),

customer_predictions as (

    select * from {{ ref('customer_predictions') }}

),

clv_scoring as (

    select count(model_version) as scored_customers
    from customer_predictions

),

{%- for registry, mode in [('cluster_models', var('clustering_mode')), ('clv_models', var('clv_mode'))] %}

{{ registry }}_latest as (

    select
        {{ registry }}.model_version,
        {{ registry }}.retrain_reason,
        substr({{ registry }}.trained_at, 1, 19) >= {{ quote_literal(started) }} as is_trained_by_this_build,
        cast({{ dbt.datediff(registry ~ '.as_of_date', 'as_of_date.as_of_date', 'day') }} as {{ dbt.type_bigint() }}) as model_age_days
    from {{ registry }}
    cross join as_of_date
    where {{ registry }}.model_version = (
        select max(registry_versions.model_version) from {{ registry }} as registry_versions
    )

),

{{ registry }}_decision as (

    select
        model_version,
        case
            {% if registry == 'clv_models' -%}
            when (select clv_scoring.scored_customers from clv_scoring) = 0
                then 'no customer scored: see customer_predictions.unscored_reason'
            {% endif -%}
            when is_trained_by_this_build then {{ dbt.concat(["retrain_reason", "' (model '",
                                                               "cast(model_version as " ~ dbt.type_string() ~ ")", "')'"]) }}
            {% if mode == 'score' -%}
            else {{ dbt.concat(["'scored with model '", "cast(model_version as " ~ dbt.type_string() ~ ")",
                                "': score mode never retrains'"]) }}
            {%- else -%}
            when model_age_days is null or model_age_days < 0 or model_age_days >= {{ after_days }}
                then {{ dbt.concat(["'scored with model '", "cast(model_version as " ~ dbt.type_string() ~ ")",
                                    "': same data and settings'"]) }}
            else {{ dbt.concat(["'scored with model '", "cast(model_version as " ~ dbt.type_string() ~ ")",
                                "', trained '", "cast(model_age_days as " ~ dbt.type_string() ~ ")",
                                "case when model_age_days = 1 then ' day' else ' days' end",
                                "' ago; retrain due in '",
                                "cast(" ~ after_days ~ " - model_age_days as " ~ dbt.type_string() ~ ")",
                                "case when " ~ after_days ~ " - model_age_days = 1 then ' day' else ' days' end"]) }}
            {%- endif %}
        end as decision
    from {{ registry }}_latest

),
{%- endfor %}

described as (

    select
        cast({{ quote_literal(invocation_id) }} as {{ dbt.type_string() }}) as build_id,
        cast({{ quote_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) }} as {{ dbt.type_timestamp() }}) as build_started_at,
        as_of_date.as_of_date,
        as_of_date.as_of_date_source,
        cast({{ quote_literal(dbt_version) }} as {{ dbt.type_string() }}) as dbt_version,
        cast(cluster_models_decision.model_version as {{ dbt.type_bigint() }}) as cluster_model_version,
        cast(coalesce(cluster_models_decision.decision, 'no cluster model stored') as {{ dbt.type_string() }})
            as cluster_model_decision,
        cast(clv_models_decision.model_version as {{ dbt.type_bigint() }}) as clv_model_version,
        cast(coalesce(clv_models_decision.decision, 'no CLV model stored') as {{ dbt.type_string() }})
            as clv_model_decision
    from as_of_date
    left join cluster_models_decision on 1 = 1
    left join clv_models_decision on 1 = 1

)

select * from described
