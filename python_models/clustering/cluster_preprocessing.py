"""How each feature is clipped, log-transformed and scaled: what SQL scoring replays."""
from segmentation.dbt_glue import model_result, registry_table, relation_frame


def model(dbt, session):
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    return model_result(registry_table(registry, "preprocessing"), session)
