"""Every customer of the clustering input with its cluster, scored by the latest stored model."""
from segmentation.dbt_glue import arrow_table, assign_customers, relation_frame


def model(dbt, session):
    frame = relation_frame(dbt.ref("int_customers_clustering_input"))
    registry = dbt.ref("cluster_models").df()
    return arrow_table(assign_customers(frame, registry))
