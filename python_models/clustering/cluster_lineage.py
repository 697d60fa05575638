"""How the latest model's clusters relate to the previous model's: matched, new, retired."""
from segmentation.dbt_glue import model_result, registry_table, relation_frame


def model(dbt, session):
    return model_result(registry_table(relation_frame(dbt.ref("cluster_models"), via_arrow=False), "lineage"), session)
