"""Predicted value per customer: probability alive, expected purchases, order value, CLV.

Every customer of int_customers_clv_inputs, scored with the latest clv_models fit (the one
the retrain schedule kept or the one fitted this build); those
the model cannot score have null predictions and a reason. On Spark above var
clv_training_sample_size customers each partition is scored where it lies (segmentation.clv.dbt).
"""
from segmentation.clv.dbt import clv_predictions_result, clv_settings
from segmentation.dbt_glue import relation_frame
from segmentation.retrain import RetrainSchedule


def model(dbt, session):
    settings = clv_settings(dbt.config.get("clv_settings"))
    schedule = RetrainSchedule.from_json(dbt.config.get("retrain_schedule"))
    registry = relation_frame(dbt.ref("clv_models"))
    return clv_predictions_result(dbt.ref("int_customers_clv_inputs"), registry, settings, session, schedule)
