"""Training and scoring entry points used by the dbt Python models."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from . import algorithms as _alg
from ._common import MISSING_LEVEL, OTHER_LEVEL, build_frame, dumps, frame_from_json, frame_to_json
from .explain import fit_tree, quote_identifier, sql_double, tree_matrix, tree_predict, tree_rules
from .inputs import InputData, prepare_input
from .kselection import choose_k, fit_kmeans, nearest_centroid, sweep_k
from .matching import assign_cluster_ids, match_by_centroids, match_by_members
from .naming import TimeThresholds, name_clusters, profile_clusters
from .preprocessing import (
    category_codes,
    classifiable_rows,
    fit_preprocessing,
    impute,
    inverse_numeric,
    model_columns,
    preprocessing_frame,
    screen_customers,
    training_sample_positions,
    transform,
)
from .settings import ClusteringSettings

__all__ = [
    "TrainingResult",
    "train_segmentation",
    "score_customers",
    "tables_from_registry_row",
    "training_fingerprint",
    "training_input",
    "REGISTRY_KEYS",
    "TABLE_KEYS",
]

PARAMS_FORMAT = 1

#: Keys of :attr:`TrainingResult.registry_row`, in order.
REGISTRY_KEYS = (
    "model_version", "model_id", "trained_at", "config_hash", "fingerprint", "k",
    "k_selection_reason", "n_customers", "n_classified", "n_unclassified", "n_training_sample",
    "inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "tree_fidelity",
    "stability_ari", "feature_importances_json", "dropped_features_json", "notes_json",
    "settings_json", "params_json", "k_selection_json", "centroids_json", "rules_json",
    "lineage_json", "preprocessing_json",
    # issue 15: the clustering method, customers it left as noise, whether SQL
    # nearest-centroid scoring reproduces it.
    "algorithm", "n_noise", "is_centroid_scoring_faithful",
)
#: Tables stored in the registry row as ``<name>_json``.
TABLE_KEYS = ("k_selection", "centroids", "rules", "lineage", "preprocessing")


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """Everything one training run produces.

    Attributes
    ----------
    registry_row : dict
        One row of the model registry: scalars and JSON strings (keys
        :data:`REGISTRY_KEYS`).
    assignments : pandas.DataFrame, shape (n_customers, 8)
        ``customer_id, cluster_id, cluster_name, distance_to_centroid,
        margin_to_second_centroid, tree_cluster_id, segment_status,
        unclassified_reason`` in ``customer_id`` order.
    k_selection : pandas.DataFrame
        ``k, inertia, silhouette, calinski_harabasz, davies_bouldin,
        is_elbow, is_chosen, selection_reason``.
    centroids : pandas.DataFrame
        ``cluster_id, cluster_name, feature_name, scaled_value,
        original_value, population_mean, population_std, z_score``; one row
        per cluster and model input column (``feature_name`` as in
        ``preprocessing``).  ``scaled_value`` is the k-means centroid.
        ``original_value`` is the centroid in the units of the input column
        (scaling and signed log inverted; for a level indicator: the
        centroid's share of that level).  ``population_mean`` /
        ``population_std`` (ddof=0) describe all classified customers in
        original units (for a level: share ``p`` and ``sqrt(p (1 - p))``),
        and ``z_score`` is ``(cluster mean - population_mean) /
        population_std`` computed from the cluster's members; it is the
        quantity used for the names (so it is not derived from
        ``original_value``, which for log features is closer to a
        geometric mean).
    rules : pandas.DataFrame
        ``cluster_id, leaf_id, rule_text, rule_sql, n_customers, support,
        leaf_precision``.
    lineage : pandas.DataFrame
        ``cluster_id, previous_cluster_id, status, match_method, shared_customers,
        member_overlap, centroid_distance``.
    preprocessing : pandas.DataFrame
        ``feature_name, source_column, kind, level, clip_lower, clip_upper,
        log_transform, center, scale, weight, impute_value``.
    """

    registry_row: dict
    assignments: pd.DataFrame
    k_selection: pd.DataFrame
    centroids: pd.DataFrame
    rules: pd.DataFrame
    lineage: pd.DataFrame
    preprocessing: pd.DataFrame


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _coerce_settings(settings: Any) -> ClusteringSettings:
    if isinstance(settings, ClusteringSettings):
        return settings
    if settings is None or isinstance(settings, Mapping):
        return ClusteringSettings.from_mapping(settings)
    raise ValueError(
        f"settings must be a ClusteringSettings or a mapping, got {type(settings).__name__}"
    )


def _none_if_nan(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _parse_row(row: Any, what: str) -> tuple[int, dict]:
    """Model version and params of a registry row; raise ValueError if malformed."""
    if isinstance(row, pd.Series):
        row = row.to_dict()
    if not isinstance(row, Mapping):
        raise ValueError(f"{what} must be a registry row (dict), got {type(row).__name__}")
    missing = [k for k in ("model_version", "params_json") if k not in row]
    if missing:
        raise ValueError(f"{what} lacks key(s) {', '.join(missing)}; got keys: {', '.join(map(str, row))}")
    try:
        version = int(row["model_version"])
        raw = row["params_json"]
        params = json.loads(raw) if isinstance(raw, (str, bytes)) else dict(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} has an invalid model_version or params_json: {exc}") from exc
    if not isinstance(params, dict) or params.get("format") != PARAMS_FORMAT:
        raise ValueError(
            f"{what}: params_json has format {params.get('format') if isinstance(params, dict) else None!r}, "
            f"expected {PARAMS_FORMAT}"
        )
    return version, params


def _fingerprint(data: InputData, settings: ClusteringSettings) -> str:
    cols: dict[str, Any] = {"customer_id": data.customer_id}
    for j, name in enumerate(data.numeric_names):
        cols[name] = data.X[:, j]
    for name in data.categorical_names:
        cols[name] = data.categorical[name]
    frame = pd.DataFrame(cols)
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    h = hashlib.sha256()
    h.update(settings.to_json().encode("utf-8"))
    h.update(dumps({"columns": list(frame.columns), "n": len(frame)}).encode("utf-8"))
    h.update(np.ascontiguousarray(hashes).tobytes())
    return h.hexdigest()


def training_fingerprint(frame: pd.DataFrame, settings: ClusteringSettings | Mapping | None) -> str:
    """Fingerprint of the training input, to skip a retrain when nothing changed.

    sha256 (64 hex characters) of the settings JSON, the used column names
    and the row hashes (``pandas.util.hash_pandas_object``) of
    ``customer_id`` plus the configured feature columns present in the frame,
    with rows sorted by ``customer_id`` (so row order does not matter).
    Numeric features are hashed as float64 (non-finite as NaN) and
    categorical features as strings, i.e. as the model sees them.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_customers, n_columns)
    settings : ClusteringSettings or mapping

    Returns
    -------
    str

    Raises
    ------
    ValueError
        On invalid settings or frame (see :func:`train_segmentation`).
    """
    return training_input(frame, settings)[1]


def training_input(frame: pd.DataFrame, settings: ClusteringSettings | Mapping | None
                   ) -> tuple[InputData, str]:
    """The checked, sorted training input and its :func:`training_fingerprint`.

    Pass the pair to :func:`train_segmentation` (``prepared=``) to check and hash a large
    frame once instead of twice.
    """
    settings = _coerce_settings(settings)
    data = prepare_input(frame, settings.features, settings.categorical_features,
                         settings.optional_features)
    return data, _fingerprint(data, settings)


def _assemble_assignments(data: InputData, classifiable: np.ndarray, reasons: np.ndarray,
                          cls_idx: np.ndarray, cluster_ids: np.ndarray, names: list[str],
                          label: np.ndarray, dist: np.ndarray, margin: np.ndarray,
                          tree_pred: np.ndarray, probability: np.ndarray | None = None) -> pd.DataFrame:
    n = data.n
    prob = np.full(n, np.nan)
    if probability is not None and len(cls_idx):
        prob[cls_idx] = probability
    cid = np.zeros(n, dtype=np.int64)
    tid = np.zeros(n, dtype=np.int64)
    name = np.full(n, None, dtype=object)
    d = np.full(n, np.nan)
    mg = np.full(n, np.nan)
    if len(cls_idx):
        cid[cls_idx] = cluster_ids[label]
        tid[cls_idx] = tree_pred
        name[cls_idx] = np.asarray(names, dtype=object)[label]
        d[cls_idx] = dist
        mg[cls_idx] = margin
    mask = ~classifiable
    return build_frame({
        "customer_id": data.customer_id,
        "cluster_id": pd.arrays.IntegerArray(cid, mask.copy()),
        "cluster_name": name,
        "distance_to_centroid": d,
        "margin_to_second_centroid": mg,
        "tree_cluster_id": pd.arrays.IntegerArray(tid, mask.copy()),
        "segment_status": np.where(classifiable, "classified", "unclassified").astype(object),
        "unclassified_reason": np.where(classifiable, None, reasons),
        "cluster_probability": prob,
    }, "assignments")


def _empty(schema: str) -> pd.DataFrame:
    from ._common import SCHEMAS
    return build_frame({c: [] for c in SCHEMAS[schema]}, schema)


def _sql_refs(pre: dict) -> dict[str, str]:
    refs = {}
    for p in pre["numeric"]:
        q = quote_identifier(p["feature"])
        if p["impute"] is not None:
            refs[p["feature"]] = f"coalesce(case when isfinite({q}) then {q} end, {sql_double(p['impute'])})"
        else:
            refs[p["feature"]] = q
    return refs


def _tree_specs(pre: dict) -> list[dict]:
    return [{"source": c["source"], "kind": c["kind"], "level": c["level"]} for c in model_columns(pre)]


def _centroids_frame(ids: np.ndarray, names: list[str], C: np.ndarray, pre: dict,
                     original: np.ndarray, profile) -> pd.DataFrame:
    cols = model_columns(pre)
    k, m = C.shape
    p = len(pre["numeric"])
    pop_mean = np.empty(m)
    pop_std = np.empty(m)
    z = np.empty((k, m))
    pop_mean[:p] = profile.population_mean
    pop_std[:p] = profile.population_std
    z[:, :p] = profile.z
    j = p
    for c in profile.categorical:
        L = len(c["levels"])
        pop = c["population_share"]
        std = np.sqrt(pop * (1 - pop))
        pop_mean[j:j + L] = pop
        pop_std[j:j + L] = std
        with np.errstate(invalid="ignore", divide="ignore"):
            zc = (c["share"] - pop) / std
        z[:, j:j + L] = np.where(std > 0, zc, 0.0)
        j += L
    rows = {key: [] for key in ("cluster_id", "cluster_name", "feature_name", "scaled_value",
                                "original_value", "population_mean", "population_std", "z_score")}
    used = [j for j, col in enumerate(cols) if col["name"] not in _unused_level_columns(pre, profile)]
    for i in range(k):
        for j in used:
            col = cols[j]
            rows["cluster_id"].append(int(ids[i]))
            rows["cluster_name"].append(names[i])
            rows["feature_name"].append(col["name"])
            # + 0.0 turns an IEEE -0.0 into 0.0, so no profile reads "-0.0"
            rows["scaled_value"].append(float(C[i, j]) + 0.0)
            rows["original_value"].append(float(original[i, j]) + 0.0)
            rows["population_mean"].append(float(pop_mean[j]) + 0.0)
            rows["population_std"].append(float(pop_std[j]) + 0.0)
            rows["z_score"].append(float(z[i, j]) + 0.0)
    return build_frame(rows, "centroids")


def _unused_level_columns(pre: dict, profile) -> set[str]:
    """One-hot columns of the pseudo-levels ``__other__`` / ``__missing__`` that no classified
    customer has: kept in the model (scoring needs a fixed column layout) but left out of the
    centroids and importances the marts show."""
    out = set()
    for col in model_columns(pre):
        if col.get("kind") != "categorical" or col.get("level") not in (OTHER_LEVEL, MISSING_LEVEL):
            continue
        cat = next(c for c in profile.categorical if c["feature"] == col["source"])
        if cat["population_share"][cat["levels"].index(col["level"])] == 0:
            out.add(col["name"])
    return out


def _original_centroids(pre: dict, C: np.ndarray) -> np.ndarray:
    """Centroids in input units: inverse scaling/log for numeric, level shares for categorical."""
    p = len(pre["numeric"])
    out = np.empty_like(C)
    out[:, :p] = inverse_numeric(pre, C[:, :p])
    j = p
    for c in pre["categorical"]:
        L = len(c["levels"]) + 2
        out[:, j:j + L] = C[:, j:j + L] / (c["weight"] / math.sqrt(2.0))
        j += L
    return out


def _centroid_original_dicts(pre: dict, original: np.ndarray) -> list[dict]:
    p = len(pre["numeric"])
    out = []
    for i in range(original.shape[0]):
        num = {q["feature"]: float(original[i, j]) for j, q in enumerate(pre["numeric"])}
        cat, j = {}, p
        for c in pre["categorical"]:
            levels = [*c["levels"], OTHER_LEVEL, MISSING_LEVEL]
            cat[c["feature"]] = {lv: float(original[i, j + t]) for t, lv in enumerate(levels)}
            j += len(levels)
        out.append({"numeric": num, "categorical": cat})
    return out


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------
def train_segmentation(
    frame: pd.DataFrame,
    settings: ClusteringSettings | Mapping | None,
    previous: Mapping | None = None,
    trained_at: str | None = None,
    prepared: tuple[InputData, str] | None = None,
    latest: Mapping | None = None,
) -> TrainingResult:
    """Train the customer segmentation.

    The frame is first sorted by ``customer_id``; every later step is
    deterministic given ``settings.random_state``, so reruns and row
    shuffles give bit-for-bit identical results (apart from ``trained_at``).

    Steps
    -----
    a. Screening (:func:`preprocessing.screen_customers`): features that are
       entirely null, or constant on the classifiable customers, are dropped;
       customers with a missing / non-finite numeric value are unclassified
       (``null_strategy="unclassified"``) with reason ``"missing value in:
       a, b"``.  Fewer than 3 classifiable customers (or a single distinct
       point) gives a model without clusters: nobody is classified, nothing
       is raised.
    b. Training sample (:func:`preprocessing.training_sample_positions`, the
       sample feature screening used): at most ``training_sample_size``
       classifiable customers (``slow_method_sample_size`` for agglomerative,
       hdbscan and meanshift) drawn without replacement by
       ``numpy.random.default_rng(random_state)``.
    c. Preprocessing fit on the sample (clip quantiles, signed log1p,
       scaler, one-hot levels, medians).
    d. k sweep over ``k_min..k_max`` (``k_max`` capped at ``n_sample - 1``
       and at the number of distinct points, with a note): KMeans per k,
       inertia, silhouette, Calinski-Harabasz, Davies-Bouldin.  Choice: the
       elbow is the kneedle point (largest distance of the normalised inertia
       curve below the straight line between its ends); candidates are the
       k within +-1 of it; the highest silhouette wins, ties to the smaller
       k.  ``n_clusters`` overrides (reason "set by var n_clusters").
    e. Every classifiable customer is assigned to the nearest centroid
       (vectorised), with distance and margin to the second nearest.  With
       ``settings.algorithm`` other than ``"kmeans"`` the method of
       :mod:`algorithms` is fitted on the sample instead (``hdbscan`` and
       ``meanshift`` skip the sweep and find k) and assigns everyone by its
       own rule; HDBSCAN's noise is unclassified with reason ``"noise"``;
       the metrics of the registry row are then the method's own (on the
       sample, noise left out), and the bootstrap refits refit the method.
    f. Stable ids (:func:`matching.assign_cluster_ids`) against ``previous``.
    g. Names (:func:`naming.name_clusters`).
    h. Explanation tree and rules (:mod:`explain`), fitted on the training
       sample with ``min_samples_leaf = max(1, min(tree_min_samples_leaf,
       n_sample // (2 k)))`` so that tiny data can still split;
       ``tree_fidelity`` is its accuracy against the k-means ids on all
       classifiable customers.
    i. Stability: mean adjusted Rand index between the final labels of the
       training sample and ``stability_bootstraps`` KMeans refits on
       bootstrap resamples (seeds from the same generator).

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_customers, n_columns)
        One row per customer: ``customer_id`` plus the feature columns.
    settings : ClusteringSettings or mapping
        A mapping is validated with :meth:`ClusteringSettings.from_mapping`.
    previous : dict or None
        Latest registry row (``registry_row`` of an earlier run, possibly read
        back from the registry table), used for model_version and stable ids.
    trained_at : str or None
        Timestamp to record; default: now (UTC, ISO 8601).
    prepared : (InputData, str) or None
        The result of :func:`training_input` for this frame and settings, to
        skip checking and hashing the frame again; computed when None.
    latest : dict or None
        The newest registry row of any method, when ``previous`` is the newest
        row of this run's method (``cluster_algorithm``): the version and the
        next free cluster id come from it, the stable ids from ``previous``.
        Default: ``previous``.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ValueError
        On invalid settings, a frame without ``customer_id``, with null or
        duplicate ids, a missing non-optional feature, a non-numeric numeric
        feature, no usable feature, ``n_clusters`` larger than the number of
        distinct points, or a malformed ``previous`` row.
    """
    settings = _coerce_settings(settings)
    prev = _parse_row(previous, "previous") if previous is not None else None
    if trained_at is None:
        trained_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    elif not isinstance(trained_at, str):
        raise ValueError(f"trained_at must be a string or None, got {trained_at!r}")

    if prepared is None:
        prepared = training_input(frame, settings)
    data, fingerprint = prepared
    version = prev[0] + 1 if prev else 1
    prev_params = prev[1] if prev else {}
    prev_clusters = prev_params.get("clusters", []) or []
    prev_ids = [int(c["cluster_id"]) for c in prev_clusters]
    next_id = max([0, *prev_ids, int(prev_params.get("max_cluster_id") or 0)]) + 1
    if latest is not None:  # another method's model may be newer: never reuse its version or ids
        newest = _parse_row(latest, "latest")
        version = max(version, newest[0] + 1)
        next_id = max(next_id, int(newest[1].get("max_cluster_id") or 0) + 1)
    algorithm = settings.algorithm
    notes: list[str] = []

    screen = screen_customers(data, settings)
    for d in screen.dropped:
        notes.append(f"feature '{d['feature']}' dropped: {d['reason']}")
    base = {
        "model_version": version,
        "model_id": f"seg-v{version}-{fingerprint[:12]}",
        "trained_at": trained_at,
        "config_hash": settings.config_hash(),
        "fingerprint": fingerprint,
        "n_customers": data.n,
        "settings_json": settings.to_json(),
        "dropped_features_json": dumps(screen.dropped),
        "algorithm": algorithm,
        "is_centroid_scoring_faithful": algorithm in _alg.CENTROID_SCORING_FAITHFUL,
    }
    if screen.stop_reason is not None:
        return _no_model(base, data, screen.classifiable, screen.reasons, screen.stop_reason,
                         screen.checked_numeric, settings, notes, prev_ids, next_id)

    # b. training sample ---------------------------------------------------
    rng = np.random.default_rng(settings.random_state)
    cls_idx = np.flatnonzero(screen.classifiable)
    n_cls = len(cls_idx)
    pick = training_sample_positions(n_cls, settings, rng)
    if n_cls > len(pick):
        notes.append(f"training sample: {len(pick)} of {n_cls} classifiable customers")
    train_idx = cls_idx[pick]
    n_s = len(train_idx)

    # c. preprocessing -----------------------------------------------------
    num_cols = [data.numeric_names.index(f) for f in screen.numeric_names]
    X_raw = data.X[:, num_cols]
    pre = fit_preprocessing(
        X_raw[train_idx], screen.numeric_names,
        {c: data.categorical[c].take(train_idx).reset_index(drop=True) for c in screen.categorical_names},
        settings,
    )
    codes = [category_codes(data.categorical[c["feature"]], c["levels"])[cls_idx]
             for c in pre["categorical"]]
    X_cls = impute(pre, X_raw[cls_idx])
    Z_cls = transform(pre, X_cls, codes)
    Z_s = Z_cls[pick]

    # d. k sweep -------------------------------------------------------------
    n_distinct = int(np.unique(Z_s, axis=0).shape[0])
    if n_distinct < 2:
        reason = (f"too few distinct customers to cluster (n={n_cls}, distinct points=1 after "
                  "preprocessing, need at least 2)")
        reasons = np.where(screen.classifiable, reason, screen.reasons)
        return _no_model(base, data, screen.classifiable, reasons, reason, screen.checked_numeric,
                         settings, notes, prev_ids, next_id)
    if settings.n_clusters is not None and settings.n_clusters > n_distinct:
        raise ValueError(
            f"n_clusters={settings.n_clusters} exceeds the number of distinct points "
            f"({n_distinct}) among the {n_s} customers of the training sample"
        )
    k_max = min(settings.k_max, n_s - 1, n_distinct)
    k_min = min(settings.k_min, k_max)
    if k_max < settings.k_max:
        notes.append(
            f"k_max reduced from {settings.k_max} to {k_max}: the training sample has {n_s} "
            f"customers and {n_distinct} distinct points (k must be <= n-1 and <= distinct points)"
        )
    if k_min < settings.k_min:
        notes.append(f"k_min reduced from {settings.k_min} to {k_min}")
    k_range = list(range(k_min, k_max + 1))
    ks = sorted(set(k_range) | ({settings.n_clusters} if settings.n_clusters else set()))
    if algorithm in _alg.NEEDS_K:
        results = sweep_k(Z_s, ks, settings.n_init, settings.max_iter, settings.random_state,
                          settings.silhouette_sample_size)
        k, elbow, k_reason, row_reasons = choose_k(results, k_range, settings.n_clusters)
        chosen = next(r for r in results if r.k == k)
    else:  # hdbscan, meanshift: the method finds k; no sweep
        results, elbow, row_reasons, chosen = [], None, {}, None

    # e./f. assignment and stable ids ------------------------------------------
    probability = None
    if algorithm == "kmeans":
        C_km = chosen.model.cluster_centers_.astype(np.float64)
        lab_km = nearest_centroid(Z_cls, C_km)[0]
    else:
        fit = _fit_method(algorithm, Z_s, Z_cls, pick, k if chosen else None, settings, pre,
                          screen, cls_idx, X_cls, codes, notes)
        if isinstance(fit, str):  # no cluster found (everyone noise)
            base["n_noise"] = n_cls
            reasons = np.where(screen.classifiable, fit, screen.reasons)
            return _no_model(base, data, screen.classifiable, reasons, fit, screen.checked_numeric,
                             settings, notes, prev_ids, next_id)
        (lab_km, probability, state, C_km, k_found, n_noise, classifiable, cls_reasons,
         cls_idx, pick, Z_cls, X_cls, codes, Z_s_all, lab_s_all) = fit
        if chosen is None:
            k_reason = f"found by {algorithm}"
        elif k_found < k:
            notes.append(f"{algorithm} made {k_found} clusters of the k={k} asked for")
            k_reason = f"{k_reason}; {algorithm} made {k_found} clusters"
        k = k_found
        chosen, metric_notes = _alg.cluster_metrics(Z_s_all, lab_s_all, settings.silhouette_sample_size,
                                                    settings.random_state)
        notes.extend(metric_notes)
        n_cls = len(cls_idx)
    sizes_km = np.bincount(lab_km, minlength=k)
    matches, method = {}, None
    if prev_clusters:
        matches, method, note = _match_previous(frame, previous, cls_idx, lab_km, k, prev_ids,
                                                prev_clusters, X_raw[cls_idx], screen.numeric_names,
                                                settings, prev[0])
        if note:
            notes.append(note)
    ids_km, lineage = assign_cluster_ids(C_km, sizes_km, prev_ids, matches, next_id, method)
    order = np.argsort(ids_km, kind="stable")
    ids = ids_km[order]
    C = np.ascontiguousarray(C_km[order])
    if algorithm in _alg.CENTROID_SCORING_FAITHFUL:
        label, dist, margin = nearest_centroid(Z_cls, C)
    else:
        rank = np.empty(k, dtype=np.int64)
        rank[order] = np.arange(k)
        state["cluster_index"] = rank.tolist()
        label = rank[lab_km]
        dist, margin = _distances_to_assigned(Z_cls, C, label)
    sizes = np.bincount(label, minlength=k)

    # g. names ---------------------------------------------------------------
    profile = profile_clusters(label, k, X_raw[cls_idx], screen.numeric_names, codes,
                               pre["categorical"])
    names = name_clusters(ids.tolist(), profile, TimeThresholds.from_settings(settings))

    # h. explanation tree ------------------------------------------------------
    columns = [c["name"] for c in model_columns(pre)]
    Xt_cls = tree_matrix(X_cls, codes, pre["categorical"])
    y_s = ids[label[pick]]
    min_leaf = max(1, min(settings.tree_min_samples_leaf, n_s // (2 * k)))
    tree = fit_tree(Xt_cls[pick], y_s, columns, settings.tree_max_depth, min_leaf,
                    settings.random_state)
    tree_pred = tree_predict(tree, Xt_cls)
    tree_fidelity = float(np.mean(tree_pred == ids[label]))
    rules = tree_rules(tree, _tree_specs(pre), {c["feature"]: list(c["levels"]) for c in pre["categorical"]},
                       Xt_cls[pick], y_s, _sql_refs(pre),
                       {p["feature"]: p["impute"] for p in pre["numeric"]})

    # i. stability ---------------------------------------------------------------
    label_s = label[pick]
    aris = []
    for _ in range(settings.stability_bootstraps):
        boot = rng.integers(0, n_s, size=n_s)
        seed = int(rng.integers(0, 2**31 - 1))
        if algorithm != "kmeans":  # refit the method, assign the whole sample (noise = -1)
            aris.append(_bootstrap_ari(algorithm, Z_s_all, lab_s_all, boot, k, seed, settings, pre))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # duplicates in the resample
            model = fit_kmeans(Z_s[boot], k, settings.n_init, settings.max_iter, seed)
        aris.append(adjusted_rand_score(label_s, nearest_centroid(Z_s, model.cluster_centers_)[0]))
    stability = float(np.mean(aris)) if aris else None

    # outputs ------------------------------------------------------------------------
    original = _original_centroids(pre, C)
    params = {
        "format": PARAMS_FORMAT,
        "status": "ok",
        "preprocessing": pre,
        "columns": columns,
        "clusters": [
            {"cluster_id": int(ids[i]), "name": names[i], "size": int(sizes[i]),
             "centroid_scaled": [float(v) for v in C[i]], "centroid_original": orig}
            for i, orig in enumerate(_centroid_original_dicts(pre, original))
        ],
        "max_cluster_id": int(max(next_id - 1, ids.max())),
        "tree": tree,
    }
    if algorithm != "kmeans":  # kmeans params stay as they were (scored by "clusters")
        params["algorithm"] = algorithm
        params["assignment"] = state
        assignments = _assemble_assignments(data, classifiable, cls_reasons, cls_idx, ids, names,
                                            label, dist, margin, tree_pred, probability)
    else:
        n_noise = 0
        assignments = _assemble_assignments(data, screen.classifiable, screen.reasons, cls_idx, ids,
                                            names, label, dist, margin, tree_pred)
    k_sel = build_frame({
        "k": [r.k for r in results],
        "inertia": [r.inertia for r in results],
        "silhouette": [r.silhouette for r in results],
        "calinski_harabasz": [r.calinski_harabasz for r in results],
        "davies_bouldin": [r.davies_bouldin for r in results],
        "is_elbow": [r.k == elbow for r in results],
        "is_chosen": [r.k == k for r in results],
        "selection_reason": [row_reasons[r.k] for r in results],
    }, "k_selection")
    centroids = _centroids_frame(ids, names, C, pre, original, profile)
    pre_frame = preprocessing_frame(pre)
    row = dict(base)
    row.update({
        "k": int(k),
        "k_selection_reason": k_reason,
        "n_classified": n_cls,
        "n_unclassified": data.n - n_cls,
        "n_training_sample": n_s,
        **{m: _none_if_nan(chosen[m] if isinstance(chosen, dict) else getattr(chosen, m))
           for m in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")},
        "n_noise": int(n_noise),
        "tree_fidelity": tree_fidelity,
        "stability_ari": _none_if_nan(stability),
        "feature_importances_json": dumps({c: v for c, v in zip(columns, tree["importances"])
                                           if c not in _unused_level_columns(pre, profile)}),
        "notes_json": dumps(notes),
        "params_json": dumps(params),
    })
    tables = {"k_selection": k_sel, "centroids": centroids, "rules": rules, "lineage": lineage,
              "preprocessing": pre_frame}
    for key, df in tables.items():
        row[f"{key}_json"] = frame_to_json(df)
    row = {key: row[key] for key in REGISTRY_KEYS}
    return TrainingResult(row, assignments, **tables)


def _match_previous(frame: pd.DataFrame, previous: Mapping, cls_idx: np.ndarray, labels: np.ndarray,
                    k: int, prev_ids: list[int], prev_clusters: list[dict], X_cls: np.ndarray,
                    numeric_names: list[str], settings: ClusteringSettings, prev_version: int
                    ) -> tuple[dict, str | None, str | None]:
    """Match the new clusters to the previous model's: by members, else by centroids.

    The previous model scores the current customers (its own stored preprocessing and
    centroids); the new clusters are paired with its clusters on the customers both
    classify (:func:`matching.match_by_members`). If it cannot score them (a column it used
    is missing), the centroids in original units on the numeric features both use are
    compared (:func:`matching.match_by_centroids`); with none in common, every previous
    cluster is retired.

    Returns
    -------
    matches : dict, method : str or None, note : str or None
    """
    try:
        scored = score_customers(frame, previous)
    except ValueError as exc:
        scored, reason = None, str(exc)
    if scored is not None:
        previous_labels = scored["cluster_id"].fillna(-1).to_numpy(dtype=np.int64)[cls_idx]
        return (match_by_members(labels, previous_labels, k, prev_ids, settings.match_min_overlap),
                "members", None)
    common = [f for f in numeric_names if f in prev_clusters[0]["centroid_original"].get("numeric", {})]
    if not common:
        return ({}, None, f"previous model v{prev_version} cannot score these customers ({reason}) and "
                          "shares no numeric feature; its clusters are retired and all clusters get new ids")
    cols = [numeric_names.index(f) for f in common]
    X = X_cls[:, cols]
    new_c = np.full((k, len(cols)), np.nan)
    for j in range(len(cols)):
        obs = ~np.isnan(X[:, j])
        new_c[:, j] = np.bincount(labels[obs], weights=X[obs, j], minlength=k) / np.maximum(
            np.bincount(labels[obs], minlength=k), 1)
    prev_c = np.array([[float(c["centroid_original"]["numeric"][f]) for f in common] for c in prev_clusters])
    spread = np.nanstd(X, axis=0)
    matches = match_by_centroids(new_c, prev_c, spread, prev_ids, settings.new_cluster_max_distance)
    return (matches, "centroids", f"previous model v{prev_version} cannot score these customers "
            f"({reason}); clusters matched by centroids on {', '.join(common)}")


def _categorical_blocks(pre: dict) -> list[tuple[int, int]]:
    """Column ranges of the one-hot block of each categorical feature in the model matrix."""
    blocks, j = [], len(pre["numeric"])
    for c in pre["categorical"]:
        L = len(c["levels"]) + 2
        blocks.append((j, L))
        j += L
    return blocks


def _fit_method(algorithm: str, Z_s: np.ndarray, Z_cls: np.ndarray, pick: np.ndarray,
                k: int | None, settings: ClusteringSettings, pre: dict, screen: Any,
                cls_idx: np.ndarray, X_cls: np.ndarray, codes: list[np.ndarray], notes: list[str]):
    """Fit a method other than k-means on the sample and assign every classifiable customer.

    Noise (HDBSCAN) leaves the classified set: the customer is unclassified with reason
    "noise" and the arrays indexed by classified customer are cut down accordingly.
    Returns a reason string instead when no cluster was found.
    """
    blocks = _categorical_blocks(pre)
    lab_s_all, state = _alg.fit_algorithm(algorithm, Z_s, k, settings, settings.random_state, blocks)
    if not (lab_s_all >= 0).any():
        return (f"noise: {algorithm} found no cluster on the training sample "
                f"({len(Z_s)} customers); every customer is noise")
    lab_all, probability = _alg.assign(state, Z_cls)
    noise = lab_all < 0
    n_noise = int(noise.sum())
    classifiable = screen.classifiable.copy()
    reasons = np.asarray(screen.reasons, dtype=object).copy()
    keep = ~noise
    if n_noise:
        classifiable[cls_idx[noise]] = False
        reasons[cls_idx[noise]] = "noise"
        notes.append(f"{algorithm}: {n_noise} customers are noise (segment unclassified, reason 'noise')")
    position = np.cumsum(keep) - 1
    pick = position[pick[keep[pick]]]
    cls_idx = cls_idx[keep]
    Z_kept = Z_cls[keep]
    lab = lab_all[keep]
    k_found = int(lab_s_all.max()) + 1
    if algorithm in _alg.CENTROID_SCORING_FAITHFUL:
        C = np.asarray(state["centers"], dtype=np.float64)
    else:
        C = _alg.member_means(Z_kept, lab, k_found)
    return (lab, None if probability is None else probability[keep], state, C, k_found, n_noise,
            classifiable, reasons, cls_idx, pick, Z_kept, X_cls[keep], [c[keep] for c in codes],
            Z_s, lab_s_all)


def _distances_to_assigned(Z: np.ndarray, C: np.ndarray, label: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the assigned cluster's centroid, and the nearest other centroid minus it."""
    n, k = len(Z), len(C)
    d = np.empty((n, k))
    for j in range(k):
        diff = Z - C[j]
        d[:, j] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    own = d[np.arange(n), label] if n else np.zeros(0)
    if k < 2:
        return own, np.full(n, np.nan)
    d[np.arange(n), label] = np.inf
    return own, d.min(axis=1) - own


def _bootstrap_ari(algorithm: str, Z_s: np.ndarray, labels: np.ndarray, boot: np.ndarray,
                   k: int, seed: int, settings: ClusteringSettings, pre: dict) -> float:
    """ARI between the sample's labels and a refit of the method on a bootstrap resample."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicates in the resample
        _, state = _alg.fit_algorithm(algorithm, Z_s[boot], k if algorithm in _alg.NEEDS_K else None,
                                      settings, seed, _categorical_blocks(pre))
    return float(adjusted_rand_score(labels, _alg.assign(state, Z_s)[0]))


def _no_model(base: dict, data: InputData, classifiable: np.ndarray, reasons: np.ndarray,
              reason: str, checked: list[str], settings: ClusteringSettings, notes: list[str],
              prev_ids: list[int], next_id: int) -> TrainingResult:
    """Result of a run that could not cluster: nobody is classified."""
    notes = [*notes, f"no clusters: {reason}"]
    params = {
        "format": PARAMS_FORMAT,
        "status": "no_model",
        "reason": reason,
        "checked_numeric": list(checked),
        "null_strategy": settings.null_strategy,
        "clusters": [],
        "max_cluster_id": next_id - 1,
    }
    _, lineage = assign_cluster_ids(np.zeros((0, 0)), np.zeros(0, dtype=np.int64), prev_ids, {},
                                    next_id, None)
    none = np.zeros(len(classifiable), dtype=bool)
    reasons = np.where(classifiable, reason, reasons)
    assignments = _assemble_assignments(data, none, reasons, np.zeros(0, dtype=np.int64),
                                        np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=np.int64),
                                        np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
    tables = {"k_selection": _empty("k_selection"), "centroids": _empty("centroids"),
              "rules": _empty("rules"), "lineage": lineage, "preprocessing": _empty("preprocessing")}
    row = dict(base)
    row.update({
        "k": None, "k_selection_reason": f"no clusters: {reason}",
        "n_classified": 0, "n_unclassified": data.n, "n_training_sample": 0,
        "inertia": None, "silhouette": None, "calinski_harabasz": None, "davies_bouldin": None,
        "tree_fidelity": None, "stability_ari": None, "n_noise": int(base.get("n_noise", 0)),
        "feature_importances_json": dumps({}), "notes_json": dumps(notes),
        "params_json": dumps(params),
    })
    for key, df in tables.items():
        row[f"{key}_json"] = frame_to_json(df)
    row = {key: row[key] for key in REGISTRY_KEYS}
    return TrainingResult(row, assignments, **tables)


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------
def score_customers(frame: pd.DataFrame, registry_row: Mapping) -> pd.DataFrame:
    """Assign customers with a stored model (no refit).

    Uses only ``registry_row["params_json"]``: the stored preprocessing,
    centroids, names and tree.  On the training frame the result equals
    ``TrainingResult.assignments``.  A customer with a missing value in a
    used numeric feature is unclassified (``null_strategy="unclassified"``)
    or imputed with the stored median; unseen categorical levels map to
    ``"__other__"``.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_customers, n_columns)
        ``customer_id`` plus the feature columns used by the model.
    registry_row : dict
        A ``registry_row`` (e.g. the latest row of the registry table).

    Returns
    -------
    pandas.DataFrame, shape (n_customers, 8)
        Same columns as ``TrainingResult.assignments``, in ``customer_id``
        order.

    Raises
    ------
    ValueError
        If the row is malformed or the frame lacks a used column, has null
        or duplicate ids, or a non-numeric numeric feature.
    """
    version, params = _parse_row(registry_row, "registry_row")
    if params.get("status") == "no_model":
        checked = list(params["checked_numeric"])
        data = prepare_input(frame, checked, [])
        classifiable, reasons = classifiable_rows(data.X, checked, params["null_strategy"])
        reasons = np.where(classifiable, params["reason"], reasons)
        none = np.zeros(data.n, dtype=bool)
        e = np.zeros(0, dtype=np.int64)
        return _assemble_assignments(data, none, reasons, e, e, [], e, np.zeros(0), np.zeros(0), e)
    pre = params["preprocessing"]
    num = [p["feature"] for p in pre["numeric"]]
    data = prepare_input(frame, num, [c["feature"] for c in pre["categorical"]])
    classifiable, reasons = classifiable_rows(data.X, num, pre["null_strategy"])
    cls_idx = np.flatnonzero(classifiable)
    codes = [category_codes(data.categorical[c["feature"]], c["levels"])[cls_idx]
             for c in pre["categorical"]]
    X_cls = impute(pre, data.X[cls_idx])
    Z = transform(pre, X_cls, codes)
    clusters = params["clusters"]
    C = np.asarray([c["centroid_scaled"] for c in clusters], dtype=np.float64)
    ids = np.asarray([c["cluster_id"] for c in clusters], dtype=np.int64)
    probability = None
    if params.get("algorithm", "kmeans") in ("kmeans", *_alg.CENTROID_SCORING_FAITHFUL):
        label, dist, margin = nearest_centroid(Z, C)
    else:  # the method's own rule (algorithms.assign); noise leaves the classified set
        state = params["assignment"]
        raw, probability = _alg.assign(state, Z)
        keep = raw >= 0
        classifiable = classifiable.copy()
        reasons = np.asarray(reasons, dtype=object).copy()
        classifiable[cls_idx[~keep]] = False
        reasons[cls_idx[~keep]] = "noise"
        cls_idx, Z, X_cls = cls_idx[keep], Z[keep], X_cls[keep]
        codes = [c[keep] for c in codes]
        probability = None if probability is None else probability[keep]
        label = np.asarray(state["cluster_index"], dtype=np.int64)[raw[keep]]
        dist, margin = _distances_to_assigned(Z, C, label)
    tree_pred = tree_predict(params["tree"], tree_matrix(X_cls, codes, pre["categorical"]))
    return _assemble_assignments(data, classifiable, reasons, cls_idx, ids,
                                 [c["name"] for c in clusters], label, dist, margin, tree_pred,
                                 probability)


def tables_from_registry_row(row: Mapping) -> dict[str, pd.DataFrame]:
    """Rebuild the diagnostic tables stored in a registry row.

    Parameters
    ----------
    row : dict
        A ``registry_row``.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys ``k_selection, centroids, rules, lineage, preprocessing``; each
        frame has the columns of the corresponding :class:`TrainingResult`
        attribute with ``model_version`` (int64) prepended.
    """
    if isinstance(row, pd.Series):
        row = row.to_dict()
    if not isinstance(row, Mapping):
        raise ValueError(f"row must be a registry row (dict), got {type(row).__name__}")
    missing = [k for k in ("model_version", *(f"{t}_json" for t in TABLE_KEYS)) if k not in row]
    if missing:
        raise ValueError(f"registry row lacks key(s): {', '.join(missing)}")
    version = int(row["model_version"])
    out = {}
    for key in TABLE_KEYS:
        df = frame_from_json(row[f"{key}_json"], key)
        df.insert(0, "model_version", np.full(len(df), version, dtype=np.int64))
        out[key] = df
    return out
