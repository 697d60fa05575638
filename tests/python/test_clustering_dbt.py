"""Clustering as dbt builds it: outputs, registry, reuse, retrain, score mode, other inputs."""
from __future__ import annotations

import pandas as pd
import pytest

from dbt_harness import BUILD_SCHEMA, PROJECT_DIR, PUBLISHED_SCHEMA


def test_demo_clusters_cover_every_customer(demo_build):
    segments = demo_build.query("select * from customer_segments")
    clusters = demo_build.query("select * from customer_clusters")
    model = demo_build.query("select * from cluster_models")
    assert len(model) == 1 and model.loc[0, "model_version"] == 1
    k = int(model.loc[0, "k"])
    assert 2 <= k <= 10
    classified = segments[segments["cluster_status"] == "classified"]
    assert classified["cluster_id"].nunique() == k
    assert classified["cluster_name"].nunique() == k
    assert classified["cluster_rule"].notna().all()
    unclassified = segments[segments["cluster_status"] == "unclassified"]
    assert unclassified["cluster_unclassified_reason"].notna().all()
    # Customers without purchases have no recency: unclassified, with that reason.
    no_purchases = segments["rfm_segment"] == "No Purchases"
    assert (segments.loc[no_purchases, "cluster_status"] == "unclassified").all()
    assert segments.loc[no_purchases, "cluster_unclassified_reason"].str.contains("recency_days").all()
    assert len(clusters) == len(segments)
    shares = classified["cluster_id"].value_counts(normalize=True)
    assert abs(shares.sum() - 1) < 1e-12 and shares.min() >= 0.02
    k_selection = demo_build.query("select * from cluster_k_selection")
    assert list(k_selection["k"]) == list(range(2, 11))
    assert int(k_selection.loc[k_selection["is_chosen"], "k"].iloc[0]) == k


def test_sql_scoring_agrees_with_python_on_every_customer(demo_build):
    both = demo_build.query("""
        select p.customer_id, p.segment_status, p.cluster_id, p.tree_cluster_id,
               p.margin_to_second_centroid, s.nearest_cluster_id, s.tree_cluster_id as sql_tree
        from customer_clusters p join cluster_assignments_sql s using (customer_id)""")
    classified = both[both["segment_status"] == "classified"]
    assert len(classified) > 1500
    assert (classified["cluster_id"] == classified["nearest_cluster_id"]).all()
    assert (classified["tree_cluster_id"] == classified["sql_tree"]).all()


def test_registry_reuse_retrain_and_score_mode(project_copy):
    project_copy.dbt("build", "--exclude-resource-type", "unit_test", expect_success=True)
    first = project_copy.query("select * from customer_clusters order by customer_id")

    # Partial builds write the build schema only (write-audit-publish): read it there.
    # Unchanged data and settings: no retrain, identical assignments.
    project_copy.dbt("build", "--select", "cluster_models+", "--exclude-resource-type", "unit_test",
                     expect_success=True)
    assert project_copy.scalar("select count(*) from cluster_models", schema=BUILD_SCHEMA) == 1
    pd.testing.assert_frame_equal(
        first, project_copy.query("select * from customer_clusters order by customer_id", schema=BUILD_SCHEMA))

    # A different k: a new model version, with its clusters matched to the previous ones.
    project_copy.dbt("build", "--select", "cluster_models+", "--exclude-resource-type", "unit_test",
                     vars={"n_clusters": 4}, expect_success=True)
    registry = project_copy.query("select model_version, k, k_selection_reason from cluster_models order by 1",
                                  schema=BUILD_SCHEMA)
    assert list(registry["model_version"]) == [1, 2] and registry.loc[1, "k"] == 4
    assert "n_clusters" in registry.loc[1, "k_selection_reason"]
    lineage = project_copy.query("select status, count(*) as n from cluster_lineage group by 1",
                                 schema=BUILD_SCHEMA).set_index("status")["n"]
    assert lineage.get("new", 0) >= 1 and lineage.get("matched", 0) >= 1

    # Score mode at an earlier as-of date: no retrain, every customer scored by version 2.
    project_copy.dbt("build", "--select", "+customer_segments", "--exclude-resource-type", "unit_test",
                     vars={"clustering_mode": "score", "n_clusters": 4, "as_of_date": "2026-06-30"},
                     expect_success=True)
    assert project_copy.scalar("select count(*) from cluster_models", schema=BUILD_SCHEMA) == 2
    versions = project_copy.query("select distinct model_version from customer_clusters", schema=BUILD_SCHEMA)
    assert list(versions["model_version"]) == [2]
    assert project_copy.scalar(
        "select count(*) from customer_segments where cluster_status = 'classified'", schema=BUILD_SCHEMA) > 1000
    # None of the partial builds was published: BI still reads the first build's registry.
    assert project_copy.scalar("select count(*) from cluster_models", schema=PUBLISHED_SCHEMA) == 1


def test_score_mode_without_a_model_fails_clearly(project_copy):
    result = project_copy.dbt("build", "--select", "+cluster_models", "--exclude-resource-type", "unit_test",
                              vars={"clustering_mode": "score"})
    assert not result.success
    assert "no model is stored yet" in project_copy.messages(result)


@pytest.mark.skipif(not (PROJECT_DIR.parent / "shared/data/Mall_Customers.csv").exists(),
                    reason="Mall_Customers.csv is only available beside the project (not redistributable)")
def test_mall_customers_segmented_by_configuration_alone(tmp_path):
    from dbt_harness import DbtProject

    project = DbtProject(PROJECT_DIR, database=tmp_path / "mall.duckdb", target_path=tmp_path / "target")
    project.dbt("build", "--exclude-resource-type", "unit_test",
                vars_file=PROJECT_DIR / "examples/mall_customers.yml", expect_success=True)
    model = project.query("select k, silhouette from cluster_models")
    assert int(model.loc[0, "k"]) == 5 and model.loc[0, "silhouette"] > 0.5
    segments = project.query("select * from customer_segments")
    assert len(segments) == 200 and (segments["cluster_status"] == "classified").all()
    assert (segments["rfm_segment"] == "No Purchases").all()
    rules = project.query("select rule_text from cluster_rules")
    assert rules["rule_text"].str.contains("Annual_Income(k$)", regex=False).any()


def test_categorical_features_score_identically_in_sql(project_copy):
    """Weighted one-hot gender and country: the build's agreement tests cover them too."""
    project_copy.dbt("build", "--exclude-resource-type", "unit_test", vars={
        "cluster_categorical_features": ["gender", "country"], "cluster_categorical_max_levels": 3,
        "cluster_null_strategy": "impute_median"}, expect_success=True)
    preprocessing = project_copy.query("select * from cluster_preprocessing where kind = 'categorical'")
    assert set(preprocessing["source_column"]) == {"gender", "country"}
    assert "__other__" in set(preprocessing["level"]) and "__missing__" in set(preprocessing["level"])
    both = project_copy.query("""
        select p.cluster_id, p.segment_status, s.nearest_cluster_id, p.tree_cluster_id, s.tree_cluster_id as sql_tree
        from customer_clusters p join cluster_assignments_sql s using (customer_id)""")
    classified = both[both["segment_status"] == "classified"]
    # impute_median fills every missing value - even the recency of customers who never
    # bought - with the training median, so nobody is left unclassified.
    assert len(classified) == len(both) == 2002
    assert (classified["cluster_id"] == classified["nearest_cluster_id"]).all()
    assert (classified["tree_cluster_id"] == classified["sql_tree"]).all()
