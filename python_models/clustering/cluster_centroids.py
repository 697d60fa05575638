"""Each cluster's centre per feature, scaled and in original units, against the population."""
from segmentation.dbt_glue import model_result, registry_table, relation_frame


def model(dbt, session):
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    return model_result(registry_table(registry, "centroids"), session)
