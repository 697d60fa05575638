"""Per k of the sweep: inertia (elbow), silhouette, Calinski-Harabasz, Davies-Bouldin, and the pick."""
from segmentation.dbt_glue import model_result, registry_table, relation_frame


def model(dbt, session):
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    return model_result(registry_table(registry, "k_selection"), session)
