"""Validated settings for the customer segmentation (from dbt vars).

The dbt project passes its settings as a plain, JSON-decoded mapping
(``var('segmentation')``).  :meth:`ClusteringSettings.from_mapping` turns that
mapping into an immutable, validated :class:`ClusteringSettings`.  Every
problem raises :class:`ValueError` naming the key, the offending value and
what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ClusteringSettings", "VAR_NAMES"]

DEFAULT_FEATURES = ("recency_days", "frequency", "monetary", "tenure_days", "age")
DEFAULT_OPTIONAL_FEATURES = ("age",)
DEFAULT_LOG_FEATURES = ("frequency", "monetary")
SCALERS = ("minmax", "robust", "standard")
#: The dbt var that sets each setting (python_models/clustering/_clustering__models.yml passes
#: them in); every validation message names both, so a dbt user reads the var they wrote.
VAR_NAMES: dict[str, str] = {
    "features": "cluster_features",
    "optional_features": "cluster_optional_features",
    "categorical_features": "cluster_categorical_features",
    "log_features": "cluster_log_features",
    "clip_quantiles": "cluster_clip_quantiles",
    "scaler": "cluster_scaler",
    "categorical_weight": "cluster_categorical_weight",
    "categorical_max_levels": "cluster_categorical_max_levels",
    "null_strategy": "cluster_null_strategy",
    "k_min": "cluster_k_min",
    "k_max": "cluster_k_max",
    "n_clusters": "n_clusters",
    "n_init": "cluster_n_init",
    "max_iter": "cluster_max_iter",
    "random_state": "random_state",
    "training_sample_size": "training_sample_size",
    "silhouette_sample_size": "silhouette_sample_size",
    "tree_max_depth": "tree_max_depth",
    "tree_min_samples_leaf": "tree_min_samples_leaf",
    "stability_bootstraps": "stability_bootstraps",
    "new_cluster_max_distance": "new_cluster_max_distance",
    "min_relative_spread": "cluster_min_relative_spread",
    "recent_max_days": "cluster_name_recent_max_days",
    "lapsed_min_days": "cluster_name_lapsed_min_days",
    "new_max_days": "cluster_name_new_max_days",
    "long_standing_min_days": "cluster_name_long_standing_min_days",
    "match_min_overlap": "cluster_match_min_overlap",
}


def _label(key: str) -> str:
    """``key`` as messages show it: the setting and the dbt var that sets it."""
    var = VAR_NAMES.get(key)
    return key if var is None or var == key else f"{key} (var {var})"

NULL_STRATEGIES = ("impute_median", "unclassified")


@dataclasses.dataclass(frozen=True)
class ClusteringSettings:
    """Settings of one segmentation training run.

    Construct it with :meth:`from_mapping` (dbt vars) or directly with keyword
    arguments; both paths validate.  List-valued settings are stored as tuples
    so that the object is truly immutable; :meth:`to_dict` returns lists.

    Parameters
    ----------
    features : sequence of str
        Numeric feature columns.
    optional_features : sequence of str or None
        Features that may be missing from the input frame; such a feature is
        dropped with a note instead of raising.  ``None`` (the default) means
        ``("age",)`` restricted to the configured features.  An explicitly
        given list must only name configured features.
    categorical_features : sequence of str
        Categorical columns, one-hot encoded with weight ``categorical_weight``.
    log_features : sequence of str or None
        Numeric features transformed with the signed ``log1p``
        ``sign(x) * log1p(|x|)`` after clipping.  ``None`` (the default) means
        ``("frequency", "monetary")`` restricted to the configured features.
        An explicitly given list must be a subset of ``features``.
    clip_quantiles : pair of float or None
        ``(lower, upper)`` quantiles, ``0 <= lower < upper <= 1``, of the
        training sample used as clip bounds; ``None`` disables clipping.
    scaler : {"standard", "robust", "minmax"}
        ``standard``: mean / standard deviation (ddof=0); ``robust``: median /
        inter-quartile range; ``minmax``: minimum / range.  A zero scale is
        replaced by 1.0.
    categorical_weight : float
        Distance between two customers that differ in one categorical feature.
    categorical_max_levels : int
        Number of most frequent levels kept per categorical feature.
    null_strategy : {"unclassified", "impute_median"}
        What to do with a customer who has a missing (or non-finite) numeric
        feature value.
    k_min, k_max : int
        Range of the number of clusters tried by the automatic selection.
    n_clusters : int or None
        Fixed number of clusters (overrides the automatic selection).
    n_init, max_iter, random_state : int
        Passed to :class:`sklearn.cluster.KMeans`; ``random_state`` seeds all
        randomness of a run.
    training_sample_size : int
        Maximum number of classifiable customers used for fitting.
    silhouette_sample_size : int
        Sample size for the silhouette score.
    tree_max_depth, tree_min_samples_leaf : int
        Explanation tree settings.
    stability_bootstraps : int
        Number of bootstrap refits for the stability score (0 disables it).
    new_cluster_max_distance : float
        Fallback matching only (when the previous model cannot score the
        current customers): maximum distance between a centroid and its
        matched previous centroid, both in original units divided by the
        population standard deviation of each feature, for the cluster to
        keep the previous id.
    min_relative_spread : float
        Feature screening: a numeric feature whose standard deviation on the
        clipped training sample is below this share of its mean absolute
        value (or that is constant) is dropped, reason recorded.  0 keeps
        every non-constant feature.
    recent_max_days, lapsed_min_days : float
        Cluster names: "recent" needs a cluster median ``recency_days`` of at
        most ``recent_max_days``, "lapsed" at least ``lapsed_min_days``;
        between the two the word is "lapsing".
    new_max_days, long_standing_min_days : float
        Cluster names: "new" needs a cluster median ``tenure_days`` of at
        most ``new_max_days``, "long-standing" at least
        ``long_standing_min_days``; between the two tenure gives no word.
    match_min_overlap : float
        Stable ids: a new cluster keeps a previous cluster's id when, on the
        customers both models score, at least this share of the previous
        cluster's members and of the new cluster's members are shared.
    """

    features: tuple[str, ...] = DEFAULT_FEATURES
    optional_features: tuple[str, ...] | None = None
    categorical_features: tuple[str, ...] = ()
    log_features: tuple[str, ...] | None = None
    clip_quantiles: tuple[float, float] | None = (0.01, 0.99)
    scaler: str = "standard"
    categorical_weight: float = 1.0
    categorical_max_levels: int = 10
    null_strategy: str = "unclassified"
    k_min: int = 2
    k_max: int = 10
    n_clusters: int | None = None
    n_init: int = 10
    random_state: int = 42
    max_iter: int = 300
    training_sample_size: int = 50000
    silhouette_sample_size: int = 5000
    tree_max_depth: int = 4
    tree_min_samples_leaf: int = 20
    stability_bootstraps: int = 5
    new_cluster_max_distance: float = 1.0
    min_relative_spread: float = 0.1
    recent_max_days: float = 90.0
    lapsed_min_days: float = 180.0
    new_max_days: float = 90.0
    long_standing_min_days: float = 365.0
    match_min_overlap: float = 0.6

    def __post_init__(self) -> None:
        for name, value in _validated(self).items():
            object.__setattr__(self, name, value)

    @classmethod
    def allowed_keys(cls) -> tuple[str, ...]:
        """Names of all settings, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> ClusteringSettings:
        """Validate a mapping (e.g. JSON-decoded dbt vars) and fill defaults.

        Parameters
        ----------
        mapping : mapping of str to JSON-like values, or None
            Settings to override; missing keys take their defaults.

        Returns
        -------
        ClusteringSettings

        Raises
        ------
        ValueError
            If a key is unknown (the message lists the allowed keys) or a
            value is out of range (the message names key, value and what is
            allowed).
        """
        if mapping is None:
            mapping = {}
        if isinstance(mapping, ClusteringSettings):
            return mapping
        if not isinstance(mapping, Mapping):
            raise ValueError(
                f"settings must be a mapping of setting name to value, got {type(mapping).__name__}"
            )
        allowed = cls.allowed_keys()
        unknown = sorted(str(k) for k in mapping if k not in allowed)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(repr(k) for k in unknown)}; "
                f"allowed keys are: {', '.join(allowed)}"
            )
        return cls(**dict(mapping))

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict of all settings (lists, not tuples)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, compact separators) of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    def config_hash(self) -> str:
        """First 16 hex characters of the sha256 of :meth:`to_json`."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
def _validated(s: ClusteringSettings) -> dict[str, Any]:
    """Return the normalised field values of ``s`` or raise ValueError."""
    v: dict[str, Any] = {}
    v["features"] = _str_list("features", s.features, allow_empty=True)
    v["categorical_features"] = _str_list(
        "categorical_features", s.categorical_features, allow_empty=True
    )
    if not v["features"] and not v["categorical_features"]:
        raise ValueError(
            "features (var cluster_features) and categorical_features (var "
            "cluster_categorical_features) are both empty; at least one feature is required"
        )
    overlap = sorted(set(v["features"]) & set(v["categorical_features"]))
    if overlap:
        raise ValueError(
            f"{_label('features')} and {_label('categorical_features')} must be disjoint, "
            f"got both: {', '.join(overlap)}"
        )
    if "customer_id" in v["features"] or "customer_id" in v["categorical_features"]:
        raise ValueError("customer_id is the key column and cannot be a feature")
    all_features = set(v["features"]) | set(v["categorical_features"])

    if s.optional_features is None:
        v["optional_features"] = tuple(f for f in DEFAULT_OPTIONAL_FEATURES if f in all_features)
    else:
        opt = _str_list("optional_features", s.optional_features, allow_empty=True)
        bad = [f for f in opt if f not in all_features]
        if bad:
            raise ValueError(
                f"{_label('optional_features')} must name configured features, got {', '.join(map(repr, bad))}; "
                f"configured features are: {', '.join(sorted(all_features))}"
            )
        v["optional_features"] = opt

    if s.log_features is None:
        v["log_features"] = tuple(f for f in DEFAULT_LOG_FEATURES if f in v["features"])
    else:
        logf = _str_list("log_features", s.log_features, allow_empty=True)
        bad = [f for f in logf if f not in v["features"]]
        if bad:
            raise ValueError(
                f"{_label('log_features')} must be a subset of {_label('features')}, got {', '.join(map(repr, bad))}; "
                f"features are: {', '.join(v['features']) or '(none)'}"
            )
        v["log_features"] = logf

    cq = s.clip_quantiles
    if cq is None:
        v["clip_quantiles"] = None
    else:
        ok = (
            isinstance(cq, Sequence)
            and not isinstance(cq, str)
            and len(cq) == 2
            and all(_is_real(q) for q in cq)
        )
        if ok:
            lo, hi = float(cq[0]), float(cq[1])
            ok = 0.0 <= lo < hi <= 1.0
        if not ok:
            raise ValueError(
                f"{_label('clip_quantiles')} must be null or a pair [lower, upper] with "
                f"0 <= lower < upper <= 1, got {cq!r}"
            )
        v["clip_quantiles"] = (lo, hi)

    v["scaler"] = _choice("scaler", s.scaler, SCALERS)
    v["null_strategy"] = _choice("null_strategy", s.null_strategy, NULL_STRATEGIES)
    v["categorical_weight"] = _real("categorical_weight", s.categorical_weight, minimum=0.0, strict=True)
    v["new_cluster_max_distance"] = _real(
        "new_cluster_max_distance", s.new_cluster_max_distance, minimum=0.0, strict=False
    )
    v["min_relative_spread"] = _real("min_relative_spread", s.min_relative_spread, minimum=0.0,
                                     strict=False)
    for key in ("recent_max_days", "lapsed_min_days", "new_max_days", "long_standing_min_days"):
        v[key] = _real(key, getattr(s, key), minimum=0.0, strict=False)
    for low, high in (("recent_max_days", "lapsed_min_days"), ("new_max_days", "long_standing_min_days")):
        if v[high] < v[low]:
            raise ValueError(f"{_label(high)} must be >= {_label(low)} ({v[low]:g}), "
                             f"got {getattr(s, high)!r}")
    v["match_min_overlap"] = _real("match_min_overlap", s.match_min_overlap, minimum=0.0, strict=True)
    if v["match_min_overlap"] > 1.0:
        raise ValueError(f"{_label('match_min_overlap')} must be a number > 0 and <= 1, "
                         f"got {s.match_min_overlap!r}")
    v["categorical_max_levels"] = _int("categorical_max_levels", s.categorical_max_levels, 1)
    v["k_min"] = _int("k_min", s.k_min, 2)
    v["k_max"] = _int("k_max", s.k_max, 2)
    if v["k_max"] < v["k_min"]:
        raise ValueError(f"{_label('k_max')} must be an integer >= {_label('k_min')} ({v['k_min']}), got {s.k_max!r}")
    if s.n_clusters is None:
        v["n_clusters"] = None
    else:
        v["n_clusters"] = _int("n_clusters", s.n_clusters, 2, nullable=True)
    v["n_init"] = _int("n_init", s.n_init, 1)
    v["random_state"] = _int("random_state", s.random_state, 0, maximum=2**32 - 1)
    v["max_iter"] = _int("max_iter", s.max_iter, 1)
    v["training_sample_size"] = _int("training_sample_size", s.training_sample_size, 3)
    v["silhouette_sample_size"] = _int("silhouette_sample_size", s.silhouette_sample_size, 2)
    v["tree_max_depth"] = _int("tree_max_depth", s.tree_max_depth, 1, maximum=30)
    v["tree_min_samples_leaf"] = _int("tree_min_samples_leaf", s.tree_min_samples_leaf, 1)
    v["stability_bootstraps"] = _int("stability_bootstraps", s.stability_bootstraps, 0)
    return v


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _str_list(name: str, value: Any, allow_empty: bool) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"{_label(name)} must be a list of column names, got {value!r}")
    bad = [x for x in value if not isinstance(x, str) or not x]
    if bad:
        raise ValueError(f"{_label(name)} must contain non-empty strings only, got {bad[0]!r} in {list(value)!r}")
    dup = sorted({x for x in value if list(value).count(x) > 1})
    if dup:
        raise ValueError(f"{_label(name)} must not repeat a column, got {', '.join(map(repr, dup))} twice")
    if not value and not allow_empty:
        raise ValueError(f"{_label(name)} must not be empty")
    return tuple(value)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{_label(name)} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}"
        )
    return value


def _int(
    name: str,
    value: Any,
    minimum: int,
    maximum: int | None = None,
    nullable: bool = False,
) -> int:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok:
        ok = int(value) >= minimum and (maximum is None or int(value) <= maximum)
    if not ok:
        rng = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        null = " or null" if nullable else ""
        raise ValueError(f"{_label(name)} must be an integer {rng}{null}, got {value!r}")
    return int(value)


def _real(name: str, value: Any, minimum: float, strict: bool) -> float:
    ok = _is_real(value) and (float(value) > minimum if strict else float(value) >= minimum)
    if not ok:
        op = ">" if strict else ">="
        raise ValueError(f"{_label(name)} must be a finite number {op} {minimum:g}, got {value!r}")
    return float(value)
