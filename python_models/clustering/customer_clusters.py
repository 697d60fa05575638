"""Every customer of the clustering input with its cluster, scored by the latest stored model."""
from segmentation.dbt_glue import assign_customers, model_result, relation_frame


def model(dbt, session):
    frame = relation_frame(dbt.ref("int_customers_clustering_input"))
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    return model_result(assign_customers(frame, registry), session, arrow=True)
