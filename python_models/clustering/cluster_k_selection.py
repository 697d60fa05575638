"""Per k of the sweep: inertia (elbow), silhouette, Calinski-Harabasz, Davies-Bouldin, and the pick."""
from segmentation.dbt_glue import registry_table


def model(dbt, session):
    return registry_table(dbt.ref("cluster_models").df(), "k_selection")
