"""Stable cluster ids across runs, and cluster names."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from segmentation.clustering import train_segmentation
from segmentation.clustering.matching import assign_cluster_ids, match_by_centroids, match_by_members
from segmentation.clustering.naming import Profile, TimeThresholds, name_clusters, profile_clusters

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
    assert (second.lineage["match_method"] == "members").all()
    assert (second.lineage["member_overlap"] >= 0.98).all()


def test_split_and_merge_give_new_ids_and_retire_the_old(first_run):
    """A cluster keeps its id only when most of its members stay: a blob split in two halves
    (each half shares ~50% < 60%) retires its id and gives two new ones; a merge of two blobs
    into one cluster is new and retires both."""
    frame, first = first_run
    assert first.registry_row["k"] == 4
    second = train_segmentation(frame, {**SETTINGS, "n_clusters": 5},
                                previous=first.registry_row, trained_at="t2")
    lin = second.lineage
    assert lin["status"].tolist() == ["matched"] * 3 + ["new"] * 2 + ["retired"]
    assert lin["cluster_id"].tolist()[:5] == [1, 2, 4, 5, 6]
    assert lin["previous_cluster_id"].tolist()[:3] == [1, 2, 4]
    assert lin["previous_cluster_id"].tolist()[5] == 3 and pd.isna(lin["cluster_id"].iloc[5])
    # the two new clusters are the halves of old cluster 3
    merged = first.assignments.merge(second.assignments, on="customer_id")
    halves = merged[merged["cluster_id_x"] == 3]["cluster_id_y"].value_counts()
    assert set(halves.index) == {5, 6} and halves.min() >= 0.3 * halves.sum()
    # down to 3 clusters: the two halves reunite and two blobs merge -> two new ids (never a
    # reused one), the untouched blob keeps its id, four are retired
    third = train_segmentation(frame, {**SETTINGS, "n_clusters": 3},
                               previous=second.registry_row, trained_at="t3")
    assert third.registry_row["model_version"] == 3
    lin = third.lineage
    assert lin["status"].tolist() == ["matched", "new", "new"] + ["retired"] * 4
    assert lin["cluster_id"].tolist()[:3] == [1, 7, 8]
    assert lin["previous_cluster_id"].tolist()[3:] == [2, 4, 5, 6]


def test_previous_model_with_other_features_is_matched_by_members(first_run):
    """Dropping f3 merges the f3 blob into the origin blob: the two blobs untouched by the
    change keep their ids, the merged cluster is new, the two merged ones are retired."""
    frame, first = first_run
    second = train_segmentation(frame, {**SETTINGS, "features": ["f1", "f2"]},
                                previous=first.registry_row, trained_at="t2")
    lin = second.lineage
    assert lin["status"].tolist() == ["matched", "matched", "new", "retired", "retired"]
    assert lin["cluster_id"].tolist()[:3] == [1, 3, 5]
    assert lin["previous_cluster_id"].tolist()[3:] == [2, 4]


def test_previous_model_that_cannot_score_falls_back_to_centroids(first_run):
    frame, first = first_run
    # f3 is gone from the input: the previous model cannot score, centroids on f1, f2 decide
    second = train_segmentation(frame.drop(columns="f3"), {**SETTINGS, "features": ["f1", "f2"]},
                                previous=first.registry_row, trained_at="t2")
    lin = second.lineage
    notes = json.loads(second.registry_row["notes_json"])
    assert any("cannot score these customers" in n and "matched by centroids on f1, f2" in n
               for n in notes)
    matched = lin[lin["status"] == "matched"]
    assert (matched["match_method"] == "centroids").all()
    # blobs (8,0) and (0,8) are unchanged on f1, f2: ids 3 and 1 kept, within 0.1 std; the
    # merged cluster sits at (0, 0) like both old 2 and 4 (they differ only on the lost f3),
    # so it takes one of their ids and the other is retired
    assert lin["status"].tolist() == ["matched"] * 3 + ["retired"]
    assert {1, 3} < set(matched["cluster_id"]) and set(lin["previous_cluster_id"].iloc[3:]) < {2, 4}
    assert (matched["centroid_distance"] < 0.1).all()
    # without any shared numeric feature nothing is comparable: all ids fresh
    other = frame.rename(columns={"f1": "g1", "f2": "g2"}).drop(columns="f3")
    third = train_segmentation(other, {**SETTINGS, "features": ["g1", "g2"]},
                               previous=first.registry_row, trained_at="t3")
    assert (third.lineage["status"] != "matched").all()
    assert third.lineage.loc[third.lineage["status"] == "retired", "previous_cluster_id"].tolist() == [1, 2, 3, 4]


def test_previous_row_is_validated(first_run):
    frame, first = first_run
    with pytest.raises(ValueError, match="previous lacks key"):
        train_segmentation(frame, SETTINGS, previous={"model_version": 1})
    with pytest.raises(ValueError, match="invalid model_version or params_json"):
        train_segmentation(frame, SETTINGS, previous={**first.registry_row, "params_json": "{not json"})


def test_match_by_members_exact():
    # 10 customers; previous ids 7, 8, 9; -1 = the previous model leaves them unclassified
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    prev = np.array([7, 7, 7, 8, 8, 8, 8, 9, 7, -1])
    got = match_by_members(labels, prev, 3, [7, 8, 9], min_overlap=0.6)
    # new 0 vs old 7: 3 shared, sizes 4 and 4 -> 0.75; new 1 vs old 8: 3 of (3, 4) -> 0.75;
    # new 2 vs old 9: 1 shared of (2 scored by both, 1) -> 0.5 < 0.6 -> not kept
    assert got == {0: {"previous_cluster_id": 7, "shared_customers": 3, "member_overlap": 0.75},
                   1: {"previous_cluster_id": 8, "shared_customers": 3, "member_overlap": 0.75}}
    assert set(match_by_members(labels, prev, 3, [7, 8, 9], min_overlap=0.5)) == {0, 1, 2}
    C = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    ids, lineage = assign_cluster_ids(C, np.array([4, 3, 3]), [7, 8, 9], got, 10, "members")
    assert ids.tolist() == [7, 8, 10]
    assert lineage["cluster_id"].tolist()[:3] == [7, 8, 10]
    assert lineage["status"].tolist() == ["matched", "matched", "new", "retired"]
    assert lineage["previous_cluster_id"].tolist()[3] == 9
    assert lineage["shared_customers"].tolist()[:2] == [3, 3]
    assert lineage["match_method"].tolist()[:2] == ["members", "members"]
    assert lineage["match_method"].isna().tolist() == [False, False, True, True]
    # without a previous model: 1..k by size, ties by centroid coordinates
    ids, lineage = assign_cluster_ids(C, np.array([7, 7, 9]), None, {}, 1, None)
    assert ids.tolist() == [2, 3, 1] and (lineage["status"] == "new").all()


def test_match_by_centroids_exact():
    new = np.array([[0.0, 0.0], [10.0, 0.0]])
    prev = np.array([[10.0, 1.0], [50.0, 50.0]])
    got = match_by_centroids(new, prev, np.array([1.0, 2.0]), [4, 9], max_distance=1.0)
    # new 1 vs old 4: (0, 1/2) -> 0.5; new 0 vs old 9: far -> not kept
    assert got == {1: {"previous_cluster_id": 4, "centroid_distance": 0.5}}


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
    median = np.zeros((k, 4))
    median[:, 2] = 120.0  # "lapsing": a recency word only when |z| qualifies
    median[0, 2], median[6, 2] = 30.0, 400.0  # recency words come from the median in days
    profile = Profile(names, z, np.zeros(4), np.ones(4), z, cat, np.ones(k, dtype=np.int64), median,
                      np.zeros(4, dtype=bool))
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


def _profile(names, z, median, mean=None, binary=None):
    k, p = z.shape
    return Profile(names, mean if mean is not None else median, np.zeros(p), np.ones(p), z, [],
                   np.ones(k, dtype=np.int64), median,
                   binary if binary is not None else np.zeros(p, dtype=bool))


def test_time_words_follow_the_median_in_days():
    """The issue's cases: "Recent" for a median recency of 163 days, "New" for a first purchase
    16 months ago. Time words come from the median and the day limits, not the z-score."""
    names = ["recency_days", "tenure_days", "frequency"]
    z = np.array([
        [-1.0, -1.0, 0.0],   # more recent and newer than the rest, but 163 / 480 days
        [-1.0, -1.0, 0.0],   # truly recent and new: 20 / 45 days
        [1.0, 1.0, -0.5],    # 400 / 500 days
        [1.0, 0.5, 0.0],     # recency between the limits, tenure between the limits
    ])
    median = np.array([[163.0, 480.0, 1], [20.0, 45.0, 2], [400.0, 500.0, 1], [120.0, 200.0, 1]])
    got = name_clusters([1, 2, 3, 4], _profile(names, z, median))
    assert got == ["Lapsing · long-standing", "Recent · new", "Lapsed · long-standing · infrequent",
                   "Lapsing"]
    # "recent" / "lapsed" are said even below the z limit (here z = 0.1): a cluster near the
    # average of a lapsed base is "Lapsed", not "Average"; "lapsing" is not
    weak = np.array([[0.1, 0.0, 0.0], [0.1, 0.0, 0.0]])
    assert name_clusters([1, 2], _profile(names, weak, np.array([[400.0, 500.0, 1], [120.0, 500.0, 1]]))) \
        == ["Lapsed", "Average"]
    strict = TimeThresholds(recent_max_days=10, lapsed_min_days=100, new_max_days=30,
                            long_standing_min_days=600)
    assert name_clusters([1, 2, 3, 4], _profile(names, z, median), strict) == [
        "Lapsed", "Lapsing", "Lapsed · infrequent", "Lapsed (2)"]  # names stay unique


def test_binary_feature_is_named_by_its_share():
    names = ["majorcards", "monetary"]
    z = np.array([[1.0, 0.0], [-1.0, 0.0], [0.4, -0.5]])
    mean = np.array([[0.9, 100.0], [0.1, 100.0], [0.55, 50.0]])
    binary = np.array([True, False])
    got = name_clusters([1, 2, 3], _profile(names, z, mean, mean, binary))
    assert got == ["Mostly majorcards", "Few majorcards", "Low spend · 55% majorcards"]
    # profile_clusters detects 0/1 columns (both values seen) and nothing else
    X = np.array([[0.0, 1.0], [1.0, 2.0], [1.0, 2.0], [np.nan, 0.0]])
    prof = profile_clusters(np.array([0, 0, 1, 1]), 2, X, ["flag", "count"], [], [])
    assert prof.is_binary.tolist() == [True, False]
    np.testing.assert_allclose(prof.cluster_median, [[0.5, 1.5], [1.0, 1.0]])
