"""Customer lifetime value: the lifetimes-based package and the dbt models around it.

The exact inputs on hand-made orders (three purchases on two days, same-day refunds, a
single purchase, no purchase) are pinned by the dbt unit test
int_customers_clv_inputs_counts_purchase_days_and_nets_same_day_refunds, which every
build runs (demo_build asserts it passes).
"""
from __future__ import annotations

import warnings
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from dbt_harness import PROJECT_DIR, DbtProject
from segmentation.clv import ClvSettings, fit_models, score_customers
from segmentation.clv.dbt import clv_predictions, clv_registry_rows
from segmentation.clv.model import fingerprint, registry_row

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01


def _inputs(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "has_purchases", "frequency", "recency", "t",
                                        "monetary_value"])
    return frame


def _synthetic(n=600, seed=0):
    """BG/NBD-like customers: purchase days by Poisson with drop-out, gamma order values."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        t = rng.uniform(10, 52)
        rate = rng.gamma(2.0, 0.1)
        life = rng.exponential(30)
        times = np.sort(rng.uniform(0, min(t, life), rng.poisson(rate * min(t, life))))
        x = len(times)
        rows.append((f"c{i:04d}", True, float(x), float(times[-1]) if x else 0.0, t,
                     float(rng.gamma(5, 10)) if x else np.nan))
    rows += [("none1", False, np.nan, np.nan, np.nan, np.nan), ("none2", False, np.nan, np.nan, np.nan, np.nan)]
    return _inputs(rows)


def test_settings_name_the_bad_var():
    with pytest.raises(ValueError, match="clv_time_unit"):
        ClvSettings.from_mapping({"time_unit": "months"})
    with pytest.raises(ValueError, match="clv_churn_risk_edges"):
        ClvSettings.from_mapping({"churn_risk_edges": [0.7, 0.3]})
    with pytest.raises(ValueError, match="clv_horizons_days"):
        ClvSettings.from_mapping({"horizons_days": [90, 90]})
    with pytest.raises(ValueError, match="clv_purchase_model"):
        ClvSettings.from_mapping({"purchase_model": "bg"})
    with pytest.raises(ValueError, match="clv_mode"):
        ClvSettings.from_mapping({"mode": "refit"})


def test_scores_every_customer_with_reasons_and_exact_closed_forms():
    settings = ClvSettings.from_mapping({"horizons_days": [70], "annual_discount_rate": 0.0})
    row = {"model_version": 3, "purchase_model": "bgnbd", "time_unit": "weeks",
           "param_r": 0.243, "param_alpha": 4.414, "param_a": 0.793, "param_b": 2.426,
           "spend_p": 6.25, "spend_q": 3.74, "spend_v": 15.44}
    data = _inputs([("a", True, 0.0, 0.0, 38.86, np.nan), ("b", True, 2.0, 30.43, 38.86, 20.0),
                    ("c", False, np.nan, np.nan, np.nan, np.nan)])
    out = score_customers(data, row, settings)
    assert list(out["customer_id"]) == ["a", "b", "c"]
    assert list(out["prediction_status"]) == ["scored", "scored", "unscored"]
    assert out.loc[2, "unscored_reason"] == "no purchase before the as-of date"
    assert out.loc[2, ["probability_alive", "predicted_clv_70"]].isna().all()
    # BG/NBD: no repeat purchase means the customer cannot have dropped out yet.
    assert out.loc[0, "probability_alive"] == 1.0
    # The published closed form P(alive | x, t_x, T) = 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    expected = 1 / (1 + a / (b + 2 - 1) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2))
    assert out.loc[1, "probability_alive"] == pytest.approx(expected, rel=1e-12)
    # Gamma-Gamma: single-day customers get the population mean p v / (q - 1).
    assert out.loc[0, "expected_avg_order_value"] == pytest.approx(6.25 * 15.44 / 2.74, rel=1e-12)
    assert "population mean" in out.loc[0, "prediction_note"]
    # Undiscounted, CLV is expected purchases x expected order value.
    scored = out.iloc[:2]
    np.testing.assert_allclose(scored["predicted_clv_70"],
                               scored["expected_purchases_70"] * scored["expected_avg_order_value"], rtol=1e-12)
    assert expected == pytest.approx(0.7266, abs=1e-4)  # lifetimes' documented value for this customer
    assert list(out["churn_risk_band"].iloc[:2]) == ["low", "low"]


def test_customers_sharing_frequency_recency_and_age_are_scored_once_with_the_same_values():
    """score_customers computes the BG/NBD figures once per distinct (frequency, recency, t)
    and spreads them back; every customer gets exactly what scoring them alone gives."""
    from lifetimes import BetaGeoFitter

    from segmentation.clv.model import _distinct_triples

    rng = np.random.default_rng(7)
    n = 5000
    f = rng.integers(0, 6, n).astype(float)
    t = rng.integers(20, 30, n).astype(float)
    r = np.where(f > 0, np.minimum(rng.integers(0, 30, n), t), 0.0)
    (fu, ru, tu), back = _distinct_triples(f, r, t)
    assert len(fu) == len(set(zip(f, r, t))) < n / 3
    assert (fu[back] == f).all() and (ru[back] == r).all() and (tu[back] == t).all()
    settings = ClvSettings.from_mapping({"horizons_days": [70], "annual_discount_rate": 0.0})
    row = {"model_version": 3, "purchase_model": "bgnbd", "time_unit": "weeks",
           "param_r": 0.243, "param_alpha": 4.414, "param_a": 0.793, "param_b": 2.426,
           "spend_p": 6.25, "spend_q": 3.74, "spend_v": 15.44}
    data = _inputs([(f"c{i}", True, f[i], r[i], t[i], 20.0) for i in range(n)])
    out = score_customers(data, row, settings)
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert (out["probability_alive"].to_numpy() == fitter.conditional_probability_alive(f, r, t)).all()
    direct = fitter.conditional_expected_number_of_purchases_up_to_time(10.0, f, r, t)
    assert (out["expected_purchases_70"].to_numpy() == direct).all()


def test_discounting_lowers_clv_and_horizons_are_monotone():
    data = _synthetic()
    settings = ClvSettings.from_mapping({"horizons_days": [90, 365], "annual_discount_rate": 0.2,
                                         "min_training_customers": 20})
    row = {"model_version": 1, **fit_models(data, settings)}
    out = score_customers(data, row, settings)
    plain = score_customers(data, row, ClvSettings.from_mapping({"horizons_days": [90, 365],
                                                                 "annual_discount_rate": 0.0}))
    scored = out["prediction_status"] == "scored"
    assert (out.loc[scored, "expected_purchases_365"] >= out.loc[scored, "expected_purchases_90"]).all()
    assert (out.loc[scored, "predicted_clv_365"] < plain.loc[scored, "predicted_clv_365"]).all()
    assert (out.loc[scored, "predicted_clv_365"] > 0.8 * plain.loc[scored, "predicted_clv_365"]).all()
    assert len(out) == len(data) and out["customer_id"].is_unique


def test_fit_is_identical_on_rerun_and_fingerprint_ignores_row_order():
    data = _synthetic()
    settings = ClvSettings.from_mapping({})
    first = registry_row(data, settings, None, trained_at="x")
    second = registry_row(data.sample(frac=1.0, random_state=3), settings, None, trained_at="x")
    assert first == second
    assert first["n_training_sample"] == 600 and first["n_customers"] == 602
    # Scoring-only settings do not change the fingerprint; fit settings do.
    assert fingerprint(data, ClvSettings.from_mapping({"horizons_days": [30]})) == first["fingerprint"]
    assert fingerprint(data, ClvSettings.from_mapping({"purchase_model": "pareto_nbd"})) != first["fingerprint"]


def test_training_sample_is_bounded_and_pareto_option_fits():
    data = _synthetic()
    row = fit_models(data, ClvSettings.from_mapping({"training_sample_size": 300, "purchase_model": "pareto_nbd"}))
    assert row["n_training_sample"] == 300
    assert row["param_s"] > 0 and row["param_beta"] > 0 and row["param_a"] is None
    assert row["purchase_log_likelihood"] < 0


def test_registry_reuses_fit_and_score_mode_never_fits():
    data = _synthetic()
    train = ClvSettings.from_mapping({})
    first = clv_registry_rows(data, train, None, None)
    assert len(first) == 1 and first.loc[0, "model_version"] == 1
    previous = first.iloc[0].to_dict()
    assert len(clv_registry_rows(data, train, previous, first.head(0))) == 0
    changed = data.assign(t=data["t"] + 1.0)
    score = ClvSettings.from_mapping({"mode": "score"})
    assert len(clv_registry_rows(changed, score, previous, first.head(0))) == 0
    assert len(clv_registry_rows(changed, train, previous, first.head(0))) == 1
    with pytest.raises(ValueError, match="clv_mode is 'score'"):
        clv_registry_rows(data, score, None, None)
    scored = clv_predictions(changed, first, score)
    assert set(scored["model_version"].dropna()) == {1}


def test_too_few_buyers_unscores_everyone_with_the_reason():
    data = _synthetic(n=5)
    settings = ClvSettings.from_mapping({})
    assert len(clv_registry_rows(data, settings, None, None)) == 0
    out = clv_predictions(data, clv_registry_rows(data, settings, None, None), settings)
    assert len(out) == 7 and (out["prediction_status"] == "unscored").all()
    assert out["unscored_reason"].str.contains("clv_min_training_customers").sum() == 7


# --- the published model: CDNOW through the project's own SQL and Python path ---------

@pytest.fixture(scope="module")
def cdnow_build(tmp_path_factory) -> DbtProject:
    """The CDNOW sample (data/cdnow/, from lifetimes, MIT) configured by examples/cdnow.yml only;
    one horizon of 39 weeks (273 days) to compare with the holdout."""
    work = tmp_path_factory.mktemp("cdnow")
    project = DbtProject(PROJECT_DIR, database=work / "cdnow.duckdb", target_path=work / "target")
    result = project.dbt("build", "--select", "+customer_predictions",
                         vars_file=PROJECT_DIR / "examples" / "cdnow.yml", vars={"clv_horizons_days": [273]})
    assert result.success, project.failure_summary(result)
    return project


def test_cdnow_reproduces_the_paper_estimates(cdnow_build):
    model = cdnow_build.query("select * from clv_models").iloc[0]
    print("CDNOW BG/NBD:", {name: round(float(model[f"param_{name}"]), 4) for name in PAPER},
          "log-likelihood", round(float(model["purchase_log_likelihood"]), 1))
    for name, published in PAPER.items():
        assert model[f"param_{name}"] == pytest.approx(published, rel=0.02), name
    assert model["purchase_penalizer_coef"] == 0.0
    # 2,357 customers; the 8 zero-value transactions are not purchases here, so 8 customers
    # have no purchase day in the calibration period.
    assert model["n_customers"] == 2357 and model["n_purchasers"] == 2349


def test_cdnow_holdout_purchases_close_to_predicted(cdnow_build):
    frame = cdnow_build.query("""
        select inputs.holdout_length, inputs.holdout_purchase_days, predictions.expected_purchases_273,
               predictions.prediction_status
        from int_customers_clv_inputs as inputs
        inner join customer_predictions as predictions using (customer_id)""")
    assert len(frame) == 2357
    assert frame["holdout_length"].iloc[0] == pytest.approx(39.0)
    predicted = frame["expected_purchases_273"].sum()
    actual = frame["holdout_purchase_days"].sum()
    print(f"CDNOW holdout (39 weeks): predicted {predicted:.0f}, actual {actual}")
    # Every holdout purchase day of the raw file is counted (1,882).
    raw = pd.read_csv(files("lifetimes") / "datasets" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "amount"], dtype={"date": str})
    shipped = pd.read_csv(PROJECT_DIR / "data" / "cdnow" / "cdnow_sample_orders.csv", dtype={"date": str})
    assert shipped[["date", "amount"]].astype({"amount": float}).equals(raw[["date", "amount"]])
    holdout = raw[pd.to_datetime(raw["date"], format="%Y%m%d") > CALIBRATION_END]
    assert actual == len(holdout.drop_duplicates(["customer_id", "date"])) == 1882
    # The same forecast as lifetimes on the published summary data (its own fit and data).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter
        from lifetimes.datasets import load_cdnow_summary
        summary = load_cdnow_summary(index_col=[0])
        reference = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        reference_total = reference.conditional_expected_number_of_purchases_up_to_time(
            39, summary["frequency"], summary["recency"], summary["T"]).sum()
    assert predicted == pytest.approx(reference_total, rel=0.01)
    # BG/NBD under-forecasts this holdout by about 12% in total (the model, not the path).
    assert 0.8 < predicted / actual < 1.0


# --- the demo build: conservation and segment sums ---------------------------------------

def test_demo_every_customer_predicted_once_with_reasons(demo_build):
    counts = demo_build.query("""
        select
            (select count(*) from customer_features) as features,
            (select count(*) from customer_predictions) as predictions,
            (select count(distinct customer_id) from customer_predictions) as distinct_ids,
            (select count(*) from customer_predictions where prediction_status = 'unscored'
                and unscored_reason = 'no purchase before the as-of date') as never_bought,
            (select count(*) from customer_features where not has_purchases) as no_purchases,
            (select count(*) from customer_predictions where prediction_status = 'scored'
                and probability_alive is null) as scored_without_value""").iloc[0]
    assert counts["features"] == counts["predictions"] == counts["distinct_ids"]
    assert counts["never_bought"] == counts["no_purchases"] > 0
    assert counts["scored_without_value"] == 0


def test_demo_segment_expected_revenue_is_the_sum_of_its_customers(demo_build):
    frame = demo_build.query("""
        with memberships as (
            select customer_id, 'rfm' as segmentation_type, rfm_segment as segment from customer_segments
            union all
            select customer_id, 'business', business_segment from customer_segments
            union all
            select customer_id, 'cluster', coalesce(cast(cluster_id as varchar), 'unclassified')
            from customer_segments
        ),
        recomputed as (
            select segmentation_type, segment, sum(predicted_clv_365) as revenue_365,
                   avg(probability_alive) as alive
            from memberships inner join customer_predictions using (customer_id)
            group by 1, 2
        )
        select profiles.segmentation_type, profiles.segment, profiles.expected_revenue_365,
               profiles.mean_probability_alive, recomputed.revenue_365, recomputed.alive,
               cards.expected_revenue_365 as card_revenue_365
        from segment_profiles as profiles
        inner join recomputed using (segmentation_type, segment)
        inner join segment_cards as cards using (segmentation_type, segment)""")
    assert len(frame) == demo_build.scalar("select count(*) from segment_profiles")
    np.testing.assert_allclose(frame["expected_revenue_365"].fillna(-1), frame["revenue_365"].fillna(-1), rtol=1e-9)
    np.testing.assert_allclose(frame["mean_probability_alive"].fillna(-1), frame["alive"].fillna(-1), rtol=1e-9)
    np.testing.assert_allclose(frame["card_revenue_365"].fillna(-1), frame["revenue_365"].fillna(-1), rtol=1e-9)
    per_type = frame.groupby("segmentation_type")["expected_revenue_365"].sum()
    total = demo_build.scalar("select sum(predicted_clv_365) from customer_predictions")
    np.testing.assert_allclose(per_type.to_numpy(), total, rtol=1e-9)


def test_rebuild_reuses_the_fit_and_score_mode_never_refits(tmp_path):
    project = DbtProject(PROJECT_DIR, database=tmp_path / "clv.duckdb", target_path=tmp_path / "target")
    select = ("build", "--select", "+customer_predictions")
    project.dbt(*select, expect_success=True)
    first = project.query("select * from customer_predictions order by customer_id")
    project.dbt(*select, expect_success=True)
    assert project.scalar("select count(*) from clv_models") == 1
    pd.testing.assert_frame_equal(project.query("select * from customer_predictions order by customer_id"), first)
    # Other data (an earlier as-of date) in score mode: scored with the stored fit, no new row.
    project.dbt(*select, vars={"clv_mode": "score", "as_of_date": "2026-06-30"}, expect_success=True)
    assert project.scalar("select count(*) from clv_models") == 1
    assert project.scalar("select max(model_version) from customer_predictions") == 1
    project.dbt(*select, vars={"as_of_date": "2026-06-30"}, expect_success=True)
    assert project.scalar("select count(*) from clv_models") == 2


def test_output_types_do_not_depend_on_the_data():
    """A build with no buyers (every value missing) makes the same column types as one with."""
    from segmentation.clv.dbt import empty_registry

    settings = ClvSettings.from_mapping({})
    nobody = clv_predictions(_synthetic(n=3), empty_registry(), settings)
    data = _synthetic()
    registry = clv_registry_rows(data, settings, None, None)
    somebody = clv_predictions(data, registry, settings)
    assert nobody.dtypes.to_dict() == somebody.dtypes.to_dict()
    assert str(nobody["churn_risk_band"].dtype) == "str" and nobody["churn_risk_band"].isna().all()
    assert registry.dtypes.to_dict() == empty_registry().dtypes.to_dict()
    assert registry["param_s"].dtype == "float64" and registry["param_s"].isna().all()


def test_a_fit_that_does_not_converge_unscores_everyone_with_the_reason(monkeypatch):
    import segmentation.clv.model as clv_model
    from segmentation.clv.model import FitDidNotConverge

    def never_converges(*args, **kwargs):
        raise FitDidNotConverge("the bgnbd fit did not converge")

    monkeypatch.setattr(clv_model, "_fit_with_fallback", never_converges)
    data = _synthetic()
    settings = ClvSettings.from_mapping({})
    registry = clv_registry_rows(data, settings, None, None)
    assert len(registry) == 0
    out = clv_predictions(data, registry, settings)
    assert len(out) == len(data) and (out["prediction_status"] == "unscored").all()
    buyers = data["has_purchases"].to_numpy()
    assert out.loc[buyers, "unscored_reason"].str.contains("did not converge").all()
