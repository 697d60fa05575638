"""Validation and extraction of the customer-level input frame."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import as_text

__all__ = ["InputData", "prepare_input"]

ID_COLUMN = "customer_id"


@dataclasses.dataclass
class InputData:
    """Customer data sorted by ``customer_id``.

    Attributes
    ----------
    customer_id : pandas.Series, shape (n_customers,)
        Sorted ids (dtype of the input column), index ``0..n-1``.
    numeric_names : list of str
        Numeric features present in the frame, in settings order.
    X : ndarray of float64, shape (n_customers, n_numeric)
        Numeric values; missing and non-finite values are NaN.
    categorical_names : list of str
        Categorical features present in the frame, in settings order.
    categorical : dict of str to pandas.Series, each shape (n_customers,)
        String values (``str`` dtype), missing values are NA.
    dropped : list of dict
        ``{"feature": name, "reason": "missing from input"}`` for optional
        features absent from the frame.
    """

    customer_id: pd.Series
    numeric_names: list[str]
    X: np.ndarray
    categorical_names: list[str]
    categorical: dict[str, pd.Series]
    dropped: list[dict]

    @property
    def n(self) -> int:
        return len(self.customer_id)


def prepare_input(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    optional: Sequence[str] = (),
) -> InputData:
    """Validate ``frame`` and extract the features, sorted by ``customer_id``.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_customers, n_columns)
        One row per customer with a ``customer_id`` column.
    numeric, categorical : sequence of str
        Requested numeric and categorical feature columns.
    optional : sequence of str
        Features that may be absent from ``frame`` (they are reported in
        ``dropped`` instead).

    Returns
    -------
    InputData

    Raises
    ------
    ValueError
        If ``frame`` is not a DataFrame, lacks ``customer_id``, has missing or
        duplicate ids, lacks a required feature, or a numeric feature is not
        numeric.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    columns = [str(c) for c in frame.columns]
    if ID_COLUMN not in frame.columns:
        raise ValueError(
            f"frame has no '{ID_COLUMN}' column; available columns: {', '.join(columns) or '(none)'}"
        )
    ids = frame[ID_COLUMN]
    if isinstance(ids, pd.DataFrame):
        raise ValueError(f"frame has more than one '{ID_COLUMN}' column")
    if ids.isna().any():
        raise ValueError(
            f"customer_id must not be null; {int(ids.isna().sum())} row(s) have a null customer_id"
        )
    dup = ids.duplicated()
    if dup.any():
        example = ids[dup].iloc[0]
        raise ValueError(
            f"customer_id must be unique; {int(dup.sum())} duplicate row(s), e.g. customer_id={example!r}"
        )
    try:
        order = ids.argsort(kind="stable").to_numpy()
    except TypeError as exc:  # mixed, unorderable types
        raise ValueError(f"customer_id values cannot be sorted: {exc}") from exc

    dropped: list[dict] = []
    present_num, present_cat = [], []
    for names, present in ((numeric, present_num), (categorical, present_cat)):
        for name in names:
            if name in frame.columns:
                present.append(name)
            elif name in optional:
                dropped.append({"feature": name, "reason": "missing from input"})
            else:
                raise ValueError(
                    f"feature column '{name}' is missing from the input frame; "
                    f"available columns: {', '.join(columns)}"
                )

    X = np.empty((len(frame), len(present_num)), dtype=np.float64)
    for j, name in enumerate(present_num):
        col = frame[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            try:
                col = pd.to_numeric(col)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"numeric feature '{name}' must be numeric, got dtype {frame[name].dtype}"
                ) from exc
        X[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)[order]
    X[~np.isfinite(X)] = np.nan

    cats = {}
    for name in present_cat:
        cats[name] = as_text(frame[name].take(order).reset_index(drop=True))

    return InputData(
        customer_id=ids.take(order).reset_index(drop=True),
        numeric_names=present_num,
        X=X,
        categorical_names=present_cat,
        categorical=cats,
        dropped=dropped,
    )
