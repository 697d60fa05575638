"""Customer lifetime value: BG/NBD or Pareto/NBD purchases and Gamma-Gamma spend (lifetimes).

``settings`` checks the clv_* vars, ``model`` fits, stores and scores, ``dbt`` is what the
dbt Python models in python_models/clv/ call.
"""
from segmentation.clv.model import (
    check_inputs,
    expected_repeat_purchases,
    fingerprint,
    fit_models,
    prediction_columns,
    probability_alive_matrix,
    registry_row,
    score_customers,
)
from segmentation.clv.settings import ClvSettings

__all__ = [
    "ClvSettings", "check_inputs", "expected_repeat_purchases", "fingerprint", "fit_models",
    "prediction_columns", "probability_alive_matrix", "registry_row", "score_customers",
]
