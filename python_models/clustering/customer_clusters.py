"""Every customer of the clustering input with its cluster, scored by the latest stored model.

DuckDB: scored in Python by the method's own rule. Spark: never collected into one process;
a nearest-centroid model (kmeans, agglomerative, meanshift) is scored in SQL
(cluster_assignments_sql, from the stored preprocessing, centroids and rules), the other
methods partition by partition in Python (dbt_glue.scores_in_sql, score_every_customer).
"""
from functools import partial

from segmentation.dbt_glue import (
    assign_customers,
    relation_frame,
    score_every_customer,
    scores_in_sql,
    sql_scored_assignments,
)


def model(dbt, session):
    registry = relation_frame(dbt.ref("cluster_models"), via_arrow=False)
    customers = dbt.ref("int_customers_clustering_input")
    if scores_in_sql(session, registry):
        return sql_scored_assignments(customers, dbt.ref("cluster_assignments_sql"), registry)
    return score_every_customer(customers, session, partial(assign_customers, registry=registry), arrow=True)
