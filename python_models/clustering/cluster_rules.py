"""One row per decision-tree leaf: the cluster, the rule in words and as SQL, support, precision."""
from segmentation.dbt_glue import registry_table


def model(dbt, session):
    return registry_table(dbt.ref("cluster_models").df(), "rules")
