"""Screening and preprocessing: exact outcomes on small hand-made frames."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from segmentation.clustering import (
    ClusteringSettings,
    score_customers,
    train_segmentation,
    training_fingerprint,
)
from segmentation.clustering.preprocessing import category_codes, fit_preprocessing, transform

BASE = {"optional_features": [], "log_features": [], "n_init": 2, "stability_bootstraps": 0}


def _frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(n)], **cols})


def test_preprocessing_formula_on_five_rows():
    # x: clipped at its 25% / 75% quantiles (2 and 4), standard scaled.
    # y: clipped at 1 and 9 (quantiles of 0, 1, 3, 9, 99), then signed log1p.
    frame = _frame(x=[1.0, 2.0, 3.0, 4.0, 100.0], y=[0.0, 1.0, 3.0, 9.0, 99.0])
    settings = {**BASE, "features": ["x", "y"], "log_features": ["y"],
                "clip_quantiles": [0.25, 0.75], "k_max": 2}
    result = train_segmentation(frame, settings, trained_at="t")
    pre = result.preprocessing.set_index("feature_name")
    assert list(result.preprocessing.columns) == [
        "feature_name", "source_column", "kind", "level", "clip_lower", "clip_upper",
        "log_transform", "center", "scale", "weight", "impute_value"]
    assert (pre.loc["x", "clip_lower"], pre.loc["x", "clip_upper"]) == (2.0, 4.0)
    assert pre.loc["x", "center"] == 3.0 and pre.loc["x", "scale"] == pytest.approx(math.sqrt(0.8))
    assert not pre.loc["x", "log_transform"] and pre.loc["y", "log_transform"]
    assert (pre.loc["y", "clip_lower"], pre.loc["y", "clip_upper"]) == (1.0, 9.0)
    ly = np.log1p([1.0, 1.0, 3.0, 9.0, 9.0])
    assert pre.loc["y", "center"] == pytest.approx(ly.mean())
    assert pre.loc["y", "scale"] == pytest.approx(ly.std())
    assert pre["kind"].tolist() == ["numeric", "numeric"] and pre["level"].isna().all()
    assert pre["weight"].isna().all() and pre["impute_value"].isna().all()

    # The table formula reproduces the distances reported in the assignments.
    z = np.column_stack([
        (np.clip(frame["x"], 2, 4) - pre.loc["x", "center"]) / pre.loc["x", "scale"],
        (np.log1p(np.clip(frame["y"], 1, 9)) - pre.loc["y", "center"]) / pre.loc["y", "scale"],
    ])
    cent = result.centroids.pivot(index="cluster_id", columns="feature_name", values="scaled_value")
    own = cent.loc[result.assignments["cluster_id"].to_numpy(), ["x", "y"]].to_numpy()
    np.testing.assert_allclose(result.assignments["distance_to_centroid"],
                               np.sqrt(((z - own) ** 2).sum(axis=1)), rtol=1e-12)


def test_signed_log_handles_negative_values_and_scalers():
    settings = ClusteringSettings.from_mapping(
        {"features": ["m"], "log_features": ["m"], "clip_quantiles": None, "scaler": "minmax"})
    X = np.array([[-50.0], [0.0], [50.0]])
    params = fit_preprocessing(X, ["m"], {}, settings)
    z = transform(params, X, [])
    np.testing.assert_allclose(z[:, 0], [0.0, 0.5, 1.0])
    p = params["numeric"][0]
    assert p["center"] == pytest.approx(-np.log1p(50)) and p["scale"] == pytest.approx(2 * np.log1p(50))

    robust = ClusteringSettings.from_mapping(
        {"features": ["m"], "log_features": [], "clip_quantiles": None, "scaler": "robust"})
    p = fit_preprocessing(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]), ["m"], {}, robust)["numeric"][0]
    assert (p["center"], p["scale"]) == (3.0, 2.0)


def test_zero_scale_after_clipping_becomes_one():
    settings = ClusteringSettings.from_mapping({"features": ["m"], "log_features": []})
    X = np.array([[0.0]] * 200 + [[5.0]])  # the 99% quantile clips the 5 away
    p = fit_preprocessing(X, ["m"], {}, settings)["numeric"][0]
    assert (p["clip_lower"], p["clip_upper"], p["center"], p["scale"]) == (0.0, 0.0, 0.0, 1.0)


def test_one_hot_levels_and_distance_equals_weight():
    settings = ClusteringSettings.from_mapping(
        {"features": [], "categorical_features": ["g"], "categorical_weight": 2.5,
         "categorical_max_levels": 2})
    values = pd.Series(["A", "B", "C", "A", "C", "B", None, "A"], dtype="str")
    params = fit_preprocessing(np.zeros((8, 0)), [], {"g": values}, settings)
    # A:3, B:2, C:2 -> keep A and B (tie broken by level name)
    assert params["categorical"][0]["levels"] == ["A", "B"]
    test = pd.Series(["A", "B", "C", None, "unseen"], dtype="str")
    codes = category_codes(test, ["A", "B"])
    assert codes.tolist() == [0, 1, 2, 3, 2]  # C and unseen -> __other__, null -> __missing__
    z = transform(params, np.zeros((5, 0)), [codes])
    w = 2.5 / math.sqrt(2)
    np.testing.assert_array_equal(z, w * np.array(
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 1, 0]]))
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
    differ = np.array([[a != b for b in codes] for a in codes])
    np.testing.assert_allclose(d[differ], 2.5, rtol=1e-15)
    assert (d[~differ] == 0).all()


def test_one_hot_rows_in_preprocessing_table():
    frame = _frame(x=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                   g=["F", "M", "F", None, "F", "M"])
    result = train_segmentation(frame, {**BASE, "features": ["x"], "categorical_features": ["g"],
                                        "categorical_weight": 0.5, "k_max": 2}, trained_at="t")
    cat = result.preprocessing[result.preprocessing["kind"] == "categorical"]
    assert cat["feature_name"].tolist() == ["g = 'F'", "g = 'M'", "g = '__other__'", "g = '__missing__'"]
    assert cat["level"].tolist() == ["F", "M", "__other__", "__missing__"]
    assert (cat["source_column"] == "g").all() and (cat["weight"] == 0.5).all()
    assert cat[["clip_lower", "center", "scale", "impute_value"]].isna().all().all()


def test_null_and_infinite_values_make_customers_unclassified_with_reason():
    frame = _frame(recency_days=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                   monetary=[10.0, np.nan, 30.0, 40.0, 50.0, np.inf],
                   age=[20.0, np.nan, 40.0, np.nan, 60.0, 30.0])
    settings = {**BASE, "features": ["recency_days", "monetary", "age"], "k_max": 2}
    result = train_segmentation(frame, settings, trained_at="t")
    a = result.assignments.set_index("customer_id")
    assert a.loc["c01", "unclassified_reason"] == "missing value in: age, monetary"
    assert a.loc["c03", "unclassified_reason"] == "missing value in: age"
    assert a.loc["c05", "unclassified_reason"] == "missing value in: monetary"
    assert a["segment_status"].tolist() == ["classified", "unclassified", "classified",
                                            "unclassified", "classified", "unclassified"]
    assert a.loc[a["segment_status"] == "unclassified", "cluster_id"].isna().all()
    assert a.loc[a["segment_status"] == "classified", "unclassified_reason"].isna().all()
    row = result.registry_row
    assert (row["n_customers"], row["n_classified"], row["n_unclassified"]) == (6, 3, 3)
    pd.testing.assert_frame_equal(score_customers(frame, row), result.assignments)


def test_impute_median_classifies_everyone_and_records_medians():
    frame = _frame(x=[1.0, 2.0, np.nan, 4.0, 10.0, np.inf], y=[5.0, 1.0, 2.0, np.nan, 3.0, 4.0])
    settings = {**BASE, "features": ["x", "y"], "null_strategy": "impute_median",
                "clip_quantiles": None, "k_max": 2}
    result = train_segmentation(frame, settings, trained_at="t")
    assert (result.assignments["segment_status"] == "classified").all()
    pre = result.preprocessing.set_index("feature_name")
    assert pre.loc["x", "impute_value"] == 3.0 and pre.loc["y", "impute_value"] == 3.0
    params = json.loads(result.registry_row["params_json"])
    assert params["preprocessing"]["numeric"][0]["impute"] == 3.0
    pd.testing.assert_frame_equal(score_customers(frame, result.registry_row), result.assignments)


def test_constant_and_all_null_features_are_dropped_with_reason():
    frame = _frame(x=[1.0, 2.0, 3.0, 4.0, 9.0], c=[7.0] * 5, n=[np.nan] * 5,
                   g=["a"] * 5)
    settings = {**BASE, "features": ["x", "c", "n"], "categorical_features": ["g"], "k_max": 2}
    result = train_segmentation(frame, settings, trained_at="t")
    dropped = json.loads(result.registry_row["dropped_features_json"])
    assert dropped == [{"feature": "n", "reason": "all null"},
                       {"feature": "c", "reason": "constant"},
                       {"feature": "g", "reason": "constant"}]
    assert result.preprocessing["feature_name"].tolist() == ["x"]
    notes = json.loads(result.registry_row["notes_json"])
    assert "feature 'n' dropped: all null" in notes and "feature 'c' dropped: constant" in notes


def test_constant_on_classifiable_customers_only_is_dropped_and_nobody_lost():
    # c is 7 or null: constant on the customers without nulls -> dropped, after
    # which the customers with a null c are classifiable again.
    frame = _frame(x=[1.0, 2.0, 3.0, 4.0, 9.0], c=[7.0, np.nan, 7.0, 7.0, np.nan])
    result = train_segmentation(frame, {**BASE, "features": ["x", "c"], "k_max": 2}, trained_at="t")
    assert json.loads(result.registry_row["dropped_features_json"]) == [
        {"feature": "c", "reason": "constant"}]
    assert (result.assignments["segment_status"] == "classified").all()


def test_no_usable_feature_raises():
    frame = _frame(x=[np.nan] * 4, y=[np.nan] * 4)
    with pytest.raises(ValueError, match=r"no usable feature left: .*x: all null, y: all null"):
        train_segmentation(frame, {**BASE, "features": ["x", "y"]}, trained_at="t")


def test_missing_columns():
    frame = _frame(recency_days=[1.0, 2.0, 3.0, 4.0], frequency=[1, 2, 3, 4],
                   monetary=[1.0, 5.0, 2.0, 3.0], tenure_days=[5, 6, 7, 9])
    # optional "age" is missing: dropped with a note
    result = train_segmentation(frame, {"n_init": 2, "stability_bootstraps": 0}, trained_at="t")
    assert {"feature": "age", "reason": "missing from input"} in json.loads(
        result.registry_row["dropped_features_json"])
    assert "feature 'age' dropped: missing from input" in json.loads(result.registry_row["notes_json"])
    # a required one is an error naming it and the available columns
    with pytest.raises(ValueError, match=re.escape(
            "feature column 'tenure_days' is missing from the input frame; available columns: "
            "customer_id, recency_days, frequency, monetary")):
        train_segmentation(frame.drop(columns="tenure_days"), {}, trained_at="t")


def test_input_frame_validation():
    frame = _frame(x=[1.0, 2.0, 3.0], y=[1.0, 5.0, 2.0])
    s = {**BASE, "features": ["x", "y"]}
    dup = frame.assign(customer_id=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"customer_id must be unique; 1 duplicate row\(s\), e\.g\. customer_id='a'"):
        train_segmentation(dup, s)
    with pytest.raises(ValueError, match="no 'customer_id' column"):
        train_segmentation(frame.drop(columns="customer_id"), s)
    with pytest.raises(ValueError, match="numeric feature 'y' must be numeric"):
        train_segmentation(frame.assign(y=["a", "b", "c"]), s)
    with pytest.raises(ValueError, match="customer_id must not be null"):
        train_segmentation(frame.assign(customer_id=["a", None, "c"]), s)


def test_fingerprint_is_order_invariant_and_sensitive():
    rng = np.random.default_rng(0)
    frame = _frame(x=rng.normal(size=50), y=rng.integers(0, 9, 50).astype(float),
                   g=rng.choice(["a", "b", None], 50))
    s = {"features": ["x", "y"], "categorical_features": ["g"]}
    fp = training_fingerprint(frame, s)
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    assert training_fingerprint(shuffled, s) == fp
    assert training_fingerprint(frame.assign(extra=1), s) == fp  # unused columns ignored
    changed = frame.copy()
    changed.loc[3, "x"] += 1e-9
    assert training_fingerprint(changed, s) != fp
    assert training_fingerprint(frame, {**s, "k_max": 5}) != fp
    assert training_fingerprint(frame.assign(g=frame["g"].fillna("a")), s) != fp
