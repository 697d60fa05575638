"""Every customer of the clustering input with its cluster, scored by the latest stored model."""
from segmentation.dbt_glue import assign_customers


def model(dbt, session):
    frame = dbt.ref("int_customers_clustering_input").df()
    registry = dbt.ref("cluster_models").df()
    return assign_customers(frame, registry)
