"""Every enabled clustering method on one sample, side by side, with the recommended one.

Never changes the production model (that is var cluster_algorithm); see docs: clustering.
"""
from segmentation.dbt_glue import algorithm_comparison, arrow_table, relation_frame


def model(dbt, session):
    frame = relation_frame(dbt.ref("int_customers_clustering_input"))
    registry = dbt.ref("cluster_models").df()
    return arrow_table(algorithm_comparison(frame, registry, dbt.config.get("comparison_settings")))
