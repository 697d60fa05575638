"""How each feature is clipped, log-transformed and scaled: what SQL scoring replays."""
from segmentation.dbt_glue import registry_table


def model(dbt, session):
    return registry_table(dbt.ref("cluster_models").df(), "preprocessing")
