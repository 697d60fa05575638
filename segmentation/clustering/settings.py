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

__all__ = ["ClusteringSettings", "ComparisonSettings", "VAR_NAMES"]

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
    "algorithm": "cluster_algorithm",
    "gmm_covariance_type": "cluster_gmm_covariance_type",
    "gmm_n_init": "cluster_gmm_n_init",
    "kprototypes_gamma": "cluster_kprototypes_gamma",
    "birch_threshold": "cluster_birch_threshold",
    "hdbscan_min_cluster_size": "cluster_hdbscan_min_cluster_size",
    "hdbscan_min_samples": "cluster_hdbscan_min_samples",
    "meanshift_bandwidth": "cluster_meanshift_bandwidth",
    "meanshift_quantile": "cluster_meanshift_quantile",
    "slow_method_sample_size": "cluster_slow_method_sample_size",
}


def _label(key: str) -> str:
    """``key`` as messages show it: the setting and the dbt var that sets it."""
    var = VAR_NAMES.get(key)
    return key if var is None or var == key else f"{key} (var {var})"

NULL_STRATEGIES = ("impute_median", "unclassified")
# Clustering methods (issue 15); their adapters live in algorithms.py.
ALGORITHMS = ("kmeans", "kprototypes", "gmm", "agglomerative", "birch", "hdbscan", "meanshift")
ALGORITHMS_WITH_K = ("kmeans", "kprototypes", "gmm", "agglomerative", "birch")
ALGORITHMS_NUMERIC_ONLY = ("gmm", "agglomerative", "birch", "hdbscan", "meanshift")
# Methods whose time or memory grow faster than linearly: their sample is capped at
# slow_method_sample_size (var cluster_slow_method_sample_size).
ALGORITHMS_SAMPLE_CAPPED = ("agglomerative", "hdbscan", "meanshift")
GMM_COVARIANCE_TYPES = ("diag", "full", "spherical", "tied")


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
    algorithm : {"kmeans", "kprototypes", "gmm", "agglomerative", "birch", "hdbscan", "meanshift"}
        Clustering method (var ``cluster_algorithm``); see :mod:`algorithms`.
        ``kprototypes`` needs categorical features; ``gmm``, ``agglomerative``,
        ``birch``, ``hdbscan`` and ``meanshift`` refuse them; ``hdbscan`` and
        ``meanshift`` find k themselves and refuse ``n_clusters``.
    gmm_covariance_type : {"full", "tied", "diag", "spherical"}
    gmm_n_init : int
        Initialisations of the Gaussian mixture (the best likelihood is kept).
    kprototypes_gamma : float or None
        Weight of one categorical mismatch against squared numeric distance;
        ``None``: kmodes' default (half the mean standard deviation of the
        numeric columns).
    birch_threshold : float
        BIRCH subcluster radius, in scaled units.
    hdbscan_min_cluster_size, hdbscan_min_samples : int or None
        ``None``: ``max(5, n_sample // 100)``, and ``min_cluster_size``.
    meanshift_bandwidth : float or None
        ``None``: estimated (``sklearn.cluster.estimate_bandwidth`` at
        ``meanshift_quantile``).
    meanshift_quantile : float
    slow_method_sample_size : int
        Training sample cap for agglomerative, hdbscan and meanshift, whose
        time or memory grow faster than linearly.
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
    algorithm: str = "kmeans"
    gmm_covariance_type: str = "full"
    gmm_n_init: int = 3
    kprototypes_gamma: float | None = None
    birch_threshold: float = 0.3
    hdbscan_min_cluster_size: int | None = None
    hdbscan_min_samples: int | None = None
    meanshift_bandwidth: float | None = None
    meanshift_quantile: float = 0.2
    slow_method_sample_size: int = 5000

    def __post_init__(self) -> None:
        for name, value in _validated(self).items():
            object.__setattr__(self, name, value)

    @property
    def effective_training_sample_size(self) -> int:
        """Training sample cap of this method: ``training_sample_size``, and at most
        ``slow_method_sample_size`` for the methods in ``ALGORITHMS_SAMPLE_CAPPED``."""
        if self.algorithm in ALGORITHMS_SAMPLE_CAPPED:
            return min(self.training_sample_size, self.slow_method_sample_size)
        return self.training_sample_size

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
    v.update(_validated_algorithm(s, v))
    return v


def _validated_algorithm(s: ClusteringSettings, v: dict[str, Any]) -> dict[str, Any]:
    """The per-method settings, and the combinations a method cannot use (named by var)."""
    out: dict[str, Any] = {}
    algorithm = s.algorithm
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"var cluster_algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    out["algorithm"] = algorithm
    if algorithm not in ALGORITHMS_WITH_K and v["n_clusters"] is not None:
        raise ValueError(
            f"var n_clusters is {v['n_clusters']} but cluster_algorithm '{algorithm}' finds the number "
            "of clusters itself: set n_clusters to null (or use kmeans, kprototypes, gmm, "
            "agglomerative or birch)"
        )
    if algorithm in ALGORITHMS_NUMERIC_ONLY and v["categorical_features"]:
        raise ValueError(
            f"cluster_algorithm '{algorithm}' works on numeric features only, but var "
            f"cluster_categorical_features is {list(v['categorical_features'])}: empty it, or use "
            "cluster_algorithm kprototypes (categories as they are) or kmeans (weighted one-hot)"
        )
    if algorithm == "kprototypes" and (not v["categorical_features"] or not v["features"]):
        raise ValueError(
            "cluster_algorithm 'kprototypes' clusters numeric and categorical features together: "
            "var cluster_categorical_features and var cluster_features must both be non-empty "
            f"(got {list(v['categorical_features'])} and {list(v['features'])}); "
            "use kmeans for numeric features only"
        )
    out["gmm_covariance_type"] = _choice("cluster_gmm_covariance_type", s.gmm_covariance_type,
                                         GMM_COVARIANCE_TYPES)
    out["gmm_n_init"] = _int("cluster_gmm_n_init", s.gmm_n_init, 1)
    out["kprototypes_gamma"] = (None if s.kprototypes_gamma is None else
                                _real("cluster_kprototypes_gamma", s.kprototypes_gamma, 0.0, strict=True))
    out["birch_threshold"] = _real("cluster_birch_threshold", s.birch_threshold, 0.0, strict=True)
    out["hdbscan_min_cluster_size"] = (None if s.hdbscan_min_cluster_size is None else _int(
        "cluster_hdbscan_min_cluster_size", s.hdbscan_min_cluster_size, 2, nullable=True))
    out["hdbscan_min_samples"] = (None if s.hdbscan_min_samples is None else _int(
        "cluster_hdbscan_min_samples", s.hdbscan_min_samples, 1, nullable=True))
    out["meanshift_bandwidth"] = (None if s.meanshift_bandwidth is None else
                                  _real("cluster_meanshift_bandwidth", s.meanshift_bandwidth, 0.0, strict=True))
    q = s.meanshift_quantile
    if not _is_real(q) or not 0.0 < float(q) <= 1.0:
        raise ValueError(f"cluster_meanshift_quantile must be a number in (0, 1], got {q!r}")
    out["meanshift_quantile"] = float(q)
    out["slow_method_sample_size"] = _int("cluster_slow_method_sample_size", s.slow_method_sample_size, 3)
    return out


@dataclasses.dataclass(frozen=True)
class ComparisonSettings:
    """Settings of the ``cluster_algorithm_comparison`` table (vars ``cluster_comparison_*``).

    Parameters
    ----------
    enabled : bool
        Var ``cluster_comparison_enabled``; ``False`` (the default: the comparison trains
        every method, about half a minute on the demo) leaves the table empty.
    algorithms : sequence of str or None
        Methods to compare (var ``cluster_comparison_algorithms``). ``None``: every method
        that applies to the configured features; ``[]``: no comparison (empty table).
    sample_size : int
        Customers drawn (seeded) from the clustering input; every method trains on them.
    bootstraps : int
        Bootstrap refits per method for the stability ARI.
    min_cluster_share, min_tree_fidelity : float
        The recommendation's gates (vars ``min_cluster_share``, ``min_tree_fidelity``).
    max_noise_share : float
        Largest share of noise a recommended method may leave unclassified.
    """

    enabled: bool = False
    algorithms: tuple[str, ...] | None = None
    sample_size: int = 2000
    bootstraps: int = 2
    min_cluster_share: float = 0.02
    min_tree_fidelity: float = 0.8
    max_noise_share: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ValueError(f"var cluster_comparison_enabled must be true or false, got {self.enabled!r}")
        if self.algorithms is not None:
            algos = _str_list("cluster_comparison_algorithms", self.algorithms, allow_empty=True)
            bad = [a for a in algos if a not in ALGORITHMS]
            if bad:
                raise ValueError(f"var cluster_comparison_algorithms: unknown method(s) {', '.join(map(repr, bad))}; "
                                 f"allowed: {', '.join(ALGORITHMS)}")
            object.__setattr__(self, "algorithms", algos)
        object.__setattr__(self, "sample_size", _int("cluster_comparison_sample_size", self.sample_size, 10))
        object.__setattr__(self, "bootstraps", _int("cluster_comparison_bootstraps", self.bootstraps, 0))
        for name in ("min_cluster_share", "min_tree_fidelity", "max_noise_share"):
            value = getattr(self, name)
            if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{'cluster_comparison_' if name == 'max_noise_share' else ''}{name} "
                                 f"must be a number between 0 and 1, got {value!r}")
            object.__setattr__(self, name, float(value))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> ComparisonSettings:
        """Validate a mapping of the fields above; unknown keys raise ValueError."""
        mapping = dict(mapping or {})
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(k for k in mapping if k not in allowed)
        if unknown:
            raise ValueError(f"unknown comparison setting(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        return cls(**mapping)

    def resolve(self, settings: ClusteringSettings) -> tuple[str, ...]:
        """The methods to compare for these clustering settings (none when not enabled).

        By default, those that apply to the features (with categorical features: kmeans and
        kprototypes; without: all but kprototypes). A listed method that cannot run on the
        features raises ValueError naming var cluster_comparison_algorithms.
        """
        if not self.enabled:
            return ()
        categorical = bool(settings.categorical_features)
        applies = [a for a in ALGORITHMS
                   if not (categorical and a in ALGORITHMS_NUMERIC_ONLY)
                   and not (a == "kprototypes" and (not categorical or not settings.features))]
        if self.algorithms is None:
            return tuple(applies)
        bad = [a for a in self.algorithms if a not in applies]
        if bad:
            why = ("numeric-only methods cannot use categorical features" if categorical
                   else "kprototypes needs categorical and numeric features")
            raise ValueError(f"var cluster_comparison_algorithms lists {', '.join(bad)}, which cannot run "
                             f"on these features ({why}); methods that apply: {', '.join(applies)}")
        return tuple(self.algorithms)


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
