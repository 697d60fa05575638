"""cluster_algorithm in dbt: the comparison table on the demo, switching methods by one var.

The first build is a full build (published: read from ``main``); the partial rebuilds of
``cluster_models+`` never publish, so what they wrote is read from the build schema.
"""
from __future__ import annotations

import pandas as pd

from dbt_harness import BUILD_SCHEMA

NUMERIC_METHODS = ["kmeans", "gmm", "agglomerative", "birch", "hdbscan", "meanshift"]
BUILD = ("build", "--exclude-resource-type", "unit_test")


def test_comparison_table_and_switching_methods_on_the_demo(project_copy):
    project_copy.dbt(*BUILD, vars={"cluster_comparison_enabled": True}, expect_success=True)
    first = project_copy.query("select * from customer_clusters order by customer_id")
    comparison = project_copy.query("select * from cluster_algorithm_comparison")
    # The demo's features are numeric: every method but k-prototypes applies.
    assert len(comparison) == 6 and comparison["algorithm"].tolist() == NUMERIC_METHODS
    classifiable = project_copy.scalar("select n_classified from cluster_models")
    # The comparison sample is 2,000 of the 2,002 demo customers; the classifiable among them.
    assert (comparison["n_sample"] <= classifiable).all() and comparison["n_sample"].nunique() == 1
    assert comparison["n_sample"].iloc[0] >= 0.99 * classifiable
    for column in ("k", "silhouette", "calinski_harabasz", "davies_bouldin", "tree_fidelity",
                   "stability_ari", "smallest_share", "noise_share", "train_seconds"):
        assert comparison[column].notna().all(), column
    by = comparison.set_index("algorithm")
    assert (by.loc[["kmeans", "gmm", "agglomerative", "birch"], "k"] == by.loc["kmeans", "k"]).all()
    assert by.loc["hdbscan", "noise_share"] > 0
    assert (by.drop(index="hdbscan")["noise_share"] == 0).all()
    assert comparison["is_recommended"].sum() == 1
    assert by["is_production"].tolist() == [True, False, False, False, False, False]
    assert comparison["recommendation_reason"].notna().all()

    # One var switches the production model: HDBSCAN, with noise accounted for.
    project_copy.dbt("build", "--select", "cluster_models+", "--exclude-resource-type", "unit_test",
                     vars={"cluster_algorithm": "hdbscan"}, expect_success=True)
    registry = project_copy.query("select * from cluster_models order by model_version", schema=BUILD_SCHEMA)
    assert registry["algorithm"].tolist() == ["kmeans", "hdbscan"]
    assert registry["is_centroid_scoring_faithful"].tolist() == [True, False]
    hdb = registry.iloc[1]
    assert hdb["n_noise"] > 0
    segments = project_copy.query("select * from customer_segments", schema=BUILD_SCHEMA)
    assert len(segments) == 2002
    noise = segments["cluster_unclassified_reason"] == "noise"
    assert noise.sum() == hdb["n_noise"]
    assert (segments.loc[noise, "cluster_status"] == "unclassified").all()
    assert (segments["cluster_status"] == "classified").sum() == hdb["n_classified"]
    both = project_copy.query("""
        select p.segment_status, p.tree_cluster_id, s.tree_cluster_id as sql_tree, s.nearest_cluster_id
        from customer_clusters p join cluster_assignments_sql s using (customer_id)""", schema=BUILD_SCHEMA)
    assert both["nearest_cluster_id"].isna().all()  # not offered: HDBSCAN is no nearest-centroid method
    classified = both[both["segment_status"] == "classified"]
    assert (classified["tree_cluster_id"] == classified["sql_tree"]).all()
    # The comparison stays empty when not enabled.
    assert project_copy.scalar("select count(*) from cluster_algorithm_comparison", schema=BUILD_SCHEMA) == 0

    # Back to k-means: matched against the previous k-means model, so the ids come back.
    project_copy.dbt("build", "--select", "cluster_models+", "--exclude-resource-type", "unit_test",
                     expect_success=True)
    registry = project_copy.query("select model_version, algorithm from cluster_models order by 1", schema=BUILD_SCHEMA)
    assert registry["algorithm"].tolist() == ["kmeans", "hdbscan", "kmeans"]
    lineage = project_copy.query("select * from cluster_lineage", schema=BUILD_SCHEMA)
    assert set(lineage["status"]) == {"matched"}
    assert (lineage["cluster_id"] == lineage["previous_cluster_id"]).all()
    again = project_copy.query("select * from customer_clusters order by customer_id", schema=BUILD_SCHEMA)
    assert (again["model_version"] == 3).all()
    pd.testing.assert_frame_equal(again.drop(columns="model_version"), first.drop(columns="model_version"))
