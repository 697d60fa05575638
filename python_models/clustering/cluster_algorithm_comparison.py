"""Every enabled clustering method on one sample, side by side, with the recommended one.

Never changes the production model (that is var cluster_algorithm); see docs: clustering.
On Spark only the comparison's bounded, hash-ordered sample is collected (dbt_glue).
"""
from segmentation.dbt_glue import algorithm_comparison, comparison_input, model_result, relation_frame


def model(dbt, session):
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    comparison_json = dbt.config.get("comparison_settings")
    frame = comparison_input(dbt.ref("int_customers_clustering_input"), registry, comparison_json)
    return model_result(algorithm_comparison(frame, registry, comparison_json), session, arrow=True)
