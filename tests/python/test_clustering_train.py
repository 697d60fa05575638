"""train_segmentation / score_customers: planted clusters, determinism, edge cases, SQL parity."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering import (
    REGISTRY_KEYS,
    score_customers,
    tables_from_registry_row,
    train_segmentation,
)
from segmentation.clustering.kselection import SweepResult, choose_k, kneedle_elbow

FEATURES = ["f1", "f2", "f3", "f4"]
FAST = {"features": FEATURES, "optional_features": [], "log_features": [], "n_init": 3,
        "stability_bootstraps": 2, "silhouette_sample_size": 1000}


def blobs(n_blobs: int, n: int = 2000, seed: int = 0, spread: float = 1.0):
    """Gaussian blobs in 4 features with centres >= 6 standard deviations apart."""
    rng = np.random.default_rng(seed)
    centres = rng.permutation(np.vstack([8.0 * np.eye(4), -8.0 * np.eye(4)]))[:n_blobs]
    truth = rng.integers(0, n_blobs, n)
    X = centres[truth] + rng.normal(scale=spread, size=(n, 4))
    frame = pd.DataFrame(X, columns=FEATURES)
    frame.insert(0, "customer_id", [f"cust{i:05d}" for i in rng.permutation(n)])
    return frame, truth


@pytest.fixture(scope="module")
def four_blobs():
    frame, truth = blobs(4)
    return frame, truth, train_segmentation(frame, FAST, trained_at="2026-01-01T00:00:00+00:00")


def test_planted_clusters_are_recovered(four_blobs):
    frame, truth, result = four_blobs
    a = result.assignments
    assert result.registry_row["k"] == 4
    order = np.argsort(frame["customer_id"].to_numpy())
    assert adjusted_rand_score(truth[order], a["cluster_id"].to_numpy()) >= 0.9
    assert a["customer_id"].tolist() == sorted(frame["customer_id"])
    assert list(a.columns) == ["customer_id", "cluster_id", "cluster_name", "distance_to_centroid",
                               "margin_to_second_centroid", "tree_cluster_id", "segment_status",
                               "unclassified_reason", "cluster_probability"]
    assert a["cluster_probability"].isna().all()  # only gmm gives a probability
    assert str(a["cluster_id"].dtype) == "Int64" and str(a["tree_cluster_id"].dtype) == "Int64"
    # ids 1..k by size descending
    sizes = a["cluster_id"].value_counts()
    assert sorted(sizes.index) == [1, 2, 3, 4]
    assert list(sizes.sort_index()) == sorted(sizes, reverse=True)
    assert (a["margin_to_second_centroid"] > 0).all() and (a["distance_to_centroid"] >= 0).all()
    assert result.registry_row["tree_fidelity"] > 0.95
    assert result.registry_row["stability_ari"] > 0.95
    assert a.groupby("cluster_id")["cluster_name"].nunique().eq(1).all()
    assert a["cluster_name"].nunique() == 4


@pytest.mark.parametrize("n_blobs", [3, 5])
def test_automatic_k_finds_the_planted_k(n_blobs):
    frame, truth = blobs(n_blobs, n=1500, seed=n_blobs)
    result = train_segmentation(frame, {**FAST, "stability_bootstraps": 0}, trained_at="t")
    assert result.registry_row["k"] == n_blobs
    ks = result.k_selection
    assert ks["k"].tolist() == list(range(2, 11))
    assert ks.loc[ks["is_chosen"], "k"].tolist() == [n_blobs]
    assert abs(int(ks.loc[ks["is_elbow"], "k"].iloc[0]) - n_blobs) <= 1
    assert "elbow" in result.registry_row["k_selection_reason"]


def test_outputs_are_identical_on_rerun_and_under_row_shuffling(four_blobs):
    frame, _, first = four_blobs
    shuffled = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    for other in (train_segmentation(frame, FAST, trained_at="later"),
                  train_segmentation(shuffled, FAST, trained_at="later")):
        pd.testing.assert_frame_equal(other.assignments, first.assignments)
        for name in ("k_selection", "centroids", "rules", "lineage", "preprocessing"):
            pd.testing.assert_frame_equal(getattr(other, name), getattr(first, name))
        def strip(row):
            return {k: v for k, v in row.items() if k != "trained_at"}

        assert strip(other.registry_row) == strip(first.registry_row)


def test_identical_under_shuffling_with_sampling_categoricals_and_imputation():
    frame, _ = blobs(3, n=1500, seed=9)
    rng = np.random.default_rng(9)
    frame["gender"] = rng.choice(["F", "M", None], len(frame))
    frame.loc[rng.random(len(frame)) < 0.05, "f3"] = np.nan
    settings = {**FAST, "categorical_features": ["gender"], "null_strategy": "impute_median",
                "training_sample_size": 400, "k_max": 5}
    first = train_segmentation(frame, settings, trained_at="a")
    shuffled = frame.sample(frac=1.0, random_state=4).reset_index(drop=True)
    again = train_segmentation(shuffled, settings, trained_at="b")
    pd.testing.assert_frame_equal(again.assignments, first.assignments)
    assert {**again.registry_row, "trained_at": "a"} == first.registry_row
    assert first.registry_row["n_training_sample"] == 400


def test_registry_row_contents(four_blobs):
    _, _, result = four_blobs
    row = result.registry_row
    assert tuple(row) == REGISTRY_KEYS
    assert row["model_version"] == 1 and row["model_id"].startswith("seg-v1-")
    assert row["trained_at"] == "2026-01-01T00:00:00+00:00"
    for key in REGISTRY_KEYS:
        value = row[key]
        assert value is None or isinstance(value, (int, float, str)), key
        if key.endswith("_json"):
            json.loads(value)
    params = json.loads(row["params_json"])
    assert [c["cluster_id"] for c in params["clusters"]] == [1, 2, 3, 4]
    assert set(params["clusters"][0]["centroid_original"]["numeric"]) == set(FEATURES)
    assert set(json.loads(row["feature_importances_json"])) == set(FEATURES)
    assert (row["n_customers"], row["n_classified"], row["n_training_sample"]) == (2000, 2000, 2000)


def test_score_customers_equals_training_assignments(four_blobs):
    frame, _, result = four_blobs
    row = json.loads(json.dumps(result.registry_row))  # as read back from a table
    shuffled = frame.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(score_customers(shuffled, row), result.assignments)
    subset = frame.iloc[:10].assign(f1=lambda d: d["f1"].where(d.index != 0))
    scored = score_customers(subset, row).set_index("customer_id")
    assert scored.loc[frame.loc[0, "customer_id"], "unclassified_reason"] == "missing value in: f1"


def test_tables_from_registry_row_round_trip(four_blobs):
    _, _, result = four_blobs
    tables = tables_from_registry_row(result.registry_row)
    assert sorted(tables) == ["centroids", "k_selection", "lineage", "preprocessing", "rules"]
    for name, table in tables.items():
        assert table.columns[0] == "model_version" and (table["model_version"] == 1).all()
        pd.testing.assert_frame_equal(table.drop(columns="model_version"), getattr(result, name))
    assert list(tables["centroids"].columns) == [
        "model_version", "cluster_id", "cluster_name", "feature_name", "scaled_value",
        "original_value", "population_mean", "population_std", "z_score"]
    assert list(tables["k_selection"].columns) == [
        "model_version", "k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin",
        "is_elbow", "is_chosen", "selection_reason"]


def test_n_clusters_override(four_blobs):
    frame, _, _ = four_blobs
    result = train_segmentation(frame, {**FAST, "n_clusters": 3, "k_max": 5}, trained_at="t")
    assert result.registry_row["k"] == 3
    assert "set by var n_clusters" in result.registry_row["k_selection_reason"]
    ks = result.k_selection
    assert ks.loc[ks["is_chosen"], "k"].tolist() == [3]
    assert result.assignments["cluster_id"].nunique() == 3
    # an override outside k_min..k_max is added to the sweep
    result = train_segmentation(frame, {**FAST, "n_clusters": 6, "k_max": 4}, trained_at="t")
    assert result.k_selection["k"].tolist() == [2, 3, 4, 6] and result.registry_row["k"] == 6


def test_n_clusters_larger_than_distinct_points_raises():
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(12)],
                          "f1": [1.0, 2.0, 3.0] * 4, "f2": [0.0, 1.0, 5.0] * 4})
    with pytest.raises(ValueError, match=r"n_clusters=4 exceeds the number of distinct points \(3\)"):
        train_segmentation(frame, {**FAST, "features": ["f1", "f2"], "n_clusters": 4})


def test_fewer_customers_than_k_max_reduces_k_max():
    frame = pd.DataFrame({"customer_id": list("abcde"), "f1": [0.0, 0.1, 5.0, 5.2, 9.0],
                          "f2": [1.0, 1.1, 0.0, 0.3, 4.0]})
    result = train_segmentation(frame, {**FAST, "features": ["f1", "f2"]}, trained_at="t")
    assert result.k_selection["k"].tolist() == [2, 3, 4]
    assert 2 <= result.registry_row["k"] <= 4
    assert any(n.startswith("k_max reduced from 10 to 4") for n in json.loads(result.registry_row["notes_json"]))
    assert (result.assignments["segment_status"] == "classified").all()
    pd.testing.assert_frame_equal(score_customers(frame, result.registry_row), result.assignments)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_too_few_customers_gives_an_unclassified_model(n):
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                          "f1": np.arange(n, dtype=float), "f2": np.ones(n)})
    result = train_segmentation(frame, {**FAST, "features": ["f1", "f2"]}, trained_at="t")
    a = result.assignments
    assert len(a) == n and (a["segment_status"] == "unclassified").all()
    assert (a["unclassified_reason"] == f"too few customers to cluster (n={n}, need at least 3)").all()
    assert a["cluster_id"].isna().all()
    row = result.registry_row
    assert row["k"] is None and row["n_classified"] == 0 and row["n_unclassified"] == n
    assert len(result.centroids) == len(result.rules) == len(result.k_selection) == 0
    pd.testing.assert_frame_equal(score_customers(frame, row), a)
    assert all(len(t) == 0 for t in tables_from_registry_row(row).values())


def test_identical_customers_give_an_unclassified_model():
    frame = pd.DataFrame({"customer_id": list("abcd"), "f1": [1.0] * 4, "f2": [2.0] * 4})
    a = train_segmentation(frame, {**FAST, "features": ["f1", "f2"]}, trained_at="t").assignments
    assert (a["unclassified_reason"] ==
            "too few distinct customers to cluster (n=4, distinct points=1, need at least 2)").all()


def test_training_sample_limits_fitting_but_everyone_is_assigned(four_blobs):
    frame, truth, _ = four_blobs
    result = train_segmentation(frame, {**FAST, "training_sample_size": 300, "n_clusters": 4},
                                trained_at="t")
    row = result.registry_row
    assert row["n_training_sample"] == 300 and row["n_classified"] == 2000
    assert "training sample: 300 of 2000 classifiable customers" in json.loads(row["notes_json"])
    assert result.assignments["cluster_id"].notna().all()
    assert result.rules["n_customers"].sum() == 300
    order = np.argsort(frame["customer_id"].to_numpy())
    assert adjusted_rand_score(truth[order], result.assignments["cluster_id"].to_numpy()) >= 0.9


def test_kneedle_elbow_and_choice_rule():
    ks = np.arange(2, 8)
    assert kneedle_elbow(ks, np.array([100.0, 40.0, 10.0, 8.0, 6.0, 5.0])) == 4
    assert kneedle_elbow(ks, np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])) == 2  # straight line
    assert kneedle_elbow(np.array([3]), np.array([1.0])) == 3

    def res(k, inertia, sil):
        return SweepResult(k, None, inertia, sil, 0.0, 0.0)

    results = [res(2, 100.0, 0.5), res(3, 40.0, 0.6), res(4, 10.0, 0.6), res(5, 8.0, 0.7),
               res(6, 6.0, 0.9), res(7, 5.0, 0.1)]
    k, elbow, reason, rows = choose_k(results, [2, 3, 4, 5, 6, 7], None)
    assert (k, elbow) == (5, 4)  # candidates 3, 4, 5; 6 has the best silhouette but is no candidate
    assert "candidates within +-1 of the elbow: 3, 4, 5" in reason
    assert rows[6] == "not within +-1 of the elbow" and rows[5].startswith("chosen")
    results[3] = res(5, 8.0, 0.6)
    assert choose_k(results, [2, 3, 4, 5, 6, 7], None)[0] == 3  # tie -> smaller k
    k, _, reason, _ = choose_k(results, [2, 3, 4, 5, 6, 7], 6)
    assert k == 6 and "set by var n_clusters" in reason
    k, elbow, reason, _ = choose_k(results[2:3], [4], None)  # k_min == k_max
    assert (k, elbow) == (4, 4) and "only candidate" in reason


NEAREST_SQL = """
with num as (
    select customer_id, source_column, x
    from customers unpivot include nulls (x for source_column in ({num_cols}))
),
num_z as (
    select n.customer_id, p.feature_name,
           (case when p.log_transform then sign(v) * ln(1 + abs(v)) else v end - p.center) / p.scale as z
    from num n
    join preprocessing p on p.kind = 'numeric' and p.source_column = n.source_column,
    lateral (select coalesce(n.x, p.impute_value) as x0),
    -- greatest/least skip NULLs in DuckDB, so keep a missing value missing explicitly
    lateral (select case when x0 is not null then
                 least(greatest(x0, coalesce(p.clip_lower, '-infinity'::double)),
                       coalesce(p.clip_upper, 'infinity'::double)) end as v)
),
cat as (
    select customer_id, source_column, val
    from (select customer_id, {cat_cast} from customers)
    unpivot include nulls (val for source_column in ({cat_cols}))
),
kept as (
    select source_column, list(level) as levels from preprocessing
    where kind = 'categorical' and level not in ('__other__', '__missing__') group by 1
),
cat_z as (
    select c.customer_id, p.feature_name,
           case when (case when c.val is null then '__missing__'
                           when list_contains(k.levels, c.val) then c.val
                           else '__other__' end) = p.level
                then p.weight / sqrt(2) else 0 end as z
    from cat c join kept k using (source_column)
    join preprocessing p on p.kind = 'categorical' and p.source_column = c.source_column
),
z as (select * from num_z union all select * from cat_z),
classifiable as (
    select customer_id from z group by 1 having count(z) = count(*)
),
d as (
    select z.customer_id, c.cluster_id, sum((z.z - c.scaled_value) ^ 2) as d2
    from z join classifiable using (customer_id)
    join centroids c using (feature_name)
    group by 1, 2
)
select customer_id, cluster_id, d2,
       row_number() over (partition by customer_id order by d2, cluster_id) as rank
from d
"""


@pytest.mark.parametrize("null_strategy", ["unclassified", "impute_median"])
def test_nearest_centroid_in_sql_matches_assignments(null_strategy):
    rng = np.random.default_rng(11)
    n = 1200
    frame, _ = blobs(3, n=n, seed=2)
    frame["monetary"] = np.round(rng.lognormal(4, 1, n) - 20, 2)
    frame["gender"] = rng.choice(["F", "M", "X", "it's"], n, p=[0.45, 0.45, 0.05, 0.05])
    frame.loc[rng.random(n) < 0.05, "gender"] = None
    frame.loc[rng.random(n) < 0.03, "f2"] = np.nan
    settings = {**FAST, "features": [*FEATURES, "monetary"], "log_features": ["monetary"],
                "categorical_features": ["gender"], "categorical_max_levels": 2,
                "categorical_weight": 1.5, "null_strategy": null_strategy, "scaler": "robust"}
    result = train_segmentation(frame, settings, trained_at="t")
    con = duckdb.connect()
    con.register("customers", frame)
    con.register("preprocessing", result.preprocessing)
    con.register("centroids", result.centroids)
    num_cols = ", ".join(f'"{c}"' for c in settings["features"])
    sql = NEAREST_SQL.format(num_cols=num_cols, cat_cols='"gender"',
                             cat_cast='"gender"::varchar as "gender"')
    ranked = con.sql(sql).df()
    best = ranked[ranked["rank"] == 1].set_index("customer_id")
    second = ranked[ranked["rank"] == 2].set_index("customer_id")
    a = result.assignments.set_index("customer_id")
    classified = a[a["segment_status"] == "classified"]
    assert set(best.index) == set(classified.index)
    expected_unclassified = 0 if null_strategy == "impute_median" else frame["f2"].isna().sum()
    assert (a["segment_status"] == "unclassified").sum() == expected_unclassified
    best = best.loc[classified.index]
    gap = (second.loc[classified.index, "d2"] - best["d2"]).abs()
    agree = best["cluster_id"].to_numpy() == classified["cluster_id"].to_numpy()
    assert (agree | (gap.to_numpy() < 1e-9)).all()
    assert agree.mean() > 0.99
    np.testing.assert_allclose(np.sqrt(best["d2"].to_numpy()), classified["distance_to_centroid"],
                               rtol=1e-9, atol=1e-12)


def test_prepared_input_gives_the_same_model_as_preparing_again():
    """dbt_glue checks and hashes the frame once and hands it over: nothing may change."""
    from segmentation.clustering import train_segmentation, training_fingerprint, training_input

    frame = _frame_for_prepared_check()
    settings = {"features": ["recency_days", "frequency", "monetary"], "n_clusters": 3,
                "random_state": 7}
    prepared = training_input(frame, settings)
    assert prepared[1] == training_fingerprint(frame, settings)
    a = train_segmentation(frame, settings, trained_at="2026-01-01T00:00:00+00:00")
    b = train_segmentation(frame, settings, trained_at="2026-01-01T00:00:00+00:00", prepared=prepared)
    assert a.registry_row == b.registry_row
    assert a.registry_row["fingerprint"] == prepared[1]


def _frame_for_prepared_check():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    centers = np.array([[10, 8, 900], [200, 1, 40], [60, 3, 200]], dtype=float)
    rows = np.vstack([c + rng.normal(0, [5, 0.5, 30], size=(80, 3)) for c in centers])
    return pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(len(rows))],
                         "recency_days": rows[:, 0], "frequency": rows[:, 1].clip(1),
                         "monetary": rows[:, 2]})


@pytest.mark.parametrize("n, sample_size", [(3000, 1000), (800, 5000), (9000, 7000)])
def test_shared_silhouette_sample_equals_sklearn_silhouette_score(n, sample_size):
    """The sweep computes the sample's distances once (when small enough): same values."""
    import numpy as np
    from sklearn.metrics import silhouette_score

    from segmentation.clustering.kselection import (
        MAX_SHARED_SILHOUETTE_SAMPLE,
        _SilhouetteSample,
        fit_kmeans,
    )

    rng = np.random.default_rng(n)
    Z = np.vstack([rng.normal(c, 1.0, size=(n // 3, 3)) for c in ([0, 0, 0], [6, 6, 0], [0, 6, 4])])
    shared = _SilhouetteSample(Z, sample_size, random_state=11)
    assert (shared.distances is not None) == (min(sample_size, len(Z)) <= MAX_SHARED_SILHOUETTE_SAMPLE)
    for k in (2, 3, 5):
        labels = fit_kmeans(Z, k, 2, 100, 11).labels_
        expected = silhouette_score(Z, labels, sample_size=None if sample_size >= len(Z) else sample_size,
                                    random_state=11)
        assert shared.score(Z, labels) == pytest.approx(expected, rel=0, abs=1e-12)
    # A sample holding one label only has no silhouette.
    assert np.isnan(shared.score(Z, np.zeros(len(Z), dtype=int)))
