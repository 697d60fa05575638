"""Every clustering method (var cluster_algorithm) on planted data, and the comparison table."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_moons
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering import score_customers, train_segmentation
from segmentation.clustering.algorithms import ALGORITHMS
from segmentation.clustering.comparison import COMPARISON_COLUMNS, compare_algorithms
from segmentation.clustering.settings import ClusteringSettings, ComparisonSettings

FEATURES = ["f1", "f2", "f3"]
FAST = {"features": FEATURES, "optional_features": [], "log_features": [], "n_init": 3,
        "stability_bootstraps": 2, "silhouette_sample_size": 1000, "tree_min_samples_leaf": 5}
NUMERIC = [a for a in ALGORITHMS if a != "kprototypes"]


def spheres(n: int = 900, seed: int = 0, spread: float = 0.6):
    """Three well separated spheres in 3 features (centres 11 apart), plus a 3-level category
    that is independent of the groups (k-prototypes needs one)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 8.0], [8.0, 0.0, 0.0], [0.0, 8.0, 0.0]])
    truth = rng.integers(0, 3, n)
    X = centres[truth] + rng.normal(scale=spread, size=(n, 3))
    frame = pd.DataFrame(X, columns=FEATURES)
    frame["channel"] = rng.choice(["web", "shop", "phone"], n)
    frame.insert(0, "customer_id", [f"c{i:05d}" for i in range(n)])
    return frame, truth


def settings_for(algorithm: str, **extra) -> dict:
    s = {**FAST, "algorithm": algorithm, **extra}
    if algorithm == "kprototypes":
        s["categorical_features"] = ["channel"]
    return s


def ari(frame: pd.DataFrame, truth: np.ndarray, assignments: pd.DataFrame) -> float:
    """ARI of the planted groups against the cluster ids (noise = its own label -1)."""
    got = assignments.set_index("customer_id").loc[frame["customer_id"], "cluster_id"]
    return adjusted_rand_score(truth, got.fillna(-1).astype(int).to_numpy())


@pytest.fixture(scope="module")
def sphere_runs():
    frame, truth = spheres()
    return frame, truth, {a: train_segmentation(frame, settings_for(a), trained_at="t") for a in ALGORITHMS}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_method_recovers_well_separated_spheres(sphere_runs, algorithm):
    frame, truth, runs = sphere_runs
    result = runs[algorithm]
    row = result.registry_row
    assert row["algorithm"] == algorithm
    assert row["k"] == 3
    assert ari(frame, truth, result.assignments) >= 0.9
    assert row["tree_fidelity"] >= 0.95 and row["stability_ari"] >= 0.9
    assert row["silhouette"] > 0.6 and row["calinski_harabasz"] > 0 and row["davies_bouldin"] > 0
    assert row["n_classified"] + row["n_unclassified"] == len(frame)
    prob = result.assignments["cluster_probability"]
    if algorithm == "gmm":
        assert prob.between(1 / 3, 1).all() and prob.median() > 0.99
    else:
        assert prob.isna().all()
    assert row["is_centroid_scoring_faithful"] == (algorithm in ("kmeans", "agglomerative", "meanshift"))


def test_half_moons_density_method_recovers_and_kmeans_does_not():
    X, truth = make_moons(n_samples=800, noise=0.05, random_state=0)
    frame = pd.DataFrame({"customer_id": [f"m{i:04d}" for i in range(len(X))], "f1": X[:, 0], "f2": X[:, 1]})
    base = {**FAST, "features": ["f1", "f2"], "clip_quantiles": None, "stability_bootstraps": 0}
    hdb = train_segmentation(frame, {**base, "algorithm": "hdbscan"}, trained_at="t")
    km = train_segmentation(frame, {**base, "algorithm": "kmeans", "n_clusters": 2}, trained_at="t")
    assert hdb.registry_row["k"] == 2
    assert ari(frame, truth, hdb.assignments) >= 0.9
    assert ari(frame, truth, km.assignments) < 0.5


def test_kprototypes_recovers_groups_that_differ_only_in_a_category():
    rng = np.random.default_rng(3)
    n = 600
    truth = rng.integers(0, 2, n)
    # Numeric features drawn from one distribution for both groups; the groups differ only in
    # the category: group 0 buys through "shop", group 1 through "web".
    frame = pd.DataFrame(rng.normal(size=(n, 2)), columns=["f1", "f2"])
    frame["channel"] = np.where(truth == 0, "shop", "web")
    frame.insert(0, "customer_id", [f"p{i:04d}" for i in range(n)])
    settings = {**FAST, "features": ["f1", "f2"], "categorical_features": ["channel"],
                "algorithm": "kprototypes", "n_clusters": 2, "kprototypes_gamma": 4.0}
    result = train_segmentation(frame, settings, trained_at="t")
    assert result.registry_row["k"] == 2
    assert ari(frame, truth, result.assignments) >= 0.9
    assert result.rules["rule_text"].str.contains("channel").all()  # the tree splits on it
    pd.testing.assert_frame_equal(score_customers(frame, result.registry_row), result.assignments)


def test_hdbscan_noise_points_are_unclassified_with_reason_noise():
    frame, truth = spheres(n=600, seed=5)
    rng = np.random.default_rng(9)
    noise = pd.DataFrame(rng.uniform(-30, 30, size=(40, 3)), columns=FEATURES)
    noise["channel"] = "web"
    noise.insert(0, "customer_id", [f"z{i:03d}" for i in range(40)])
    both = pd.concat([frame, noise], ignore_index=True)
    result = train_segmentation(both, settings_for("hdbscan", clip_quantiles=None), trained_at="t")
    a = result.assignments.set_index("customer_id")
    row = result.registry_row
    assert len(a) == len(both) and row["n_classified"] + row["n_unclassified"] == len(both)
    is_noise = a["unclassified_reason"] == "noise"
    assert row["n_noise"] == int(is_noise.sum()) == row["n_unclassified"]
    assert (a.loc[is_noise, "segment_status"] == "unclassified").all()
    assert a.loc[is_noise, "cluster_id"].isna().all()
    assert is_noise.loc[noise["customer_id"]].mean() >= 0.9   # planted noise found
    assert is_noise.loc[frame["customer_id"]].mean() <= 0.05  # the spheres are not noise
    assert ari(frame, truth, result.assignments) >= 0.9
    # Score mode gives the same answer, noise included.
    pd.testing.assert_frame_equal(score_customers(both, row), result.assignments)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_reproducible_under_reruns_and_row_shuffles(sphere_runs, algorithm):
    frame, _, runs = sphere_runs
    again = train_segmentation(frame.sample(frac=1.0, random_state=7), settings_for(algorithm), trained_at="t")
    first = runs[algorithm]
    pd.testing.assert_frame_equal(again.assignments, first.assignments)
    assert again.registry_row == first.registry_row
    pd.testing.assert_frame_equal(score_customers(frame, first.registry_row), first.assignments)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tree_rules_in_sql_agree_with_the_python_tree(sphere_runs, algorithm):
    frame, _, runs = sphere_runs
    result = runs[algorithm]
    cases = " ".join(f"when {sql} then {cid}" for sql, cid in zip(result.rules["rule_sql"],
                                                                  result.rules["cluster_id"]))
    con = duckdb.connect()
    con.register("customers", frame)
    sql_tree = con.sql(f"select customer_id, case {cases} end as sql_tree from customers").df()
    both = result.assignments.merge(sql_tree, on="customer_id")
    classified = both[both["segment_status"] == "classified"]
    assert len(classified) >= 0.9 * len(frame)
    assert (classified["tree_cluster_id"].astype(int) == classified["sql_tree"].astype(int)).all()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cluster_ids_stay_stable_across_a_perturbed_retrain(sphere_runs, algorithm):
    frame, _, runs = sphere_runs
    first = runs[algorithm]
    rng = np.random.default_rng(21)
    perturbed = frame.drop(index=rng.choice(len(frame), 45, replace=False)).copy()
    perturbed[FEATURES] += rng.normal(scale=0.05, size=(len(perturbed), 3))
    second = train_segmentation(perturbed, settings_for(algorithm), previous=first.registry_row,
                                trained_at="t2")
    assert second.registry_row["model_version"] == 2
    assert set(second.lineage["status"].dropna()) == {"matched"}
    merged = first.assignments.merge(second.assignments, on="customer_id", suffixes=("_1", "_2"))
    assert (merged["cluster_id_1"] == merged["cluster_id_2"]).mean() >= 0.98


def test_latest_row_of_another_method_sets_version_and_fresh_ids(sphere_runs):
    frame, _, runs = sphere_runs
    km, gmm = runs["kmeans"], runs["gmm"]
    newest = {**gmm.registry_row, "model_version": 5}
    again = train_segmentation(frame, settings_for("kmeans", random_state=1), previous=km.registry_row,
                               latest=newest, trained_at="t3")
    assert again.registry_row["model_version"] == 6
    assert set(again.lineage["status"].dropna()) == {"matched"}  # matched to the kmeans model
    assert sorted(again.assignments["cluster_id"].dropna().unique()) == [1, 2, 3]


@pytest.mark.parametrize("mapping, var", [
    ({"algorithm": "hdbscan", "n_clusters": 3}, "n_clusters"),
    ({"algorithm": "meanshift", "n_clusters": 3}, "n_clusters"),
    ({"algorithm": "birch", "categorical_features": ["channel"]}, "cluster_categorical_features"),
    ({"algorithm": "gmm", "categorical_features": ["channel"]}, "cluster_categorical_features"),
    ({"algorithm": "kprototypes"}, "cluster_categorical_features"),
    ({"algorithm": "dbscan"}, "cluster_algorithm"),
    ({"gmm_covariance_type": "round"}, "cluster_gmm_covariance_type"),
    ({"birch_threshold": 0}, "cluster_birch_threshold"),
    ({"hdbscan_min_cluster_size": 1}, "cluster_hdbscan_min_cluster_size"),
    ({"meanshift_quantile": 1.5}, "cluster_meanshift_quantile"),
    ({"slow_method_sample_size": 2}, "cluster_slow_method_sample_size"),
])
def test_invalid_method_settings_name_the_var(mapping, var):
    with pytest.raises(ValueError, match=var):
        ClusteringSettings.from_mapping({"features": FEATURES, **mapping})


def test_comparison_settings_name_the_var():
    with pytest.raises(ValueError, match="cluster_comparison_algorithms"):
        ComparisonSettings(enabled=True, algorithms=("kmeans", "kmedoids"))
    with pytest.raises(ValueError, match="cluster_comparison_algorithms"):
        ComparisonSettings(enabled=True, algorithms=("birch",)).resolve(
            ClusteringSettings(features=tuple(FEATURES), categorical_features=("channel",)))
    with pytest.raises(ValueError, match="cluster_comparison_sample_size"):
        ComparisonSettings(sample_size=1)
    with pytest.raises(ValueError, match="cluster_comparison_enabled"):
        ComparisonSettings(enabled="yes")
    assert ComparisonSettings().resolve(ClusteringSettings(features=tuple(FEATURES))) == ()  # off by default
    assert ComparisonSettings(enabled=True).resolve(ClusteringSettings(features=tuple(FEATURES))) == tuple(NUMERIC)
    assert ComparisonSettings(enabled=True).resolve(ClusteringSettings(
        features=tuple(FEATURES), categorical_features=("channel",))) == ("kmeans", "kprototypes")


def test_comparison_on_spheres_and_moons():
    frame, _ = spheres(n=600, seed=2)
    table = compare_algorithms(frame, ClusteringSettings.from_mapping(FAST),
                               ComparisonSettings(enabled=True, sample_size=500, bootstraps=2))
    assert list(table.columns) == list(COMPARISON_COLUMNS)
    assert table["algorithm"].tolist() == NUMERIC
    assert (table["k"] == 3).all() and (table["n_sample"] == 500).all()
    for col in ("silhouette", "calinski_harabasz", "davies_bouldin", "tree_fidelity", "stability_ari",
                "smallest_share", "noise_share", "train_seconds"):
        assert table[col].notna().all(), col
    assert table["is_recommended"].sum() == 1
    assert table.loc[table["is_recommended"], "algorithm"].item() == "kmeans"  # ties go to the simplest
    assert table.loc[table["algorithm"] == "kmeans", "is_production"].item()
    assert table["is_production"].sum() == 1

    X, _ = make_moons(n_samples=600, noise=0.05, random_state=1)
    moons = pd.DataFrame({"customer_id": [f"m{i}" for i in range(600)], "f1": X[:, 0], "f2": X[:, 1]})
    settings = ClusteringSettings.from_mapping({**FAST, "features": ["f1", "f2"], "clip_quantiles": None})
    table = compare_algorithms(moons, settings,
                               ComparisonSettings(enabled=True, algorithms=("kmeans", "hdbscan"), bootstraps=0))
    assert table["algorithm"].tolist() == ["kmeans", "hdbscan"]
    assert table["stability_ari"].isna().all() and table["notes"].str.contains("bootstraps").all()


def test_comparison_metric_that_cannot_be_computed_is_null_with_a_note():
    frame, _ = spheres(n=300, seed=4)
    # Mean-shift with a bandwidth wider than the data makes one cluster: the silhouette,
    # Calinski-Harabasz and Davies-Bouldin need two, so they are null with a note.
    # HDBSCAN on uniform scatter finds no dense cluster: everyone is noise.
    frame.loc[frame.index[:150], FEATURES] = np.random.default_rng(4).uniform(-50, 50, size=(150, 3))
    settings = ClusteringSettings.from_mapping({**FAST, "clip_quantiles": None, "meanshift_bandwidth": 500.0,
                                                "hdbscan_min_cluster_size": 200})
    table = compare_algorithms(frame, settings, ComparisonSettings(enabled=True, algorithms=("meanshift", "hdbscan"),
                                                                   bootstraps=1))
    assert table["algorithm"].tolist() == ["hdbscan", "meanshift"]  # always in ALGORITHMS order
    hdbscan, meanshift = table.iloc[0], table.iloc[1]
    assert meanshift["k"] == 1 and meanshift["smallest_share"] == 1.0 and meanshift["noise_share"] == 0
    assert pd.isna(meanshift["silhouette"]) and pd.isna(meanshift["davies_bouldin"])
    assert "silhouette, Calinski-Harabasz and Davies-Bouldin are undefined" in meanshift["notes"]
    assert pd.isna(hdbscan["k"]) and hdbscan["noise_share"] == 1.0
    assert "found no cluster" in hdbscan["notes"]
    assert not table["is_recommended"].any()
    assert table["recommendation_reason"].str.startswith("not eligible").all()


def test_comparison_chart_draws_every_method_and_marks_the_recommended():
    from segmentation.charts import algorithm_comparison_figure

    frame, _ = spheres(n=300, seed=6)
    table = compare_algorithms(frame, ClusteringSettings.from_mapping(FAST),
                               ComparisonSettings(enabled=True, algorithms=("kmeans", "hdbscan"), bootstraps=0))
    figure = algorithm_comparison_figure(table)
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].startswith("kmeans\nk=3\n(recommended, production)") and labels[1].startswith("hdbscan")
    assert [t.get_fontweight() for t in ax.get_xticklabels()] == ["bold", "normal"]
    assert len(ax.patches) == 2 * 5  # one bar per method and metric
    with pytest.raises(ValueError, match="no rows"):
        algorithm_comparison_figure(table.head(0))


def test_slow_methods_train_on_the_capped_sample_that_screening_also_reads():
    """agglomerative, hdbscan and meanshift draw at most slow_method_sample_size customers;
    k-means keeps training_sample_size. Feature screening reads the same positions."""
    from segmentation.clustering.preprocessing import training_sample_positions

    frame, _ = spheres(n=600)
    extra = {"training_sample_size": 500, "slow_method_sample_size": 200, "stability_bootstraps": 0}
    for algorithm, expected in (("kmeans", 500), ("agglomerative", 200), ("hdbscan", 200)):
        settings = ClusteringSettings.from_mapping(settings_for(algorithm, **extra))
        assert settings.effective_training_sample_size == expected
        assert len(training_sample_positions(600, settings)) == expected
        row = train_segmentation(frame, settings, trained_at="t").registry_row
        assert row["n_training_sample"] == expected, algorithm
        assert f"training sample: {expected} of 600 classifiable customers" in row["notes_json"]
        assert row["n_classified"] + row["n_unclassified"] == 600
