"""Issue 13: the retrain schedule of cluster_models and clv_models (segmentation.retrain).

The decision function on its edges (exactly N days, an as-of date before the stored
model's, no stored model, score mode, the early trigger), the two registries acting on it
with small hand-made frames, and the dbt builds of the demo: a day more of orders scores
with the stored models, 30 days later they retrain, a settings change retrains at once, a
customer base a quarter smaller retrains early.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dbt_harness import BUILD_SCHEMA
from segmentation.clustering import ClusteringSettings
from segmentation.clv import ClvSettings
from segmentation.clv.dbt import clv_predictions, clv_registry_update
from segmentation.dbt_glue import cluster_registry_update
from segmentation.retrain import RetrainSchedule, retrain_decision

STORED = {"model_version": 3, "fingerprint": "old", "as_of_date": pd.Timestamp("2026-01-01"),
          "n_customers": 1000}
SCHEDULE = RetrainSchedule(after_days=30, max_customer_change=0.1)


def decide(previous=STORED, *, mode="train", settings_changed=False, fingerprint="new", n_customers=1000,
           as_of_date="2026-01-13", schedule=SCHEDULE):
    return retrain_decision(previous, mode=mode, settings_changed=settings_changed, fingerprint=fingerprint,
                            n_customers=n_customers, as_of_date=as_of_date, schedule=schedule)


# --- the decision function -------------------------------------------------------------

def test_within_the_schedule_scores_with_the_stored_model_and_says_when_it_retrains():
    decision = decide()
    assert (decision.action, decision.model_version) == ("score", 3)
    assert decision.reason == "scored with model 3, trained 12 days ago; retrain due in 18 days"
    one_day = decide(as_of_date="2026-01-30")
    assert one_day.reason == "scored with model 3, trained 29 days ago; retrain due in 1 day"
    same_day = decide(as_of_date=dt.date(2026, 1, 1))
    assert same_day.reason == "scored with model 3, trained 0 days ago; retrain due in 30 days"


def test_exactly_n_days_retrains():
    decision = decide(as_of_date="2026-01-31")
    assert (decision.action, decision.model_version) == ("train", None)
    assert decision.reason == "retrained: model 3 was 30 days old (var retrain_after_days: 30)"
    assert decide(as_of_date="2026-03-01").trains


def test_settings_change_retrains_at_once_and_a_rerun_always_reuses():
    assert decide(settings_changed=True).reason == "retrained: settings changed"
    # Same fingerprint (same data and settings): reused, even long after and with another count.
    rerun = decide(fingerprint="old", as_of_date="2027-01-01", n_customers=5)
    assert (rerun.action, rerun.reason) == ("score", "scored with model 3: same data and settings (a rerun)")


def test_as_of_date_before_the_stored_models_retrains_as_before_the_schedule():
    decision = decide(as_of_date="2025-12-31")
    assert decision.trains
    assert decision.reason == ("retrained: as-of date 2025-12-31 is before model 3's (2026-01-01), "
                               "a replay of a past date")


def test_no_stored_model_trains_and_score_mode_never_does():
    assert decide(previous=None).reason == "retrained: no stored model yet"
    score = decide(mode="score", settings_changed=True, as_of_date="2027-01-01", n_customers=1)
    assert (score.action, score.model_version) == ("score", 3)
    assert score.reason == "scored with model 3: score mode never retrains"
    with pytest.raises(ValueError, match="score mode needs a stored model"):
        decide(previous=None, mode="score")
    with pytest.raises(ValueError, match="mode must be"):
        decide(mode="refit")


def test_customer_count_trigger_fires_above_the_share_only():
    assert not decide(n_customers=1100).trains  # exactly 10%: not more than
    assert not decide(n_customers=900).trains
    grown = decide(n_customers=1101)
    assert grown.trains and grown.reason == (
        "retrained early: 1101 customers against 1000 for model 3 (10.1% change, more than var "
        "retrain_max_customer_change 10.0%)")
    assert decide(n_customers=899).trains
    assert not decide(n_customers=2000, schedule=RetrainSchedule(30, None)).trains  # trigger off


def test_schedule_off_and_models_without_an_as_of_date_retrain_on_new_data():
    off = decide(schedule=RetrainSchedule(after_days=0))
    assert off.trains and off.reason == "retrained: data changed (var retrain_after_days is 0)"
    legacy = decide(previous={**STORED, "as_of_date": None})
    assert legacy.trains and "has no as-of date" in legacy.reason
    assert decide(as_of_date=None).trains


@pytest.mark.parametrize("mapping, message", [
    ({"after_days": -1}, "retrain_after_days"), ({"after_days": 2.5}, "retrain_after_days"),
    ({"after_days": "30"}, "retrain_after_days"), ({"after_days": True}, "retrain_after_days"),
    ({"max_customer_change": -0.1}, "retrain_max_customer_change"),
    ({"max_customer_change": "x"}, "retrain_max_customer_change"),
    ({"max_customer_change": float("nan")}, "retrain_max_customer_change"),
    ({"days": 3}, "unknown retrain schedule key"),
])
def test_schedule_names_the_bad_var(mapping, message):
    with pytest.raises(ValueError, match=message):
        RetrainSchedule.from_mapping(mapping)


def test_schedule_defaults_and_json():
    assert RetrainSchedule.from_json(None) == RetrainSchedule(30, 0.1)
    assert RetrainSchedule.from_json('{"after_days": 7.0, "max_customer_change": null}') == RetrainSchedule(7, None)


# --- the registries acting on it ----------------------------------------------------------

def _customers(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 8.0]])
    points = centres[np.arange(n) % 2] + rng.normal(0, 1, (n, 2)) + shift
    return pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(n)], "x": points[:, 0], "y": points[:, 1]})


def test_cluster_registry_scores_new_data_within_the_schedule_and_retrains_after():
    settings = ClusteringSettings.from_mapping({"features": ["x", "y"], "n_clusters": 2, "stability_bootstraps": 0,
                                                "tree_min_samples_leaf": 5})
    first, decision = cluster_registry_update(_customers(400, 0), settings, "train", None, None,
                                              as_of_date="2026-01-01", schedule=SCHEDULE)
    assert decision.reason == "retrained: no stored model yet"
    row = first.iloc[0].to_dict()
    assert (row["model_version"], row["as_of_date"], row["retrain_reason"]) == (
        1, pd.Timestamp("2026-01-01"), "retrained: no stored model yet")
    moved = _customers(400, 1, shift=0.1)  # other data, same settings, same count
    rows, decision = cluster_registry_update(moved, settings, "train", row, first.head(0),
                                             as_of_date="2026-01-02", schedule=SCHEDULE)
    assert len(rows) == 0 and decision.reason == "scored with model 1, trained 1 day ago; retrain due in 29 days"
    rows, decision = cluster_registry_update(moved, settings, "train", row, first.head(0),
                                             as_of_date="2026-01-31", schedule=SCHEDULE)
    assert len(rows) == 1 and rows.iloc[0]["retrain_reason"] == decision.reason == (
        "retrained: model 1 was 30 days old (var retrain_after_days: 30)")
    other = ClusteringSettings.from_mapping({**settings.to_dict(), "n_clusters": 3})
    rows, decision = cluster_registry_update(moved, other, "train", row, first.head(0),
                                             as_of_date="2026-01-02", schedule=SCHEDULE)
    assert len(rows) == 1 and decision.reason == "retrained: settings changed"
    rows, decision = cluster_registry_update(_customers(460, 1), settings, "train", row, first.head(0),
                                             as_of_date="2026-01-02", schedule=SCHEDULE)
    assert len(rows) == 1 and decision.reason.startswith("retrained early: 460 customers against 400")
    # No schedule (the function's default): every change of data retrains, as before issue 13.
    rows, _ = cluster_registry_update(moved, settings, "train", row, first.head(0), as_of_date="2026-01-02")
    assert len(rows) == 1


def _clv_inputs(n: int, seed: int, as_of: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.uniform(10, 52, n)
    frequency = rng.poisson(2.0, n).astype(float)
    recency = np.where(frequency > 0, t * rng.uniform(0.2, 1.0, n), 0.0)
    monetary = np.where(frequency > 0, rng.gamma(5, 10, n), np.nan)
    return pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(n)], "has_purchases": True,
                         "frequency": frequency, "recency": recency, "t": t, "monetary_value": monetary,
                         "as_of_date": pd.Timestamp(as_of)})


def test_clv_registry_scores_new_inputs_within_the_schedule_and_predictions_use_the_stored_fit():
    settings = ClvSettings.from_mapping({})
    data = _clv_inputs(400, 0, "2026-01-01")
    first, reason = clv_registry_update(data, settings, None, None, schedule=SCHEDULE)
    assert reason == "retrained: no stored model yet" and first.loc[0, "retrain_reason"] == reason
    stored = first.iloc[0].to_dict()
    next_day = _clv_inputs(400, 0, "2026-01-02").assign(t=lambda f: f["t"] + 1 / 7)
    rows, reason = clv_registry_update(next_day, settings, stored, first.head(0), schedule=SCHEDULE)
    assert len(rows) == 0 and reason == "scored with model 1, trained 1 day ago; retrain due in 29 days"
    scored = clv_predictions(next_day, first, settings, SCHEDULE)
    assert (scored["prediction_status"] == "scored").all() and set(scored["model_version"]) == {1}
    # Without the schedule the same inputs need a refit; none stored: everyone unscored, with the reason.
    unscored = clv_predictions(next_day, first, settings)
    assert (unscored["prediction_status"] == "unscored").all()
    # Fit settings changed: a refit; scoring-only settings (horizons) did not.
    assert clv_registry_update(next_day, ClvSettings.from_mapping({"penalizer_coef": 0.01}), stored,
                               first.head(0), schedule=SCHEDULE)[1] == "retrained: settings changed"
    assert len(clv_registry_update(next_day, ClvSettings.from_mapping({"horizons_days": [30]}), stored,
                                   first.head(0), schedule=SCHEDULE)[0]) == 0
    later = _clv_inputs(400, 0, "2026-02-05").assign(t=lambda f: f["t"] + 5)
    rows, reason = clv_registry_update(later, settings, stored, first.head(0), schedule=SCHEDULE)
    assert len(rows) == 1 and rows.loc[0, "model_version"] == 2
    assert reason == rows.loc[0, "retrain_reason"] == "retrained: model 1 was 35 days old (var retrain_after_days: 30)"


# --- the dbt builds -------------------------------------------------------------------------

SELECT = ("build", "--exclude-resource-type", "unit_test", "--select", "+customer_clusters", "+customer_predictions",
          "published_build")


def _orders_up_to(project, day: str, customers: set[str] | None = None):
    orders = pd.read_csv(project.project_dir / "seeds/demo/demo_orders.csv", dtype=str)
    kept = orders[orders["ordered_at"].str[:10] <= day]
    if customers is not None:
        kept = kept[kept["customer_id"].isin(customers)]
    path = project.project_dir / f"orders_{day}_{len(kept)}.csv"
    kept.to_csv(path, index=False)
    return {"file": str(path)}


def _build(project, capfd, **vars) -> str:
    capfd.readouterr()
    project.dbt(*SELECT, vars=vars, expect_success=True)
    return capfd.readouterr().out


def _registry(project, name: str) -> pd.DataFrame:
    return project.query(f"select model_version, cast(as_of_date as date) as as_of_date, retrain_reason "
                         f"from {name} order by 1", schema=BUILD_SCHEMA)


def _clusters(project) -> pd.DataFrame:
    return project.query("select c.*, i.* exclude (customer_id) from customer_clusters c "
                         "join int_customers_clustering_input i using (customer_id) order by customer_id",
                         schema=BUILD_SCHEMA).set_index("customer_id")


def test_daily_builds_score_with_the_stored_models_until_the_schedule_or_a_trigger_retrains(project_copy, capfd):
    project = project_copy
    # Day 1: the orders of 2026-09-30 have not arrived yet. Both registries train model 1.
    log = _build(project, capfd, as_of_date="2026-09-30", orders_input=_orders_up_to(project, "2026-09-29"))
    assert "cluster_models: retrained: no stored model yet" in log
    assert "clv_models: retrained: no stored model yet" in log
    assert project.scalar("select cluster_model_decision from published_build", schema=BUILD_SCHEMA) == (
        "retrained: no stored model yet (model 1)")
    first = _clusters(project)

    # The same as-of date with one more day of orders: no new row, scored with model 1.
    log = _build(project, capfd, as_of_date="2026-09-30", orders_input=_orders_up_to(project, "2026-09-30"))
    assert "cluster_models: scored with model 1, trained 0 days ago; retrain due in 30 days" in log
    assert "clv_models: scored with model 1, trained 0 days ago; retrain due in 30 days" in log
    assert len(_registry(project, "cluster_models")) == len(_registry(project, "clv_models")) == 1
    second = _clusters(project)
    features = [c for c in project.query("select * from int_customers_clustering_input limit 0").columns
                if c != "customer_id"]
    assert set(second["model_version"]) == {1}
    same_input = (first[features].fillna(-1) == second[features].fillna(-1)).all(axis=1)
    assert 1500 < same_input.sum() < len(second)  # the day's buyers changed, everyone else did not
    pd.testing.assert_series_equal(first.loc[same_input, "cluster_id"], second.loc[same_input, "cluster_id"])
    assert set(project.query("select distinct model_version from customer_predictions where model_version "
                             "is not null", schema=BUILD_SCHEMA)["model_version"]) == {1}
    # The record BI reads says so too (a partial build does not publish: the build schema).
    decisions = project.query("select * from published_build", schema=BUILD_SCHEMA).iloc[0]
    assert (decisions["cluster_model_version"], decisions["clv_model_version"]) == (1, 1)
    assert decisions["cluster_model_decision"] == "scored with model 1, trained 0 days ago; retrain due in 30 days"
    assert decisions["clv_model_decision"] == "scored with model 1, trained 0 days ago; retrain due in 30 days"
    # A rerun of that build: nothing added, the same clusters.
    _build(project, capfd, as_of_date="2026-09-30", orders_input=_orders_up_to(project, "2026-09-30"))
    assert len(_registry(project, "cluster_models")) == 1
    pd.testing.assert_frame_equal(_clusters(project), second)

    # 15 days later: still scored; 30 days after model 1's as-of date: both retrain.
    log = _build(project, capfd, as_of_date="2026-10-15", orders_input=_orders_up_to(project, "2026-10-15"))
    assert "cluster_models: scored with model 1, trained 15 days ago; retrain due in 15 days" in log
    assert "clv_models: scored with model 1, trained 15 days ago; retrain due in 15 days" in log
    month = _orders_up_to(project, "2026-10-30")
    _build(project, capfd, as_of_date="2026-10-30", orders_input=month)
    for name in ("cluster_models", "clv_models"):
        registry = _registry(project, name)
        assert list(registry["model_version"]) == [1, 2]
        assert str(registry.loc[1, "as_of_date"])[:10] == "2026-10-30"
        assert registry.loc[1, "retrain_reason"] == "retrained: model 1 was 30 days old (var retrain_after_days: 30)"
    assert set(_clusters(project)["model_version"]) == {2}
    decisions = project.query("select * from published_build", schema=BUILD_SCHEMA).iloc[0]
    assert decisions["cluster_model_decision"] == (
        "retrained: model 1 was 30 days old (var retrain_after_days: 30) (model 2)")

    # A settings change retrains at once (cluster settings: only cluster_models).
    _build(project, capfd, as_of_date="2026-10-30", orders_input=month, n_clusters=4)
    clusters = _registry(project, "cluster_models")
    assert list(clusters["model_version"]) == [1, 2, 3]
    assert clusters.loc[2, "retrain_reason"] == "retrained: settings changed"
    assert len(_registry(project, "clv_models")) == 2

    # A quarter of the customers gone (their orders too): both registries retrain early.
    kept = pd.read_csv(project.project_dir / "seeds/demo/demo_customers.csv", dtype=str)
    kept = kept[kept.index % 4 != 0]
    customers = project.project_dir / "customers_three_quarters.csv"
    kept.to_csv(customers, index=False)
    _build(project, capfd, as_of_date="2026-10-30", n_clusters=4, customers_input={"file": str(customers)},
           orders_input=_orders_up_to(project, "2026-10-30", set(kept["customer_id"])))
    for name, version in (("cluster_models", 4), ("clv_models", 3)):
        latest = _registry(project, name).iloc[-1]
        assert latest["model_version"] == version
        assert latest["retrain_reason"].startswith("retrained early: "), latest["retrain_reason"]
        assert "more than var retrain_max_customer_change 10.0%" in latest["retrain_reason"]


def test_a_registry_stored_before_the_schedule_gains_its_columns_and_retrains_once(project_copy, capfd):
    """Registries are kept across builds and full refreshes: one written before issue 13 (no
    as_of_date / retrain_reason in cluster_models, no retrain_reason in clv_models) gets the
    columns appended (its rows keep theirs, empty). cluster_models retrains once (no as-of
    date to count from), then follows the schedule; clv_models had its as_of_date already."""
    import duckdb

    project = project_copy
    _build(project, capfd, as_of_date="2026-09-30", orders_input=_orders_up_to(project, "2026-09-30"))
    with duckdb.connect(str(project.database)) as con:
        con.execute(f"alter table {BUILD_SCHEMA}.cluster_models drop column as_of_date")
        con.execute(f"alter table {BUILD_SCHEMA}.cluster_models drop column retrain_reason")
        con.execute(f"alter table {BUILD_SCHEMA}.clv_models drop column retrain_reason")
    log = _build(project, capfd, as_of_date="2026-10-05", orders_input=_orders_up_to(project, "2026-10-05"))
    legacy = ("retrained: data changed and model 1 has no as-of date to schedule by "
              "(stored before the retrain schedule)")
    assert f"cluster_models: {legacy}" in log
    clusters, clv = _registry(project, "cluster_models"), _registry(project, "clv_models")
    assert list(clusters["model_version"]) == [1, 2] and list(clv["model_version"]) == [1]
    assert pd.isna(clusters.loc[0, "as_of_date"]) and pd.isna(clusters.loc[0, "retrain_reason"])
    assert pd.isna(clv.loc[0, "retrain_reason"]) and str(clv.loc[0, "as_of_date"])[:10] == "2026-09-30"
    assert clusters.loc[1, "retrain_reason"] == legacy and str(clusters.loc[1, "as_of_date"])[:10] == "2026-10-05"
    # clv_models kept its as_of_date column: model 1 is 5 days old, so the schedule scores with it.
    assert "clv_models: scored with model 1, trained 5 days ago; retrain due in 25 days" in log
    log = _build(project, capfd, as_of_date="2026-10-06", orders_input=_orders_up_to(project, "2026-10-06"))
    assert "cluster_models: scored with model 2, trained 1 day ago; retrain due in 29 days" in log
