"""One row per decision-tree leaf: the cluster, the rule in words and as SQL, support, precision."""
from segmentation.dbt_glue import model_result, registry_table, relation_frame


def model(dbt, session):
    return model_result(registry_table(relation_frame(dbt.ref("cluster_models"), via_arrow=False), "rules"), session)
