"""Explanation tree: fit, compact storage, exact numpy predict, rules as text and SQL.

The tree is a :class:`sklearn.tree.DecisionTreeClassifier` fitted on the
original (unscaled, imputed) numeric features plus 0/1 indicator columns of
the categorical levels, with the k-means ``cluster_id`` as target.

Exactness of ``rule_sql``: scikit-learn converts inputs to float32 and tests
``float32(x) <= threshold`` (threshold is a double).  For a double ``x`` that
is equivalent to ``x < m`` or ``x <= m`` where ``a`` is the largest float32
``<= threshold`` and ``m`` the exact midpoint between ``a`` and the next
float32 up: ``x`` rounds (to nearest, ties to even) to a float32 ``<= a``
exactly when ``x < m``, or ``x == m`` and ``a`` has an even mantissa.  ``m``
is written with ``repr(float(m))``; a repr with more than 15 significant
digits is wrapped as ``CAST('...' AS DOUBLE)`` because DuckDB reads such a
plain literal as a DECIMAL and converts it to DOUBLE inexactly.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from ._common import MISSING_LEVEL, OTHER_LEVEL, build_frame
from .preprocessing import format_sig

__all__ = [
    "tree_matrix",
    "fit_tree",
    "tree_apply",
    "tree_predict",
    "tree_rules",
    "float32_split",
    "sql_double",
    "quote_identifier",
    "quote_literal",
]


def quote_identifier(name: str) -> str:
    """SQL identifier in double quotes, inner ``"`` doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """SQL string literal in single quotes, inner ``'`` doubled."""
    return "'" + value.replace("'", "''") + "'"


def sql_double(x: float) -> str:
    """SQL literal that DuckDB reads as exactly the double ``x``."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write a non-finite threshold as SQL, got {x!r}")
    text = repr(x)
    if "e" in text:  # exponent form is parsed as DOUBLE (correctly rounded)
        return text
    # a plain decimal literal is parsed as DECIMAL; with <= 15 significant digits its
    # conversion to DOUBLE is a single correctly rounded division, hence exact
    digits = text.replace("-", "").replace(".", "").strip("0")
    return text if len(digits) <= 15 else f"CAST('{text}' AS DOUBLE)"


def float32_split(threshold: float) -> tuple[str, str, float]:
    """Exact double-precision form of sklearn's ``float32(x) <= threshold``.

    Parameters
    ----------
    threshold : float

    Returns
    -------
    left_op : {"<", "<="}
        Operator of the left branch (``x left_op m``).
    right_op : {">=", ">"}
        Operator of the right branch, the negation.
    m : float
        Midpoint between the largest float32 ``a <= threshold`` and the next
        float32 up.
    """
    t = float(threshold)
    with np.errstate(over="ignore"):
        a = np.float32(t)
    if float(a) > t:
        a = np.nextafter(a, np.float32(-np.inf))
    up = np.nextafter(a, np.float32(np.inf))
    if np.isinf(up):  # a is the largest float32; rounding to inf starts half an ulp above
        m = float(a) + 2.0**103
    else:
        m = (float(a) + float(up)) / 2.0  # exact in double
    even = int(np.array([a], dtype=np.float32).view(np.uint32)[0]) & 1 == 0
    return ("<=", ">", m) if even else ("<", ">=", m)


def tree_matrix(X: np.ndarray, codes: list[np.ndarray], categorical: list[dict]) -> np.ndarray:
    """Input matrix of the tree: numeric features, then 0/1 level indicators.

    Parameters
    ----------
    X : ndarray of float64, shape (n, p)
        Numeric features in original units, imputed (no NaN).
    codes : list of ndarray of int64, each shape (n,)
    categorical : list of dict
        ``params["categorical"]`` entries.

    Returns
    -------
    ndarray of float64, shape (n, p + sum(n_levels + 2))
    """
    n = X.shape[0]
    blocks = [X]
    for c, code in zip(categorical, codes):
        onehot = np.zeros((n, len(c["levels"]) + 2), dtype=np.float64)
        onehot[np.arange(n), code] = 1.0
        blocks.append(onehot)
    return np.hstack(blocks)


def fit_tree(Xt: np.ndarray, y: np.ndarray, columns: list[str], max_depth: int,
             min_samples_leaf: int, random_state: int) -> dict:
    """Fit the explanation tree and return it in compact, JSON-able form.

    Parameters
    ----------
    Xt : ndarray of float64, shape (n_train, n_tree_columns)
    y : ndarray of int64, shape (n_train,)
        Cluster ids.
    columns : list of str, length n_tree_columns
    max_depth, min_samples_leaf, random_state : int

    Returns
    -------
    dict
        ``columns, children_left, children_right, feature, threshold,
        node_class`` (majority cluster id per node, as sklearn predicts),
        ``n_node_samples, depth, importances``.
    """
    clf = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                 random_state=random_state)
    clf.fit(Xt, y)
    t = clf.tree_
    node_class = clf.classes_[np.argmax(t.value[:, 0, :], axis=1)]
    return {
        "columns": list(columns),
        "children_left": t.children_left.tolist(),
        "children_right": t.children_right.tolist(),
        "feature": t.feature.tolist(),
        "threshold": t.threshold.tolist(),
        "node_class": [int(c) for c in node_class],
        "n_node_samples": t.n_node_samples.tolist(),
        "depth": int(t.max_depth),
        "importances": [float(v) for v in clf.feature_importances_],
    }


def tree_apply(tree: dict, Xt: np.ndarray) -> np.ndarray:
    """Leaf node id of every row, vectorised; identical to sklearn ``apply``.

    Parameters
    ----------
    tree : dict
        Output of :func:`fit_tree`.
    Xt : ndarray of float, shape (n, n_tree_columns)

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    left = np.asarray(tree["children_left"], dtype=np.int64)
    right = np.asarray(tree["children_right"], dtype=np.int64)
    feat = np.maximum(np.asarray(tree["feature"], dtype=np.int64), 0)
    thr = np.asarray(tree["threshold"], dtype=np.float64)
    X32 = np.asarray(Xt, dtype=np.float32)  # sklearn compares float32(x) <= threshold
    n = X32.shape[0]
    rows = np.arange(n)
    node = np.zeros(n, dtype=np.int64)
    for _ in range(tree["depth"]):
        go_left = X32[rows, feat[node]] <= thr[node]  # float32 promoted to double
        nxt = np.where(go_left, left[node], right[node])
        node = np.where(left[node] == -1, node, nxt)
    return node


def tree_predict(tree: dict, Xt: np.ndarray) -> np.ndarray:
    """Cluster id predicted by the stored tree; identical to sklearn ``predict``.

    Parameters
    ----------
    tree : dict
    Xt : ndarray of float, shape (n, n_tree_columns)

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    return np.asarray(tree["node_class"], dtype=np.int64)[tree_apply(tree, Xt)]


# ---------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------
def _fmt(t: float, integer: bool) -> str:
    """A split threshold for people: whole numbers for integer columns, else 3 significant
    digits (0.00045 stays 0.00045, not 0.00), never -0."""
    return str(int(math.floor(t))) if integer else format_sig(t)


def level_text(level: str) -> str:
    if level == MISSING_LEVEL:
        return "(missing)"
    if level == OTHER_LEVEL:
        return "(other)"
    return quote_literal(level)


def _paths(tree: dict) -> dict[int, list[tuple[int, bool, float]]]:
    left, right = tree["children_left"], tree["children_right"]
    out, stack = {}, [(0, [])]
    while stack:
        node, path = stack.pop()
        if left[node] == -1:
            out[node] = path
            continue
        f, t = tree["feature"][node], tree["threshold"][node]
        stack.append((right[node], [*path, (f, False, t)]))
        stack.append((left[node], [*path, (f, True, t)]))
    return out


def _rule(path: list[tuple[int, bool, float]], specs: list[dict], kept: dict[str, list[str]],
          integer: list[bool], sql_ref: dict[str, str],
          impute: dict[str, float | None] | None = None) -> tuple[str, str, list[dict]]:
    """Merge the conditions of one root-to-leaf path into text, SQL and conditions as data.

    The conditions (see :func:`tree_rules`, ``rule_conditions``) say the same as the SQL
    without any dialect: the macro ``cluster_rule_condition_sql`` writes them as SQL for
    the target engine.
    """
    impute = impute or {}
    conds: list[dict] = []
    order: list[str] = []  # source columns in order of first appearance
    num: dict[int, dict[str, float]] = {}
    cat: dict[str, dict] = {}
    for col, is_left, t in path:
        spec = specs[col]
        if spec["source"] not in order:
            order.append(spec["source"])
        if spec["kind"] == "numeric":
            d = num.setdefault(col, {})
            if is_left:
                d["le"] = min(d.get("le", math.inf), t)
            else:
                d["gt"] = max(d.get("gt", -math.inf), t)
        else:
            d = cat.setdefault(spec["source"], {"eq": None, "neq": []})
            if is_left:  # indicator <= 0.5: level does not match
                d["neq"].append(spec["level"])
            else:
                d["eq"] = spec["level"]
    col_of = {specs[c]["source"]: c for c in num}
    texts, sqls = [], []
    for source in order:
        if source in col_of:
            col = col_of[source]
            d, ref = num[col], sql_ref[source]
            for key in ("gt", "le"):
                if key not in d:
                    continue
                lop, rop, m = float32_split(d[key])
                imputed = impute.get(source)
                if key == "le":
                    texts.append(f"{source} <= {_fmt(d[key], integer[col])}")
                    sqls.append(f"{ref} {lop} {sql_double(m)}")
                else:
                    texts.append(f"{source} > {_fmt(d[key], integer[col])}")
                    sqls.append(f"{ref} {rop} {sql_double(m)}")
                conds.append({"column": source, "op": lop if key == "le" else rop,
                              "value": repr(float(m)),
                              "impute": None if imputed is None else repr(float(imputed))})
            continue
        d = cat[source]
        q = quote_identifier(source)
        levels_sql = ", ".join(quote_literal(v) for v in kept[source])
        if d["eq"] is None:  # excluding every level but one is an equality
            left = [v for v in [*kept[source], OTHER_LEVEL, MISSING_LEVEL] if v not in d["neq"]]
            if len(left) == 1:
                d["eq"] = left[0]
        if d["eq"] is not None:
            lv = d["eq"]
            texts.append(f"{source} = {level_text(lv)}")
            if lv == MISSING_LEVEL:
                sqls.append(f"{q} is null")
                conds.append({"column": source, "op": "is_null", "levels": []})
            elif lv == OTHER_LEVEL:
                sqls.append(f"({q} is not null and {q} not in ({levels_sql}))")
                conds.append({"column": source, "op": "not_null_and_not_in", "levels": list(kept[source])})
            else:
                sqls.append(f"{q} = {quote_literal(lv)}")
                conds.append({"column": source, "op": "in", "levels": [lv]})
            continue
        neq = sorted(set(d["neq"]), key=lambda v: (v in (OTHER_LEVEL, MISSING_LEVEL), v))
        if len(neq) == 1:
            texts.append(f"{source} != {level_text(neq[0])}")
        else:
            texts.append(f"{source} not in ({', '.join(level_text(v) for v in neq)})")
        regular = [v for v in neq if v not in (OTHER_LEVEL, MISSING_LEVEL)]
        if len(regular) == 1:
            sqls.append(f"({q} is null or {q} <> {quote_literal(regular[0])})")
        elif regular:
            sqls.append(f"({q} is null or {q} not in ({', '.join(map(quote_literal, regular))}))")
        if regular:
            conds.append({"column": source, "op": "null_or_not_in", "levels": list(regular)})
        if MISSING_LEVEL in neq:
            sqls.append(f"{q} is not null")
            conds.append({"column": source, "op": "is_not_null", "levels": []})
        if OTHER_LEVEL in neq:
            sqls.append(f"({q} is null or {q} in ({levels_sql}))")
            conds.append({"column": source, "op": "null_or_in", "levels": list(kept[source])})
    if not texts:
        return "all customers", "true", []
    return " and ".join(texts), " and ".join(sqls), conds


def tree_rules(tree: dict, specs: list[dict], kept: dict[str, list[str]], Xt: np.ndarray,
               y: np.ndarray, sql_ref: dict[str, str],
               impute: dict[str, float | None] | None = None) -> pd.DataFrame:
    """One rule per leaf of the tree.

    Parameters
    ----------
    tree : dict
        Output of :func:`fit_tree`.
    specs : list of dict
        Per tree column: ``source``, ``kind`` ("numeric"/"categorical"),
        ``level``.
    kept : dict of str to list of str
        Kept levels per categorical feature.
    Xt : ndarray of float64, shape (n_train, n_tree_columns)
        Training sample of the tree (determines integer-valued columns,
        leaf counts and precision).
    y : ndarray of int64, shape (n_train,)
        k-means cluster id of the training rows.
    sql_ref : dict of str to str
        SQL expression of each numeric source column.
    impute : dict of str to float or None, optional
        Impute value of each numeric source column (None: not imputed).

    Returns
    -------
    pandas.DataFrame
        Columns ``cluster_id, leaf_id, rule_text, rule_sql, rule_conditions,
        n_customers, support, leaf_precision``, ordered by cluster_id then leaf_id.
        ``rule_conditions`` is the rule as dialect-free data (JSON list, all must
        hold): ``{"column", "op": "<=" | "<" | ">" | ">=", "value", "impute"}`` for a
        numeric column (values as exact ``repr`` text of the double; with ``impute``,
        a missing or non-finite value counts as the impute value), and ``{"column",
        "op": "in" | "is_null" | "is_not_null" | "null_or_in" | "null_or_not_in" |
        "not_null_and_not_in", "levels"}`` for a categorical one.
    """
    integer = [bool(np.all(Xt[:, j] == np.floor(Xt[:, j]))) for j in range(Xt.shape[1])]
    leaves = tree_apply(tree, Xt)
    node_class = np.asarray(tree["node_class"], dtype=np.int64)
    n_nodes = len(node_class)
    n_at = np.bincount(leaves, minlength=n_nodes)
    hits = np.bincount(leaves[y == node_class[leaves]], minlength=n_nodes)
    rows = []
    for leaf, path in _paths(tree).items():
        text, sql, conds = _rule(path, specs, kept, integer, sql_ref, impute)
        n_leaf = int(tree["n_node_samples"][leaf])
        rows.append((int(node_class[leaf]), int(leaf), text, sql, json.dumps(conds), n_leaf,
                     n_leaf / len(y), float(hits[leaf] / n_at[leaf]) if n_at[leaf] else float("nan")))
    rows.sort(key=lambda r: (r[0], r[1]))
    names = ["cluster_id", "leaf_id", "rule_text", "rule_sql", "rule_conditions", "n_customers",
             "support", "leaf_precision"]
    return build_frame({c: [r[i] for r in rows] for i, c in enumerate(names)}, "rules")
