"""Issue 12: segments a marketer can trust on data we did not design.

Each hand-made data set pins one failure seen on a real retail cohort, with the exact outcome;
a generated cohort-shaped data set (segmentation.datagen.generate_cohort_orders) checks every
cluster name against the cluster's medians.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmentation.clustering import ClusteringSettings, train_segmentation
from segmentation.datagen import generate_cohort_orders
from segmentation.dbt_glue import clustering_settings

RFM_T = ["recency_days", "frequency", "monetary", "tenure_days"]
FAST = {"n_init": 3, "stability_bootstraps": 0}


def _groups(recency_shift: int = 0) -> pd.DataFrame:
    """60 customers in three behaviour groups; a cohort: tenure only 500 or 510 days."""
    rows = []
    for i in range(60):
        g = i % 3
        recency = [10, 200, 450][g] + (i % 5) + recency_shift
        frequency = [12, 4, 1][g]
        monetary = [900.0, 300.0, 40.0][g] + 3 * (i % 4)
        rows.append((f"c{i:03d}", recency, frequency, monetary, 500 + 10 * (i % 2) + recency_shift))
    return pd.DataFrame(rows, columns=["customer_id", *RFM_T])


def test_near_constant_tenure_of_a_cohort_is_dropped_with_its_reason():
    frame = _groups()
    result = train_segmentation(frame, {"features": RFM_T, **FAST}, trained_at="t")
    dropped = json.loads(result.registry_row["dropped_features_json"])
    # tenure 500 / 510 half and half: mean 505, standard deviation 5 -> 0.99% of the level
    assert dropped == [{"feature": "tenure_days", "reason": (
        "near-constant on the clipped training sample: standard deviation 5 is 0.99% of its "
        "mean absolute value 505 (below var cluster_min_relative_spread = 0.1)")}]
    pre = json.loads(result.registry_row["params_json"])["preprocessing"]
    assert [p["feature"] for p in pre["numeric"]] == ["recency_days", "frequency", "monetary"]
    # the three behaviour groups, not pairs split by the first-purchase week
    assert result.registry_row["k"] == 3
    members = result.assignments.merge(frame, on="customer_id")
    assert members.groupby("cluster_id")["recency_days"].agg(lambda s: s.iloc[0] // 100).nunique() == 3
    # the rule is a setting: 0 keeps every feature that is not constant
    kept = train_segmentation(frame, {"features": RFM_T, "min_relative_spread": 0.0, **FAST})
    assert json.loads(kept.registry_row["dropped_features_json"]) == []
    # a constant feature after clipping is always dropped
    flat = frame.assign(tenure_days=400)
    flat_dropped = json.loads(train_segmentation(flat, {"features": RFM_T, **FAST})
                              .registry_row["dropped_features_json"])
    assert flat_dropped == [{"feature": "tenure_days", "reason": "constant"}]


def test_names_of_a_lapsed_cohort_state_absolute_facts():
    frame = _groups()
    result = train_segmentation(frame, {"features": RFM_T, **FAST}, trained_at="t")
    names = result.centroids.drop_duplicates("cluster_id").set_index("cluster_id")["cluster_name"]
    medians = result.assignments.merge(frame, on="customer_id").groupby("cluster_id")["recency_days"].median()
    by_recency = {round(medians[c], -1): names[c] for c in names.index}
    # recency medians 12, 202 and 452 days: recent, lapsed (>= 180), lapsed; tenure is never a
    # word (dropped); the one-time buyers lapsed for 15 months are not "new". Level words stay
    # relative: 4 purchases and 300 spent are below the means (5.7 and 415) of this base.
    assert by_recency == {10.0: "Frequent · high spend · recent",
                          200.0: "Infrequent · low spend · lapsed",
                          450.0: "Lapsed · low spend · infrequent"}


def test_two_models_a_month_apart_keep_every_id():
    """A month later every customer's recency and tenure grew by 30 days and nobody bought:
    the structure is unchanged, so every cluster keeps its id and every customer their cluster,
    even though k-means numbers its clusters differently (another random_state)."""
    first = train_segmentation(_groups(), {"features": RFM_T, **FAST}, trained_at="t1")
    second = train_segmentation(_groups(30), {"features": RFM_T, **FAST, "random_state": 3},
                                previous=first.registry_row, trained_at="t2")
    lin = second.lineage
    assert lin["status"].tolist() == ["matched"] * 3
    assert lin["cluster_id"].tolist() == lin["previous_cluster_id"].tolist() == [1, 2, 3]
    assert lin["shared_customers"].tolist() == [20, 20, 20]
    assert lin["member_overlap"].tolist() == [1.0, 1.0, 1.0]
    merged = first.assignments.merge(second.assignments, on="customer_id")
    assert (merged["cluster_id_x"] == merged["cluster_id_y"]).all()


def test_binary_feature_is_named_as_a_share_never_high():
    rng = np.random.default_rng(0)
    n = 90
    group = np.arange(n) % 3
    frame = pd.DataFrame({
        "customer_id": [f"s{i:03d}" for i in range(n)],
        "balance": np.array([100.0, 2000.0, 5000.0])[group] + rng.normal(0, 20, n),
        "majorcards": np.array([1.0, 0.0, 1.0])[group],
    })
    result = train_segmentation(frame, {"features": ["balance", "majorcards"], "optional_features": [],
                                        "log_features": [], "n_clusters": 3, **FAST}, trained_at="t")
    names = sorted(result.centroids.drop_duplicates("cluster_id")["cluster_name"])
    assert names == ["Few majorcards", "High balance · mostly majorcards",
                     "Low balance · mostly majorcards"]


@pytest.fixture(scope="module")
def cohort():
    orders = generate_cohort_orders(customers=3000, seed=7)
    as_of = pd.Timestamp("2025-07-01")
    per = orders.groupby("customer_id").agg(first=("ordered_at", "min"), last=("ordered_at", "max"),
                                            frequency=("order_id", "count"), monetary=("amount", "sum"))
    features = pd.DataFrame({
        "customer_id": per.index,
        "recency_days": (as_of - per["last"]).dt.days.to_numpy(),
        "frequency": per["frequency"].to_numpy(),
        "monetary": per["monetary"].to_numpy(),
        "tenure_days": (as_of - per["first"]).dt.days.to_numpy(),
    })
    return orders, features


def test_generated_cohort_is_shaped_like_the_real_one(cohort):
    orders, features = cohort
    assert generate_cohort_orders(customers=3000, seed=7).equals(orders)  # deterministic
    assert features["tenure_days"].between(458, 547).all()   # everyone joined in one quarter
    assert (features["frequency"] == 1).mean() > 0.55          # most buy once
    assert (features["recency_days"] > 365).mean() > 0.6       # and lapsed long ago


def test_every_cluster_name_of_the_generated_cohort_is_true(cohort):
    _, features = cohort
    settings = ClusteringSettings.from_mapping({"features": RFM_T, "stability_bootstraps": 0})
    result = train_segmentation(features, settings, trained_at="t")
    assert [d["feature"] for d in json.loads(result.registry_row["dropped_features_json"])] == ["tenure_days"]
    members = result.assignments.merge(features, on="customer_id")
    medians = members.groupby("cluster_name")[RFM_T].median()
    overall = features[RFM_T].median()
    assert len(medians) == result.registry_row["k"] >= 2
    checked = 0
    for name, med in medians.iterrows():
        words = name.lower().split(" · ")
        assert "new" not in words and "long-standing" not in words  # tenure carries no word
        if "recent" in words:
            assert med["recency_days"] <= settings.recent_max_days
        if "lapsed" in words:
            assert med["recency_days"] >= settings.lapsed_min_days
        if "lapsing" in words:
            assert settings.recent_max_days < med["recency_days"] < settings.lapsed_min_days
        for word, column, sign in (("high spend", "monetary", 1), ("low spend", "monetary", -1),
                                   ("frequent", "frequency", 1), ("infrequent", "frequency", -1)):
            if word in words:
                assert sign * (med[column] - overall[column]) >= 0, (name, column)
        checked += len(words)
    assert checked >= 4
    # every customer who came in is accounted for
    assert len(result.assignments) == len(features)


def test_per_feature_lists_follow_the_chosen_features_and_errors_name_the_var():
    # the defaults (null vars) are intersected with cluster_features: no traceback about
    # log_features when frequency is not clustered
    settings, mode = clustering_settings(json.dumps({
        "clustering_mode": "train", "features": ["recency_days", "monetary"],
        "optional_features": None, "log_features": None}))
    assert mode == "train"
    assert settings.log_features == ("monetary",) and settings.optional_features == ()
    with pytest.raises(ValueError, match=r"log_features \(var cluster_log_features\) must be a subset "
                                         r"of features \(var cluster_features\), got 'frequency'"):
        clustering_settings(json.dumps({"features": ["recency_days"], "log_features": ["frequency"]}))


def test_profiles_show_no_negative_zero_and_no_unused_pseudo_levels():
    frame = _groups().assign(channel=["web", "shop"] * 30)
    result = train_segmentation(frame, {"features": RFM_T, "categorical_features": ["channel"], **FAST})
    values = result.centroids[["scaled_value", "original_value", "population_mean", "z_score"]].to_numpy()
    assert not np.signbit(values[values == 0]).any()
    # no customer has an unknown or missing channel: those one-hot columns stay out of the
    # centroids and the importances, the two real levels are in both
    assert sorted(f for f in result.centroids["feature_name"].unique() if f.startswith("channel")) == \
        ["channel = 'shop'", "channel = 'web'"]
    importances = json.loads(result.registry_row["feature_importances_json"])
    assert sorted(f for f in importances if f.startswith("channel")) == ["channel = 'shop'", "channel = 'web'"]


def test_counts_read_singular_for_one_customer():
    from segmentation.charts import _customers
    from segmentation.clustering.preprocessing import format_sig

    assert (_customers(1), _customers(2), _customers(23570)) == ("1 customer", "2 customers", "23,570 customers")
    # thresholds: 3 significant digits separate the sides of a split the old 2 decimals merged
    assert (format_sig(0.00045), format_sig(-0.0), format_sig(462.4), format_sig(1234.5)) == \
        ("0.00045", "0", "462", "1230")
