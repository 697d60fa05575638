"""How the latest model's clusters relate to the previous model's: matched, new, retired."""
from segmentation.dbt_glue import registry_table


def model(dbt, session):
    return registry_table(dbt.ref("cluster_models").df(), "lineage")
