"""Predicted value per customer: probability alive, expected purchases, order value, CLV.

Every customer of int_customers_clv_inputs, scored with the latest clv_models fit; those
the model cannot score have null predictions and a reason.
"""
from segmentation.clv.dbt import clv_predictions, clv_settings
from segmentation.dbt_glue import arrow_table, relation_frame


def model(dbt, session):
    settings = clv_settings(dbt.config.get("clv_settings"))
    frame = relation_frame(dbt.ref("int_customers_clv_inputs"))
    registry = relation_frame(dbt.ref("clv_models"))
    return arrow_table(clv_predictions(frame, registry, settings))
