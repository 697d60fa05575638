"""Explanation tree: exact numpy predict, exact SQL thresholds, rules evaluated in DuckDB."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

from segmentation.clustering import train_segmentation
from segmentation.clustering._common import as_text
from segmentation.clustering.explain import (
    fit_tree,
    float32_split,
    sql_double,
    tree_apply,
    tree_matrix,
    tree_predict,
    tree_rules,
)
from segmentation.clustering.preprocessing import category_codes, impute


def _neighbours(t: float) -> np.ndarray:
    """Doubles around a split threshold, including the exact float32 rounding midpoint."""
    _, _, m = float32_split(t)
    a = np.float32(t)
    vals = [t, m, np.nextafter(m, -np.inf), np.nextafter(m, np.inf), float(a),
            float(np.nextafter(a, np.float32(np.inf))), float(np.nextafter(a, np.float32(-np.inf))),
            np.floor(t), np.ceil(t), np.nextafter(t, -np.inf), np.nextafter(t, np.inf)]
    return np.asarray(vals, dtype=np.float64)


def test_float32_split_agrees_with_float32_rounding():
    rng = np.random.default_rng(0)
    f32 = (rng.standard_normal(3000) * 10.0 ** rng.integers(-6, 8, 3000)).astype(np.float32)
    nxt = np.nextafter(f32, np.float32(np.inf))
    thresholds = np.concatenate([
        f32.astype(np.float64),                                      # float32 values
        f32.astype(np.float64) / 2 + nxt.astype(np.float64) / 2,     # sklearn-style midpoints
        rng.standard_normal(3000) * 10.0 ** rng.integers(-6, 8, 3000),  # arbitrary doubles
        np.arange(-50, 50) + 0.5,
    ])
    for t in thresholds:
        op, rop, m = float32_split(t)
        x = np.concatenate([_neighbours(t), t + rng.standard_normal(8) * abs(t) * 1e-7])
        sk = x.astype(np.float32) <= t
        mine = x < m if op == "<" else x <= m
        assert (sk == mine).all(), (t, x[sk != mine])
        right = x >= m if rop == ">=" else x > m
        assert (right == ~mine).all()


def test_sql_double_literals_are_read_exactly_by_duckdb():
    rng = np.random.default_rng(1)
    a = (rng.standard_normal(600) * 10.0 ** rng.integers(-9, 12, 600)).astype(np.float32)
    mids = np.array([float32_split(float(v))[2] for v in a] + [4.5, 0.1, 1e-7, 123456.0])
    got = duckdb.sql("select " + ", ".join(f"({sql_double(v)})::double" for v in mids)).fetchone()
    assert list(got) == mids.tolist()
    assert sql_double(30.5) == "30.5"
    assert sql_double(512.4000244140625) == "CAST('512.4000244140625' AS DOUBLE)"


def test_numpy_predict_from_params_equals_sklearn_on_threshold_values():
    rng = np.random.default_rng(2)
    n = 3000
    X = np.column_stack([rng.integers(0, 365, n), rng.poisson(3, n), np.round(rng.lognormal(4, 1, n), 2),
                         rng.normal(0, 1, n), rng.integers(0, 2, n)]).astype(np.float64)
    y = (X[:, 0] > 100).astype(int) + 2 * (X[:, 2] > 60) + (X[:, 3] > 0.3) * (X[:, 4] == 1) + 1
    cols = ["a", "b", "c", "d", "e"]
    tree = fit_tree(X, y, cols, max_depth=6, min_samples_leaf=5, random_state=3)
    clf = DecisionTreeClassifier(max_depth=6, min_samples_leaf=5, random_state=3).fit(X, y)
    np.testing.assert_array_equal(tree["threshold"], clf.tree_.threshold)
    np.testing.assert_array_equal(tree["feature"], clf.tree_.feature)
    # 10,000 evaluation rows: random rows whose split feature is set to values at and around
    # every threshold (incl. the float32 rounding midpoints)
    internal = [i for i, f in enumerate(tree["feature"]) if f >= 0]
    rows = []
    for node in internal:
        vals = _neighbours(tree["threshold"][node])
        base = X[rng.integers(0, n, len(vals))].copy()
        base[:, tree["feature"][node]] = vals
        rows.append(base)
    special = np.vstack(rows)
    random_rows = X[rng.integers(0, n, 10000 - len(special))] + np.where(
        rng.random((10000 - len(special), 5)) < 0.5, 0.0, rng.normal(0, 0.01, (10000 - len(special), 5)))
    evaluation = np.vstack([special, random_rows])
    assert evaluation.shape == (10000, 5) and len(special) > 100
    np.testing.assert_array_equal(tree_predict(tree, evaluation), clf.predict(evaluation))
    np.testing.assert_array_equal(tree_apply(tree, evaluation), clf.apply(evaluation))


def _rules_1d(x: np.ndarray, y: np.ndarray, name: str = "x") -> pd.DataFrame:
    X = x[:, None].astype(np.float64)
    tree = fit_tree(X, y, [name], max_depth=3, min_samples_leaf=1, random_state=0)
    specs = [{"source": name, "kind": "numeric", "level": None}]
    return tree_rules(tree, specs, {}, X, y, {name: '"' + name.replace('"', '""') + '"'})


def test_rule_text_merges_conditions_and_formats_numbers():
    y = np.array([1, 1, 1, 2, 2, 2, 1, 1, 1, 1])
    rules = _rules_1d(np.arange(10), y)
    assert rules["rule_text"].tolist() == ["x <= 2", "x > 5", "x > 2 and x <= 5"]
    assert rules["cluster_id"].tolist() == [1, 1, 2]
    assert rules["n_customers"].tolist() == [3, 4, 3]
    np.testing.assert_allclose(rules["support"], [0.3, 0.4, 0.3])
    assert (rules["leaf_precision"] == 1.0).all()
    # 2.5 + half a float32 ulp (2**-23); 2.5 has an even float32 mantissa, hence "<="
    assert rules["rule_sql"].tolist()[0] == "\"x\" <= CAST('2.5000001192092896' AS DOUBLE)"
    decimals = _rules_1d(np.arange(10) / 10, y)
    assert decimals["rule_text"].tolist() == ["x <= 0.25", "x > 0.55", "x > 0.25 and x <= 0.55"]
    quoted = _rules_1d(np.arange(10), y, name='we"ird')
    assert quoted["rule_sql"].str.startswith('"we""ird"').all()


def _integer_customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pd.DataFrame({
        "customer_id": [f"k{i:05d}" for i in range(n)],
        "recency_days": rng.integers(0, 60, n) + group * 90,
        "frequency": rng.poisson(2 + 4 * (group == 1), n),
        "monetary": np.round(rng.lognormal(3 + group * 0.7, 0.4, n), 2),
        "it's \"odd\"": rng.integers(0, 5, n),
        "gender": np.where(rng.random(n) < 0.1, None,
                           np.where(group == 2, "F", rng.choice(["M", "X", "O'Neil"], n))),
    })


def _check_rules_in_duckdb(frame: pd.DataFrame, numeric: list[str], settings: dict) -> pd.DataFrame:
    """Evaluate every rule_sql in DuckDB on the customers plus threshold-neighbour rows."""
    result = train_segmentation(frame, settings, trained_at="t")
    params = json.loads(result.registry_row["params_json"])
    tree, pre = params["tree"], params["preprocessing"]
    assert len(result.rules) >= 4

    rng = np.random.default_rng(5)
    extra = []
    for node, f in enumerate(tree["feature"]):
        if f < 0 or f >= len(numeric):
            continue
        vals = _neighbours(tree["threshold"][node])
        rows = frame.iloc[rng.integers(0, len(frame), len(vals))].copy()
        rows[numeric[f]] = vals
        extra.append(rows)
    evaluation = pd.concat([frame, *extra], ignore_index=True)
    evaluation[numeric] = evaluation[numeric].astype(np.float64)
    evaluation["customer_id"] = [f"e{i:06d}" for i in range(len(evaluation))]
    X = evaluation[numeric].to_numpy(dtype=np.float64)
    unclassified = settings.get("null_strategy", "unclassified") == "unclassified"
    keep = ~np.isnan(X).any(axis=1) if unclassified else np.ones(len(X), bool)
    evaluation, X = evaluation[keep].reset_index(drop=True), impute(pre, X[keep])
    codes = [category_codes(as_text(evaluation[c["feature"]]), c["levels"])
             for c in pre["categorical"]]
    expected_leaf = tree_apply(tree, tree_matrix(X, codes, pre["categorical"]))

    cases = " ".join(f"when {sql} then {leaf}" for sql, leaf in zip(result.rules["rule_sql"],
                                                                    result.rules["leaf_id"]))
    counts = " + ".join(f"({sql})::int" for sql in result.rules["rule_sql"])
    con = duckdb.connect()
    con.register("evaluation", evaluation)
    got = con.sql(f"select customer_id, case {cases} end as leaf, {counts} as n_rules "
                  "from evaluation order by customer_id").df()
    assert (got["n_rules"] == 1).all()  # the rules partition the customers
    np.testing.assert_array_equal(got["leaf"].to_numpy(), expected_leaf)

    # on the training customers the rule's cluster is tree_cluster_id
    leaf_cluster = dict(zip(result.rules["leaf_id"], result.rules["cluster_id"]))
    in_frame = keep[: len(frame)]
    by_id = pd.Series([leaf_cluster[v] for v in expected_leaf[: int(in_frame.sum())]],
                      index=frame.loc[in_frame, "customer_id"].to_numpy())
    a = result.assignments.set_index("customer_id")
    classified = a[a["segment_status"] == "classified"]
    assert set(classified.index) == set(by_id.index)
    assert (by_id.loc[classified.index].to_numpy() == classified["tree_cluster_id"].to_numpy()).all()
    fidelity = (classified["tree_cluster_id"] == classified["cluster_id"]).mean()
    assert fidelity == pytest.approx(result.registry_row["tree_fidelity"])
    return result.rules


@pytest.mark.parametrize("null_strategy", ["unclassified", "impute_median"])
def test_rule_sql_in_duckdb_selects_the_same_leaf_as_the_tree(null_strategy):
    frame = _integer_customers(1500, seed=4)
    frame.loc[::37, "recency_days"] = None
    numeric = ["recency_days", "frequency", "monetary", "it's \"odd\""]
    settings = {"features": numeric, "log_features": ["monetary"], "categorical_features": ["gender"],
                "categorical_max_levels": 2, "n_clusters": 4, "n_init": 2, "stability_bootstraps": 0,
                "tree_max_depth": 5, "tree_min_samples_leaf": 5, "null_strategy": null_strategy}
    rules = _check_rules_in_duckdb(frame, numeric, settings)
    assert rules["rule_sql"].str.contains('"it\'s ""odd"""', regex=False).any()
    if null_strategy == "impute_median":
        assert rules["rule_sql"].str.contains("coalesce").all()


def test_categorical_rules_in_duckdb():
    rng = np.random.default_rng(6)
    n = 1200
    gender = rng.choice(["F", "M", "O'Neil", "Z", "Y"], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]).astype(object)
    gender[rng.random(n) < 0.15] = None
    frame = pd.DataFrame({"customer_id": [f"g{i:05d}" for i in range(n)],
                          "frequency": rng.integers(0, 3, n), "gender": gender})
    settings = {"features": ["frequency"], "log_features": [], "categorical_features": ["gender"],
                "categorical_max_levels": 3, "categorical_weight": 4.0, "n_clusters": 5,
                "n_init": 2, "stability_bootstraps": 0, "tree_min_samples_leaf": 5}
    rules = _check_rules_in_duckdb(frame, ["frequency"], settings)
    sql = " ".join(rules["rule_sql"])
    text = " ".join(rules["rule_text"])
    assert '"gender" is null' in sql or '"gender" is not null' in sql
    assert "'O''Neil'" in sql and "gender" in text
