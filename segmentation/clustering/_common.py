"""Shared helpers: canonical JSON, frame (de)serialisation, constants."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: pandas >= 3 has a dedicated string dtype ("str", missing = NaN); older
#: pandas would turn None into the text "None" with astype("str").
PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3

OTHER_LEVEL = "__other__"
MISSING_LEVEL = "__missing__"

#: Column names and dtypes of every output frame (the public contract).
SCHEMAS: dict[str, dict[str, str]] = {
    "assignments": {
        "customer_id": "object",  # keeps the dtype of the input column
        "cluster_id": "Int64",
        "cluster_name": "str",
        "distance_to_centroid": "float64",
        "margin_to_second_centroid": "float64",
        "tree_cluster_id": "Int64",
        "segment_status": "str",
        "unclassified_reason": "str",
        "cluster_probability": "float64",  # gmm: probability of the assigned cluster
    },
    "k_selection": {
        "k": "int64",
        "inertia": "float64",
        "silhouette": "float64",
        "calinski_harabasz": "float64",
        "davies_bouldin": "float64",
        "is_elbow": "bool",
        "is_chosen": "bool",
        "selection_reason": "str",
    },
    "centroids": {
        "cluster_id": "int64",
        "cluster_name": "str",
        "feature_name": "str",
        "scaled_value": "float64",
        "original_value": "float64",
        "population_mean": "float64",
        "population_std": "float64",
        "z_score": "float64",
    },
    "rules": {
        "cluster_id": "int64",
        "leaf_id": "int64",
        "rule_text": "str",
        "rule_sql": "str",
        "rule_conditions": "str",
        "n_customers": "int64",
        "support": "float64",
        "leaf_precision": "float64",
    },
    "lineage": {
        "cluster_id": "Int64",
        "previous_cluster_id": "Int64",
        "status": "str",
        "match_method": "str",
        "shared_customers": "Int64",
        "member_overlap": "float64",
        "centroid_distance": "float64",
    },
    "preprocessing": {
        "feature_name": "str",
        "source_column": "str",
        "kind": "str",
        "level": "str",
        "clip_lower": "float64",
        "clip_upper": "float64",
        "log_transform": "bool",
        "center": "float64",
        "scale": "float64",
        "weight": "float64",
        "impute_value": "float64",
    },
}


def _jsonable(x: Any) -> Any:
    """Convert numpy / pandas scalars and containers to JSON-able values.

    Non-finite floats and missing values become ``None``.
    """
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, str):
        return x
    raise TypeError(f"cannot serialise {type(x).__name__} to JSON")


def dumps(x: Any) -> str:
    """Canonical JSON: sorted keys, compact, exact float round trip, no NaN."""
    return json.dumps(_jsonable(x), sort_keys=True, separators=(",", ":"), allow_nan=False)


def frame_to_json(df: pd.DataFrame) -> str:
    """Serialise an output frame as ``{"columns": [...], "data": [[...], ...]}``."""
    data = [
        [_jsonable(v) for v in row]
        for row in df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
    ]
    return dumps({"columns": list(df.columns), "data": data})


def frame_from_json(text: str, schema: str) -> pd.DataFrame:
    """Inverse of :func:`frame_to_json` for the frame named ``schema``."""
    obj = json.loads(text)
    return build_frame({c: [row[i] for row in obj["data"]] for i, c in enumerate(obj["columns"])}, schema)


def as_text(values: pd.Series) -> pd.Series:
    """Values as strings (``str(v)``), missing values kept missing.

    Parameters
    ----------
    values : pandas.Series, shape (n,)

    Returns
    -------
    pandas.Series, shape (n,)
        ``str`` dtype on pandas >= 3, object dtype otherwise.
    """
    na = values.isna().to_numpy()
    out = np.full(len(values), None, dtype=object)
    out[~na] = values[~na].astype(str).to_numpy(dtype=object)
    ser = pd.Series(out, dtype=object)
    return ser.astype("str") if PANDAS_3 else ser


def build_frame(columns: dict[str, Any], schema: str) -> pd.DataFrame:
    """Build an output frame with exactly the columns and dtypes of ``schema``."""
    return frame_from_spec(columns, SCHEMAS[schema])


def frame_from_spec(columns: Mapping[str, Any], spec: Mapping[str, str]) -> pd.DataFrame:
    """A frame with exactly the columns of ``spec`` (name -> dtype), in its order.

    Missing values become ``None`` in ``str`` columns, ``<NA>`` in ``Int64`` and NaN in
    float columns.
    """
    out = {}
    for name, dtype in spec.items():
        values = columns[name]
        if dtype == "object":
            out[name] = values
        elif dtype in ("str",):
            ser = pd.Series(values, dtype=object)
            ser = ser.where(ser.notna(), None)
            out[name] = ser.astype("str") if PANDAS_3 else ser
        elif dtype in ("Int64",):
            out[name] = pd.array(values, dtype="Int64")
        elif dtype == "bool":
            out[name] = np.asarray(values, dtype=bool)
        elif dtype == "int64":
            out[name] = np.asarray(values, dtype=np.int64)
        else:
            arr = pd.array(values, dtype="Float64").to_numpy(dtype=np.float64, na_value=np.nan) \
                if not isinstance(values, np.ndarray) else values.astype(np.float64)
            out[name] = arr
    df = pd.DataFrame(out)
    return df.reset_index(drop=True)
