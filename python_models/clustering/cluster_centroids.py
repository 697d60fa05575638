"""Each cluster's centre per feature, scaled and in original units, against the population."""
from segmentation.dbt_glue import registry_table


def model(dbt, session):
    return registry_table(dbt.ref("cluster_models").df(), "centroids")
