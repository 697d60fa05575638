"""Stable cluster ids across runs, and cluster names."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from segmentation.clustering import train_segmentation
from segmentation.clustering.matching import assign_cluster_ids
from segmentation.clustering.naming import Profile, name_clusters, profile_clusters

FEATURES = ["f1", "f2", "f3"]
SETTINGS = {"features": FEATURES, "optional_features": [], "log_features": [], "n_init": 3,
            "stability_bootstraps": 0, "k_max": 6}


def _blobs(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 8.0]])
    truth = rng.integers(0, 4, n)
    X = centres[truth] + rng.normal(size=(n, 3))
    frame = pd.DataFrame(X, columns=FEATURES)
    frame.insert(0, "customer_id", [f"id{i:05d}" for i in range(n)])
    return frame


def _as_read_back(row: dict) -> dict:
    """A registry row after a round trip through a table (numpy scalars, JSON strings)."""
    back = pd.DataFrame([row]).iloc[0].to_dict()
    return {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v)
            for k, v in back.items()}


@pytest.fixture(scope="module")
def first_run():
    frame = _blobs()
    return frame, train_segmentation(frame, SETTINGS, trained_at="t1")


def test_retrain_on_perturbed_shuffled_data_keeps_ids(first_run):
    frame, first = first_run
    rng = np.random.default_rng(1)
    perturbed = frame.copy()
    perturbed[FEATURES] = perturbed[FEATURES] * (1 + 0.02 * rng.standard_normal((len(frame), 3)))
    perturbed = perturbed.sample(frac=1.0, random_state=2).reset_index(drop=True)
    # a different random_state gives k-means another labelling of the same clusters
    second = train_segmentation(perturbed, {**SETTINGS, "random_state": 7},
                                previous=_as_read_back(first.registry_row), trained_at="t2")
    assert second.registry_row["model_version"] == 2
    assert second.registry_row["model_id"].startswith("seg-v2-")
    merged = first.assignments.merge(second.assignments, on="customer_id")
    assert (merged["cluster_id_x"] == merged["cluster_id_y"]).mean() >= 0.99
    assert second.lineage["status"].tolist() == ["matched"] * 4
    assert second.lineage["cluster_id"].tolist() == second.lineage["previous_cluster_id"].tolist()
    assert (second.lineage["centroid_distance"] < 0.2).all()


def test_retrain_with_one_more_cluster_gives_one_new_id(first_run):
    frame, first = first_run
    assert first.registry_row["k"] == 4
    second = train_segmentation(frame, {**SETTINGS, "n_clusters": 5},
                                previous=first.registry_row, trained_at="t2")
    lineage = second.lineage
    assert sorted(lineage["status"]) == ["matched"] * 4 + ["new"]
    new = lineage[lineage["status"] == "new"]
    assert new["cluster_id"].tolist() == [5] and new["previous_cluster_id"].isna().all()
    assert set(second.assignments["cluster_id"]) == {1, 2, 3, 4, 5}
    # down to 3 clusters: two blobs merge into a cluster far from both -> a new id (never a
    # reused one); the two untouched blobs keep theirs; the other three are retired
    third = train_segmentation(frame, {**SETTINGS, "n_clusters": 3},
                               previous=second.registry_row, trained_at="t3")
    assert third.registry_row["model_version"] == 3
    lin = third.lineage
    assert sorted(lin["status"]) == ["matched"] * 2 + ["new"] + ["retired"] * 3
    assert lin.loc[lin["status"] == "new", "cluster_id"].tolist() == [6]
    assert lin.loc[lin["status"] == "retired", "cluster_id"].isna().all()
    retired = set(lin.loc[lin["status"] == "retired", "previous_cluster_id"])
    matched = set(lin.loc[lin["status"] == "matched", "cluster_id"])
    assert retired | matched == {1, 2, 3, 4, 5} and not retired & matched


def test_previous_model_with_other_features_gets_fresh_ids(first_run):
    frame, first = first_run
    second = train_segmentation(frame, {**SETTINGS, "features": ["f1", "f2"]},
                                previous=first.registry_row, trained_at="t2")
    k = second.registry_row["k"]
    lin = second.lineage
    assert lin.loc[lin["status"] == "new", "cluster_id"].tolist() == list(range(5, 5 + k))
    assert lin.loc[lin["status"] == "retired", "previous_cluster_id"].tolist() == [1, 2, 3, 4]
    assert any("used other features" in n for n in json.loads(second.registry_row["notes_json"]))


def test_previous_row_is_validated(first_run):
    frame, first = first_run
    with pytest.raises(ValueError, match="previous lacks key"):
        train_segmentation(frame, SETTINGS, previous={"model_version": 1})
    with pytest.raises(ValueError, match="invalid model_version or params_json"):
        train_segmentation(frame, SETTINGS, previous={**first.registry_row, "params_json": "{not json"})


def test_assign_cluster_ids_exact():
    C = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    sizes = np.array([5, 50, 20])
    prev = np.array([[10.2, 0.0], [50.0, 50.0]])
    ids, lineage = assign_cluster_ids(C, sizes, [4, 9], prev, next_id=10, max_distance=1.0)
    assert ids.tolist() == [11, 4, 10]  # matched one keeps 4; new ones by size: 20 -> 10, 5 -> 11
    assert lineage["cluster_id"].tolist()[:3] == [4, 10, 11]
    assert lineage["cluster_id"].isna().tolist() == [False, False, False, True]
    assert lineage["previous_cluster_id"].tolist()[0] == 4 and lineage["previous_cluster_id"].tolist()[3] == 9
    assert lineage["status"].tolist() == ["matched", "new", "new", "retired"]
    np.testing.assert_allclose(lineage["centroid_distance"],
                               [0.2, math.hypot(10.2, 10.0), 10.2, math.hypot(40.0, 50.0)])
    # without a previous model: 1..k by size, ties by centroid coordinates
    ids, lineage = assign_cluster_ids(C, np.array([7, 7, 9]), None, None, 1, 1.0)
    assert ids.tolist() == [2, 3, 1] and (lineage["status"] == "new").all()
    assert lineage["centroid_distance"].isna().all()


def test_profile_clusters_exact():
    labels = np.array([0, 0, 1, 1, 1])
    X = np.array([[1.0], [3.0], [5.0], [7.0], [np.nan]])
    codes = [np.array([0, 0, 1, 3, 1])]
    prof = profile_clusters(labels, 2, X, ["m"], codes, [{"feature": "g", "levels": ["F", "M"]}])
    np.testing.assert_allclose(prof.cluster_mean[:, 0], [2.0, 6.0])
    assert prof.population_mean[0] == 4.0 and prof.population_std[0] == pytest.approx(math.sqrt(5))
    np.testing.assert_allclose(prof.z[:, 0], [-2 / math.sqrt(5), 2 / math.sqrt(5)])
    np.testing.assert_allclose(prof.categorical[0]["share"], [[1, 0, 0, 0], [0, 2 / 3, 0, 1 / 3]])
    np.testing.assert_allclose(prof.categorical[0]["population_share"], [0.4, 0.4, 0.0, 0.2])
    assert prof.sizes.tolist() == [2, 3]


def test_names_from_profiles():
    names = ["monetary", "frequency", "recency_days", "widgets"]
    z = np.array([
        [1.2, 0.8, -0.5, 0.1],    # three words by |z|
        [0.1, -0.2, 0.05, 0.0],   # nothing strong
        [0.0, 0.0, 0.0, -2.0],    # unknown feature
        [0.2, 0.0, 0.0, 0.0],     # "Average" again -> "(2)"
        [0.5, -0.5, 0.0, 0.0],    # |z| tie -> by feature name
        [0.0, 0.0, 0.0, 1.0],     # with a dominant categorical level
        [-0.3, 0.0, 2.0, 0.4],    # |z| = 0.3 qualifies; only three words
    ])
    k = len(z)
    share = np.tile([0.5, 0.5, 0.0, 0.0], (k, 1))
    share[5] = [0.9, 0.1, 0.0, 0.0]
    share[1] = [0.55, 0.45, 0.0, 0.0]  # dominant but < 0.6
    cat = [{"feature": "gender", "levels": ["F", "M", "__other__", "__missing__"], "share": share,
            "population_share": np.array([0.5, 0.5, 0.0, 0.0])}]
    profile = Profile(names, z, np.zeros(4), np.ones(4), z, cat, np.ones(k, dtype=np.int64))
    got = name_clusters([1, 2, 3, 4, 5, 6, 7], profile)
    assert got == [
        "High spend · frequent · recent",
        "Average",
        "Low widgets",
        "Average (2)",
        "Infrequent · high spend",
        "High widgets · gender=F",
        "Lapsed · high widgets · low spend",
    ]
    # duplicates are numbered in cluster_id order, not row order
    assert name_clusters([9, 2, 3, 1, 5, 6, 7], profile)[:4] == [
        "High spend · frequent · recent", "Average (2)", "Low widgets", "Average"]
