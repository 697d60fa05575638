"""Customer screening and the feature transformation.

The transformation of one model input column is deliberately simple so that
the dbt side can re-implement it in SQL from the ``preprocessing`` table:

* numeric column ``f`` with clip bounds ``lo, hi``, centre ``c``, scale ``s``
  and impute value ``m`` (only with ``null_strategy="impute_median"``)::

      x = coalesce(x, m)                      # impute (if configured)
      v = min(max(x, lo), hi)                 # clip (if configured)
      v = sign(v) * log1p(|v|)                # only if log_transform
      z = (v - c) / s

* categorical column ``g`` with kept levels ``L1..Lr`` and weight ``w``: the
  value is mapped to itself if it is a kept level, to ``"__missing__"`` if it
  is null and to ``"__other__"`` otherwise; then one indicator column per
  level in ``L1..Lr, "__other__", "__missing__"`` takes the value
  ``w / sqrt(2)`` if the mapped value equals the level and 0 otherwise.
  Exactly one indicator is non-zero, so two customers with different
  (mapped) levels differ in exactly two indicators by ``w / sqrt(2)`` each:
  their Euclidean distance within the group is
  ``sqrt(2 * (w / sqrt(2))**2) = w``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ._common import MISSING_LEVEL, OTHER_LEVEL, build_frame
from .inputs import InputData
from .settings import ClusteringSettings

__all__ = [
    "Screening",
    "screen_customers",
    "missing_value_reasons",
    "classifiable_rows",
    "fit_preprocessing",
    "impute",
    "transform",
    "preprocessing_frame",
    "category_codes",
    "model_columns",
    "signed_log1p",
    "inverse_signed_log1p",
]


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``, elementwise; defined for negative values."""
    return np.sign(x) * np.log1p(np.abs(x))


def inverse_signed_log1p(y: np.ndarray) -> np.ndarray:
    """Inverse of :func:`signed_log1p`: ``sign(y) * expm1(|y|)``."""
    return np.sign(y) * np.expm1(np.abs(y))


def categorical_column_name(feature: str, level: str) -> str:
    """Model input column name of one level, e.g. ``gender = 'F'``."""
    return f"{feature} = '{level.replace(chr(39), chr(39) * 2)}'"


# ---------------------------------------------------------------------------
# screening
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class Screening:
    """Outcome of the customer / feature screening.

    Attributes
    ----------
    numeric_names, categorical_names : list of str
        Features kept for the model.
    checked_numeric : list of str
        Numeric features whose missing values make a customer unclassified
        (equal to ``numeric_names`` unless the screening stopped early).
    classifiable : ndarray of bool, shape (n_customers,)
    reasons : ndarray of object, shape (n_customers,)
        Reason text for unclassifiable customers, ``None`` otherwise.
    dropped : list of dict
        ``{"feature", "reason"}`` of every dropped feature.
    stop_reason : str or None
        Set when too few customers remain to cluster; then no customer is
        classified and ``reasons`` of classifiable customers is this text.
    """

    numeric_names: list[str]
    categorical_names: list[str]
    checked_numeric: list[str]
    classifiable: np.ndarray
    reasons: np.ndarray
    dropped: list[dict]
    stop_reason: str | None = None


def missing_value_reasons(null: np.ndarray, names: list[str]) -> np.ndarray:
    """Reason text per row, e.g. ``"missing value in: age, monetary"``.

    Parameters
    ----------
    null : ndarray of bool, shape (n_rows, n_features)
    names : list of str, length n_features

    Returns
    -------
    ndarray of object, shape (n_rows,)
        ``None`` for rows without a missing value; the names are listed in
        alphabetical order.
    """
    out = np.full(null.shape[0], None, dtype=object)
    if null.shape[1] == 0 or null.shape[0] == 0:
        return out
    alpha = np.argsort(np.asarray(names, dtype=object), kind="stable")
    # one bit per feature (alphabetical), vectorised over rows
    codes = (null[:, alpha].astype(np.int64) << np.arange(len(names), dtype=np.int64)).sum(axis=1)
    uniq, inverse = np.unique(codes, return_inverse=True)
    texts = np.empty(len(uniq), dtype=object)
    for i, code in enumerate(uniq):  # loop over distinct patterns, not customers
        if code == 0:
            texts[i] = None
        else:
            listed = [names[alpha[b]] for b in range(len(names)) if (int(code) >> b) & 1]
            texts[i] = "missing value in: " + ", ".join(listed)
    return texts[inverse]


def classifiable_rows(X: np.ndarray, names: list[str], null_strategy: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Which customers can be clustered, and why not.

    Parameters
    ----------
    X : ndarray of float64, shape (n, p)
        Used numeric features (NaN = missing or non-finite).
    names : list of str, length p
    null_strategy : {"unclassified", "impute_median"}

    Returns
    -------
    classifiable : ndarray of bool, shape (n,)
    reasons : ndarray of object, shape (n,)
        :func:`missing_value_reasons` (``None`` when classifiable).
    """
    n = X.shape[0]
    if null_strategy == "impute_median":
        return np.ones(n, dtype=bool), np.full(n, None, dtype=object)
    null = np.isnan(X)
    return ~null.any(axis=1), missing_value_reasons(null, names)


def screen_customers(data: InputData, settings: ClusteringSettings) -> Screening:
    """Drop unusable features and find the classifiable customers.

    Order: (1) drop features that are null for every customer ("all null";
    raise if none is left); (2) customers with a missing or non-finite value
    in a remaining numeric feature are unclassifiable (unless
    ``null_strategy="impute_median"``); (3) if fewer than 3 customers are
    classifiable, stop; (4) drop features that are constant on the
    classifiable customers ("constant"; a categorical null counts as a
    value), and numeric features that are near-constant on the clipped
    training sample (:func:`screen_spread`); if nothing is left, stop
    (fewer than 2 distinct points); (5)
    recompute classifiability with the remaining features.

    Parameters
    ----------
    data : InputData
    settings : ClusteringSettings

    Returns
    -------
    Screening

    Raises
    ------
    ValueError
        If every feature is entirely null or missing.
    """
    dropped = list(data.dropped)
    n = data.n
    num = list(data.numeric_names)
    cat = list(data.categorical_names)
    X = data.X
    if n > 0:
        all_null = np.isnan(X).all(axis=0)
        for j, name in enumerate(data.numeric_names):
            if all_null[j]:
                dropped.append({"feature": name, "reason": "all null"})
        num = [f for j, f in enumerate(data.numeric_names) if not all_null[j]]
        for name in data.categorical_names:
            if data.categorical[name].isna().all():
                dropped.append({"feature": name, "reason": "all null"})
        cat = [c for c in data.categorical_names if not data.categorical[c].isna().all()]
        if not num and not cat:
            raise ValueError(
                "no usable feature left: every configured feature is entirely null or "
                f"missing ({', '.join(d['feature'] + ': ' + d['reason'] for d in dropped)})"
            )

    def classify(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        cols = [data.numeric_names.index(f) for f in names]
        return classifiable_rows(X[:, cols], names, settings.null_strategy)

    classifiable, reasons = classify(num)
    n_cls = int(classifiable.sum())
    if n_cls < 3:
        stop = f"too few customers to cluster (n={n_cls}, need at least 3)"
        reasons = np.where(classifiable, stop, reasons)
        return Screening(num, cat, num, classifiable, reasons, dropped, stop)

    keep_num = []
    for f in num:
        col = X[classifiable, data.numeric_names.index(f)]
        if np.nanmin(col) == np.nanmax(col):
            dropped.append({"feature": f, "reason": "constant"})
        else:
            keep_num.append(f)
    keep_cat = []
    for c in cat:
        if data.categorical[c][classifiable].nunique(dropna=False) <= 1:
            dropped.append({"feature": c, "reason": "constant"})
        else:
            keep_cat.append(c)
    keep_num, spread_dropped = screen_spread(
        X[classifiable][:, [data.numeric_names.index(f) for f in keep_num]], keep_num, settings)
    dropped.extend(spread_dropped)
    if not keep_num and not keep_cat:
        stop = (
            f"too few distinct customers to cluster (n={n_cls}, distinct points=1, need at least 2)"
        )
        reasons = np.where(classifiable, stop, reasons)
        return Screening(num, cat, num, classifiable, reasons, dropped, stop)
    classifiable, reasons = classify(keep_num)
    return Screening(keep_num, keep_cat, keep_num, classifiable, reasons, dropped, None)


def training_sample_positions(n_classifiable: int, settings: ClusteringSettings,
                              rng: np.random.Generator | None = None) -> np.ndarray:
    """Positions (sorted) of the training sample among the classifiable customers.

    At most ``settings.effective_training_sample_size`` positions
    (``training_sample_size``, capped at ``slow_method_sample_size`` for
    agglomerative, hdbscan and meanshift) drawn without replacement by
    ``rng`` (default: ``numpy.random.default_rng(random_state)``, the
    generator whose first draw the pipeline uses), all of them otherwise.
    """
    size = settings.effective_training_sample_size
    if n_classifiable <= size:
        return np.arange(n_classifiable)
    if rng is None:
        rng = np.random.default_rng(settings.random_state)
    return np.sort(rng.choice(n_classifiable, size=size, replace=False))


def screen_spread(X: np.ndarray, names: list[str], settings: ClusteringSettings
                  ) -> tuple[list[str], list[dict]]:
    """Drop numeric features that carry (almost) no information.

    The rule runs on the training sample (:func:`training_sample_positions` of
    the rows of ``X``), after clipping at ``clip_quantiles`` and before any
    log or scaling, in the feature's own units: a feature is dropped when
    its standard deviation (ddof=0) is below ``min_relative_spread`` times
    its mean absolute value.  Such a feature would still get full weight
    from a scaler, so k-means would split customers who behave alike on
    tiny, meaningless differences (a cohort whose tenure spans a few weeks).
    A feature that is constant after clipping is always dropped.  Missing
    values are ignored.

    Parameters
    ----------
    X : ndarray of float64, shape (n_classifiable, p)
    names : list of str, length p
    settings : ClusteringSettings

    Returns
    -------
    kept : list of str
    dropped : list of dict
        ``{"feature", "reason"}``; the reason quotes the figures and the var.
    """
    if X.shape[0] == 0 or not names:
        return list(names), []
    S = X[training_sample_positions(X.shape[0], settings)]
    kept, dropped = [], []
    threshold = settings.min_relative_spread
    for j, name in enumerate(names):
        x = S[:, j]
        x = x[~np.isnan(x)]
        if len(x) == 0:
            kept.append(name)
            continue
        if settings.clip_quantiles is not None:
            lo, hi = np.quantile(x, settings.clip_quantiles)
            x = np.clip(x, lo, hi)
        std, level = float(np.std(x)), float(np.mean(np.abs(x)))
        if std == 0.0:
            dropped.append({"feature": name, "reason": "constant on the clipped training sample"})
        elif std < threshold * level:
            dropped.append({"feature": name, "reason": (
                f"near-constant on the clipped training sample: standard deviation "
                f"{format_sig(std)} is {format_sig(100 * std / level)}% of its mean absolute value "
                f"{format_sig(level)} (below var cluster_min_relative_spread = {threshold:g})")})
        else:
            kept.append(name)
    return kept, dropped


def format_sig(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits, for people: no exponent for ordinary
    magnitudes, no ``-0``, thousands not grouped (``1234.5`` -> ``'1230'``, ``-0.0`` -> ``'0'``)."""
    if x is None or not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{round(x, digits - 1 - magnitude):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------
# preprocessing fit / transform
# ---------------------------------------------------------------------------
def _levels_of(values: pd.Series, max_levels: int) -> list[str]:
    counts = values.value_counts(dropna=True)
    table = pd.DataFrame({"level": counts.index.astype(str), "n": counts.to_numpy()})
    table = table.sort_values(["n", "level"], ascending=[False, True], kind="stable")
    return table["level"].head(max_levels).tolist()


def fit_preprocessing(
    X: np.ndarray,
    numeric_names: list[str],
    categorical: dict[str, pd.Series],
    settings: ClusteringSettings,
) -> dict:
    """Fit the transformation on the training sample.

    Parameters
    ----------
    X : ndarray of float64, shape (n_train, n_numeric)
        Numeric features of the training sample (NaN only with
        ``null_strategy="impute_median"``).
    numeric_names : list of str, length n_numeric
    categorical : dict of str to pandas.Series, each shape (n_train,)
        Categorical features of the training sample.
    settings : ClusteringSettings

    Returns
    -------
    dict
        JSON-able parameters: ``numeric`` (list of per-feature dicts with
        ``feature, clip_lower, clip_upper, log, center, scale, impute``),
        ``categorical`` (list of ``feature, levels, weight``) and
        ``null_strategy``.
    """
    numeric = []
    for j, name in enumerate(numeric_names):
        x = X[:, j]
        impute = None
        if settings.null_strategy == "impute_median":
            impute = float(np.nanmedian(x))
            x = np.where(np.isnan(x), impute, x)
        lo = hi = None
        if settings.clip_quantiles is not None:
            lo, hi = (float(q) for q in np.quantile(x, settings.clip_quantiles))
            x = np.clip(x, lo, hi)
        log = name in settings.log_features
        if log:
            x = signed_log1p(x)
        if settings.scaler == "standard":
            center, scale = float(np.mean(x)), float(np.std(x))
        elif settings.scaler == "robust":
            q25, q50, q75 = np.quantile(x, [0.25, 0.5, 0.75])
            center, scale = float(q50), float(q75 - q25)
        else:
            center, scale = float(np.min(x)), float(np.max(x) - np.min(x))
        if np.min(x) == np.max(x):
            center = float(x[0])
        if not (scale > 0.0 and math.isfinite(scale)):
            scale = 1.0
        numeric.append(
            {"feature": name, "clip_lower": lo, "clip_upper": hi, "log": log,
             "center": center, "scale": scale, "impute": impute}
        )
    cats = [
        {"feature": name, "levels": _levels_of(categorical[name], settings.categorical_max_levels),
         "weight": settings.categorical_weight}
        for name in categorical
    ]
    return {"numeric": numeric, "categorical": cats, "null_strategy": settings.null_strategy}


def model_columns(params: dict) -> list[dict]:
    """Describe every model input column (after one-hot), in model order.

    Returns
    -------
    list of dict
        ``{"name", "source", "kind", "level"}`` per column.
    """
    cols = [{"name": p["feature"], "source": p["feature"], "kind": "numeric", "level": None}
            for p in params["numeric"]]
    for c in params["categorical"]:
        for level in [*c["levels"], OTHER_LEVEL, MISSING_LEVEL]:
            cols.append({"name": categorical_column_name(c["feature"], level),
                         "source": c["feature"], "kind": "categorical", "level": level})
    return cols


def category_codes(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Index of each value in ``levels + ["__other__", "__missing__"]``.

    Parameters
    ----------
    values : pandas.Series, shape (n,)
    levels : list of str
        Kept levels.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    codes = pd.Index(levels, dtype=object).get_indexer(values).astype(np.int64)
    codes[codes < 0] = len(levels)  # unseen level -> __other__
    codes[values.isna().to_numpy()] = len(levels) + 1
    return codes


def impute(params: dict, X: np.ndarray) -> np.ndarray:
    """Replace NaN by the stored medians (no-op without imputation).

    Parameters
    ----------
    params : dict
    X : ndarray of float64, shape (n, n_numeric)

    Returns
    -------
    ndarray of float64, shape (n, n_numeric)
    """
    if params["null_strategy"] != "impute_median":
        return X
    med = np.array([p["impute"] for p in params["numeric"]], dtype=np.float64)
    return np.where(np.isnan(X), med, X)


def transform(params: dict, X: np.ndarray, codes: list[np.ndarray]) -> np.ndarray:
    """Apply the fitted transformation (see module docstring).

    Parameters
    ----------
    params : dict
        Output of :func:`fit_preprocessing`.
    X : ndarray of float64, shape (n, n_numeric)
        Numeric features after :func:`impute` (no NaN).
    codes : list of ndarray of int64, each shape (n,)
        :func:`category_codes` per categorical feature.

    Returns
    -------
    ndarray of float64, shape (n, n_model_columns)
    """
    n = X.shape[0]
    blocks = []
    for j, p in enumerate(params["numeric"]):
        v = X[:, j]
        if p["clip_lower"] is not None:
            v = np.clip(v, p["clip_lower"], p["clip_upper"])
        if p["log"]:
            v = signed_log1p(v)
        blocks.append(((v - p["center"]) / p["scale"])[:, None])
    for c, code in zip(params["categorical"], codes):
        onehot = np.zeros((n, len(c["levels"]) + 2), dtype=np.float64)
        onehot[np.arange(n), code] = c["weight"] / math.sqrt(2.0)
        blocks.append(onehot)
    if not blocks:
        return np.zeros((n, 0))
    return np.ascontiguousarray(np.hstack(blocks))


def inverse_numeric(params: dict, Z_numeric: np.ndarray) -> np.ndarray:
    """Map scaled numeric coordinates back to the units of the input columns.

    Inverts the scaling and the signed log; clipping is not inverted (a
    centroid is a mean of clipped values and lies within the bounds).

    Parameters
    ----------
    params : dict
    Z_numeric : ndarray of float64, shape (n, n_numeric)

    Returns
    -------
    ndarray of float64, shape (n, n_numeric)
    """
    out = np.empty_like(Z_numeric, dtype=np.float64)
    for j, p in enumerate(params["numeric"]):
        v = Z_numeric[:, j] * p["scale"] + p["center"]
        out[:, j] = inverse_signed_log1p(v) if p["log"] else v
    return out


def preprocessing_frame(params: dict) -> pd.DataFrame:
    """Long table of the transformation, one row per model input column.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature_name, source_column, kind, level, clip_lower,
        clip_upper, log_transform, center, scale, weight, impute_value``;
        see the module docstring for the formula.
    """
    rows = {k: [] for k in ("feature_name", "source_column", "kind", "level", "clip_lower",
                            "clip_upper", "log_transform", "center", "scale", "weight",
                            "impute_value")}

    def add(**kw):
        for k in rows:
            rows[k].append(kw.get(k))

    for p in params["numeric"]:
        add(feature_name=p["feature"], source_column=p["feature"], kind="numeric",
            clip_lower=p["clip_lower"], clip_upper=p["clip_upper"], log_transform=p["log"],
            center=p["center"], scale=p["scale"], impute_value=p["impute"])
    for col in model_columns(params):
        if col["kind"] != "categorical":
            continue
        weight = next(c["weight"] for c in params["categorical"] if c["feature"] == col["source"])
        add(feature_name=col["name"], source_column=col["source"], kind="categorical",
            level=col["level"], log_transform=False, weight=weight)
    return build_frame(rows, "preprocessing")
