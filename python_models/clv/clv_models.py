"""Registry of fitted CLV models: one row per fit (append-only).

BG/NBD (or Pareto/NBD) for purchases and Gamma-Gamma for spend, fitted with lifetimes on
int_customers_clv_inputs. A rebuild on unchanged inputs and fit settings adds no row;
clv_mode: score never fits; the retrain schedule (vars retrain_after_days,
retrain_max_customer_change; segmentation.retrain) lets a build with new data score with the
stored fit, and the decision is printed (a new row keeps its reason in retrain_reason).
On Spark above var clv_training_sample_size customers only the hash-ordered purchasers'
sample is collected; Spark counts the rest (segmentation.clv.dbt).
"""
from segmentation.clv.dbt import clv_models_result, clv_settings
from segmentation.dbt_glue import latest_registry_row, relation_frame
from segmentation.retrain import RetrainSchedule


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False, on_schema_change="append_new_columns")
    settings = clv_settings(dbt.config.get("clv_settings"))
    schedule = RetrainSchedule.from_json(dbt.config.get("retrain_schedule"))
    previous, empty_like = None, None
    if dbt.is_incremental:
        registry = relation_frame(session.sql(f"select * from {dbt.this}"), via_arrow=False)
        previous, empty_like = latest_registry_row(registry), registry.head(0)
    return clv_models_result(dbt.ref("int_customers_clv_inputs"), settings, previous, empty_like, session,
                             schedule)
