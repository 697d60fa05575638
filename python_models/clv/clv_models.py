"""Registry of fitted CLV models: one row per fit (append-only).

BG/NBD (or Pareto/NBD) for purchases and Gamma-Gamma for spend, fitted with lifetimes on
int_customers_clv_inputs. A rebuild on unchanged inputs and fit settings adds no row;
clv_mode: score never fits.
"""
from segmentation.clv.dbt import clv_registry_rows, clv_settings
from segmentation.dbt_glue import latest_registry_row, relation_frame


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False)
    settings = clv_settings(dbt.config.get("clv_settings"))
    frame = relation_frame(dbt.ref("int_customers_clv_inputs"))
    previous, empty_like = None, None
    if dbt.is_incremental:
        registry = session.sql(f"select * from {dbt.this}").df()
        previous, empty_like = latest_registry_row(registry), registry.head(0)
    return clv_registry_rows(frame, settings, previous, empty_like)
