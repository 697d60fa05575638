"""Every customer of the clustering input with its cluster, scored by the latest stored model.

On Spark the input is scored partition by partition where it lies (dbt_glue.score_every_customer),
never collected into one process.
"""
from functools import partial

from segmentation.dbt_glue import assign_customers, relation_frame, score_every_customer


def model(dbt, session):
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    return score_every_customer(dbt.ref("int_customers_clustering_input"), session,
                                partial(assign_customers, registry=registry), arrow=True)
