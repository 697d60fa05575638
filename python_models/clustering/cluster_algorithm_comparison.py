"""Every enabled clustering method on one sample, side by side, with the recommended one.

Never changes the production model (that is var cluster_algorithm); see docs: clustering.
"""
from segmentation.dbt_glue import algorithm_comparison, model_result, relation_frame


def model(dbt, session):
    frame = relation_frame(dbt.ref("int_customers_clustering_input"))
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    return model_result(algorithm_comparison(frame, registry, dbt.config.get("comparison_settings")),
                        session, arrow=True)
