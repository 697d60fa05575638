"""What the dbt Python models in python_models/clustering/ call.

The models stay thin (read refs, call one function here, return a DataFrame); everything
with logic lives in this package, where pytest can reach it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits

from segmentation.clustering import (
    ClusteringSettings,
    score_customers,
    tables_from_registry_row,
    train_segmentation,
    training_input,
)
from segmentation.clustering._common import dumps
from segmentation.retrain import RetrainDecision, RetrainSchedule, retrain_decision

CLUSTERING_MODES = ("train", "score")
#: Environment variable: threads for the BLAS and OpenMP pools of NumPy, SciPy and
#: scikit-learn while a clustering model runs. Default 1: the models run beside DuckDB
#: (another dbt thread may run SQL on the same cores), and the work is small matrix products
#: on at most training_sample_size rows; "default" leaves the libraries' own choice.
PYTHON_THREADS_ENV = "SEGMENTATION_PYTHON_THREADS"
#: Spark only: every collection into the driver's pandas made by this module, as
#: ``(model, what, rows)`` in the order they happened: the dbt Python model that asked
#: (empty outside one), the function (``relation_frame``, ``training_frame``,
#: ``schema_example``) and the rows collected. The tests read it to prove that no Python
#: model collects more than its bounded sample; the module never resets it.
SPARK_COLLECTED: list[tuple[str, str, int]] = []
#: Module name prefix of a model's code run by segmentation.spark_session_submit.
_MODEL_MODULE_PREFIX = "dbt_python_model."


def python_thread_limit() -> contextlib.AbstractContextManager:
    """Context limiting the BLAS/OpenMP thread pools (see :data:`PYTHON_THREADS_ENV`).

    Raises
    ------
    ValueError
        If the variable is neither a positive integer nor ``default``.
    """
    value = os.environ.get(PYTHON_THREADS_ENV, "1").strip().lower()
    if value == "default":
        return contextlib.nullcontext()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PYTHON_THREADS_ENV} must be a positive integer or 'default', got {value!r}")
    return threadpool_limits(limits=int(value))


def is_spark(obj: Any) -> bool:
    """True for a pyspark SparkSession or DataFrame (the Spark target), False for DuckDB's."""
    return type(obj).__module__.startswith("pyspark.")


def relation_frame(relation: Any, via_arrow: bool = True) -> pd.DataFrame:
    """A model input (DuckDB relation or Spark DataFrame) as a pandas DataFrame.

    DuckDB: column by column through Arrow (for the clustering input, the same frame as
    ``relation.df()`` in about half the time; ``via_arrow=False`` gives DuckDB's own
    ``relation.df()``). Spark: ``toPandas()``.
    """
    if is_spark(relation):
        return _collect(relation, "relation_frame")
    return relation.to_arrow_table().to_pandas() if via_arrow else relation.df()


def training_frame(relation: Any, sample_size: int, random_state: int,
                   id_column: str = "customer_id") -> tuple[pd.DataFrame, int]:
    """What a model trains on: the input (DuckDB) or its bounded training sample (Spark).

    DuckDB: the whole input, as :func:`relation_frame` (the pipeline draws its own sample).
    Spark: never the whole table. The customers are counted by Spark; when there are more
    than ``sample_size``, only the ``sample_size`` customers first in the order of
    ``xxhash64(id, random_state)`` (ties by id) are collected, a sample that is the same on
    every run and every partitioning; at most ``sample_size`` customers, all of them, are
    collected otherwise (so the demo trains on the same rows on both engines).

    Parameters
    ----------
    relation : DuckDB relation or Spark DataFrame, one row per customer
    sample_size : int
        At most this many rows are collected on Spark (a positive integer).
    random_state : int
        Seed of the hash order.
    id_column : str
        The customer id column of ``relation``.

    Returns
    -------
    frame : pandas.DataFrame
        The rows to train on.
    n_customers : int
        Rows of the whole input (counted by the engine, not from ``frame``).

    Raises
    ------
    ValueError
        If ``sample_size`` is not a positive integer.
    """
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
        raise ValueError(f"training sample size must be a positive integer, got {sample_size!r}")
    if not is_spark(relation):
        frame = relation_frame(relation)
        return frame, len(frame)
    from pyspark.sql import functions as F

    n_customers = relation.count()
    if n_customers <= sample_size:
        return _collect(relation, "training_frame"), n_customers
    order = F.xxhash64(F.col(id_column).cast("string"), F.lit(int(random_state)))
    sample = relation.orderBy(order, F.col(id_column).cast("string")).limit(sample_size)
    return _collect(sample, "training_frame"), n_customers


def _collect(frame: Any, what: str) -> pd.DataFrame:
    """``frame.toPandas()`` (Spark), recorded in :data:`SPARK_COLLECTED`."""
    collected = frame.toPandas()
    SPARK_COLLECTED.append((_calling_model(), what, len(collected)))
    return collected


def _calling_model() -> str:
    """The dbt Python model whose code is on the call stack ('' outside one)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith(_MODEL_MODULE_PREFIX):
            return name[len(_MODEL_MODULE_PREFIX):]
        frame = frame.f_back
    return ""


def query_frame(session: Any, sql: str) -> pd.DataFrame:
    """The result of a query on the model's own session (DuckDB or Spark) as pandas."""
    return relation_frame(session.sql(sql))


def model_result(frame: pd.DataFrame, session: Any, arrow: bool = False) -> Any:
    """What a Python model returns for ``frame``, for the engine it runs on.

    DuckDB: the DataFrame itself, or an Arrow table when ``arrow`` (stored about twice as
    fast). Spark: a Spark DataFrame with an explicit schema from the pandas dtypes, so that
    an empty result keeps its columns and types, and every missing value (NaN, NaT, None)
    is SQL null rather than a floating-point NaN.
    """
    if is_spark(session):
        return spark_frame(session, frame)
    return arrow_table(frame) if arrow else frame


def score_every_customer(relation: Any, session: Any, score: Callable[[pd.DataFrame], pd.DataFrame],
                         arrow: bool = False) -> Any:
    """A model's result that scores every customer of ``relation`` with ``score``.

    DuckDB: ``score`` of the whole input, as :func:`model_result`. Spark: the input is never
    collected; ``score`` runs on each partition where it lies (``mapInPandas``, on the
    executors), so ``score`` must treat rows independently (a stored model applied row by
    row). The result's Spark schema is that of ``score`` on the first row (missing values
    become SQL null, as in :func:`model_result`).
    """
    if not is_spark(relation):
        return model_result(score(relation_frame(relation)), session, arrow=arrow)
    example = score(_collect(relation.limit(1), "schema_example"))
    schema = spark_frame(session, example).schema
    columns = list(example.columns)

    def score_batches(batches):
        for batch in batches:
            if len(batch):
                yield score(batch)[columns]

    return relation.mapInPandas(score_batches, schema)


def _spark_type(series: pd.Series):
    from pyspark.sql import types as T

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return T.BooleanType()
    if pd.api.types.is_integer_dtype(dtype):
        return T.LongType()
    if pd.api.types.is_float_dtype(dtype):
        return T.DoubleType()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return T.TimestampType()
    values = series.dropna()
    if len(values) and all(isinstance(v, (bool,)) for v in values):
        return T.BooleanType()
    if len(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return T.LongType()
    if len(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return T.DoubleType()
    return T.StringType()


def _python_value(value: Any) -> Any:
    if value is None or _is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        # pyspark checks the exact type of a TimestampType value: datetime, not its subclass.
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalar -> Python scalar
    return value


def spark_frame(session: Any, frame: pd.DataFrame) -> Any:
    """A pandas DataFrame as a Spark DataFrame: explicit schema, missing values as null."""
    from pyspark.sql import types as T

    fields = [T.StructField(str(name), _spark_type(frame[name]), True) for name in frame.columns]
    rows = [tuple(_python_value(value) for value in row)
            for row in frame.itertuples(index=False, name=None)]
    for position, field_ in enumerate(fields):
        if isinstance(field_.dataType, T.StringType):
            rows = [row[:position] + ((None if row[position] is None else str(row[position])),)
                    + row[position + 1:] for row in rows] if rows else rows
        elif isinstance(field_.dataType, T.DoubleType):
            rows = [row[:position] + ((None if row[position] is None else float(row[position])),)
                    + row[position + 1:] for row in rows] if rows else rows
    return session.createDataFrame(rows, T.StructType(fields))


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A model's result as an Arrow table: DuckDB stores it about twice as fast as a DataFrame."""
    return pa.Table.from_pandas(frame, preserve_index=False)


def clustering_settings(settings_json: str) -> tuple[ClusteringSettings, str]:
    """Parse the JSON the dbt config passes in (all clustering vars) into validated settings.

    Returns
    -------
    settings : ClusteringSettings
    mode : {'train', 'score'}
    """
    raw = json.loads(settings_json)
    mode = raw.pop("clustering_mode", "train")
    if mode not in CLUSTERING_MODES:
        raise ValueError(f"var clustering_mode must be 'train' or 'score', got {mode!r}")
    return ClusteringSettings.from_mapping(raw), mode


def latest_registry_row(registry: pd.DataFrame, algorithm: str | None = None) -> dict[str, Any] | None:
    """The newest row (highest model_version) of the cluster_models registry, or None.

    With ``algorithm``: the newest row trained with that method (rows from before the
    method was recorded are k-means), so stable ids match a model of the same method.
    """
    if registry is None or len(registry) == 0:
        return None
    if algorithm is not None:
        registry = registry[[_row_algorithm(r) == algorithm for r in registry["settings_json"]]]
        if len(registry) == 0:
            return None
    row = registry.sort_values("model_version").iloc[-1]
    return {key: (None if _is_missing(value) else value) for key, value in row.to_dict().items()}


def _row_algorithm(settings_json: Any) -> str:
    try:
        return json.loads(settings_json).get("algorithm", "kmeans")
    except (TypeError, ValueError):
        return "kmeans"


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def train_registry_rows(frame: pd.DataFrame, settings: ClusteringSettings, mode: str,
                        previous: dict[str, Any] | None, empty_like: pd.DataFrame | None,
                        same_method: dict[str, Any] | None | str = "previous",
                        n_customers: int | None = None, as_of_date: Any = None,
                        schedule: RetrainSchedule | None = None) -> pd.DataFrame:
    """The rows to append to the registry this build: one new model, or none.

    The rows of :func:`cluster_registry_update` (which also says why).
    """
    return cluster_registry_update(frame, settings, mode, previous, empty_like, same_method,
                                   n_customers, as_of_date, schedule)[0]


def cluster_registry_update(frame: pd.DataFrame, settings: ClusteringSettings, mode: str,
                            previous: dict[str, Any] | None, empty_like: pd.DataFrame | None,
                            same_method: dict[str, Any] | None | str = "previous",
                            n_customers: int | None = None, as_of_date: Any = None,
                            schedule: RetrainSchedule | None = None
                            ) -> tuple[pd.DataFrame, RetrainDecision]:
    """The rows to append to the registry this build (one new model, or none) and why.

    No row is added in score mode, when the latest model was trained on identical data
    with identical settings (same fingerprint: a rerun reuses it, so reruns are stable), or
    when the retrain schedule says the stored model still scores this build
    (:func:`segmentation.retrain.retrain_decision`: settings unchanged, its as-of date fewer
    than ``schedule.after_days`` days before ``as_of_date``, the customer count within
    ``schedule.max_customer_change``). ``schedule`` None: the schedule is off (after_days 0,
    every change of data retrains, as before issue 13). A new row records ``as_of_date``
    and the decision's reason (``retrain_reason``).
    ``previous`` is the newest row; ``same_method`` the newest row of ``settings.algorithm``
    (stable ids are matched against it; None: no model of this method yet; default: the
    string ``"previous"``, i.e. ``previous`` itself).
    ``n_customers`` (from :func:`training_frame`) is the size of the whole input when
    ``frame`` is only its training sample (Spark): the row then records it as
    ``n_customers``, leaves ``n_classified`` / ``n_unclassified`` null (they are counted
    when every customer is scored, in customer_clusters and customer_segments) and says so
    in its notes.
    """
    if mode == "score" and previous is None:
        raise ValueError("clustering_mode is 'score' but no model is stored yet: "
                         "build once with clustering_mode: train")
    schedule = schedule if schedule is not None else RetrainSchedule(after_days=0)
    empty_like = with_columns(empty_like, SCHEDULE_COLUMNS)
    if mode == "score":
        return empty_like, retrain_decision(previous, mode=mode, settings_changed=False, fingerprint=None,
                                            n_customers=None, as_of_date=None, schedule=schedule)
    prepared = training_input(frame, settings)
    fingerprint = prepared[1]
    decision = retrain_decision(
        previous, mode=mode, fingerprint=fingerprint,
        settings_changed=previous is not None and previous.get("config_hash") != settings.config_hash(),
        n_customers=n_customers if n_customers is not None else len(frame), as_of_date=as_of_date,
        schedule=schedule)
    if not decision.trains:
        return empty_like, decision
    trained_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    with python_thread_limit():
        result = train_segmentation(frame, settings,
                                    previous=previous if same_method == "previous" else same_method,
                                    latest=previous, trained_at=trained_at, prepared=prepared)
    row = dict(result.registry_row)
    if n_customers is not None and n_customers > len(frame):
        row.update(n_customers=int(n_customers), n_classified=None, n_unclassified=None,
                   notes_json=dumps([*json.loads(row["notes_json"]),
                                          f"trained on a hash-ordered sample of {len(frame)} of "
                                          f"{n_customers} customers (var training_sample_size)"]))
    row.update(as_of_date=None if _date_or_none(as_of_date) is None else pd.Timestamp(as_of_date),
               retrain_reason=decision.reason)
    new = pd.DataFrame([row]).astype({"n_classified": "Int64", "n_unclassified": "Int64", **SCHEDULE_COLUMNS})
    return new, decision


#: Columns issue 13 added to cluster_models, with their dtypes (see :func:`with_columns`).
SCHEDULE_COLUMNS = {"as_of_date": "datetime64[us]", "retrain_reason": "str"}


def with_columns(frame: pd.DataFrame | None, dtypes: dict[str, str]) -> pd.DataFrame | None:
    """``frame`` with every column of ``dtypes`` it lacks added, empty, of that dtype.

    A registry stored before a column existed gets it appended (``on_schema_change:
    append_new_columns``) only if the model's result has it, also when the build adds no
    row: without it, a build that reuses a stored model would leave the column missing for
    the models that read it.
    """
    if frame is None:
        return None
    missing = {name: dtype for name, dtype in dtypes.items() if name not in frame.columns}
    if not missing:
        return frame
    return frame.assign(**{name: pd.Series(index=frame.index, dtype=dtype) for name, dtype in missing.items()})


def _date_or_none(value: Any) -> Any:
    return None if value is None or _is_missing(value) else value


def build_as_of_date(relation: Any) -> Any:
    """The build's as-of date: the one value of int_as_of_date (DuckDB relation or Spark)."""
    frame = relation_frame(relation)
    if len(frame) != 1 or "as_of_date" not in frame.columns:
        raise ValueError(f"int_as_of_date must hold one row with as_of_date, got {len(frame)} row(s)")
    return _date_or_none(frame["as_of_date"].iloc[0])


def assign_customers(frame: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    """Every customer of the clustering input scored with the latest stored model."""
    latest = latest_registry_row(registry)
    if latest is None:
        raise ValueError("cluster_models holds no model: the clustering step did not train one")
    with python_thread_limit():
        assignments = score_customers(frame, latest)
    assignments.insert(1, "model_version", int(latest["model_version"]))
    return assignments


#: Reason of a customer the Python rule would classify but the SQL nearest-centroid scoring
#: gave no cluster (a feature SQL could not compute); kept, never dropped.
NO_SQL_CLUSTER_REASON = "no nearest centroid in SQL scoring (cluster_assignments_sql)"


def scores_in_sql(session: Any, registry: pd.DataFrame) -> bool:
    """True when customer_clusters takes its clusters from the SQL scoring (Spark only).

    On Spark, every customer is scored in SQL (cluster_assignments_sql: the stored
    preprocessing, centroids and tree rules, written for the target by macros) when the
    latest model assigns by nearest centroid (``is_centroid_scoring_faithful``: kmeans,
    agglomerative, meanshift). The other methods (noise, probabilities: dbscan, hdbscan,
    gmm, birch, kprototypes) and a build that trained no model are scored by the Python
    rule, partition by partition (:func:`score_every_customer`). DuckDB: always Python.
    """
    if not is_spark(session):
        return False
    latest = latest_registry_row(registry)
    if latest is None:
        return False
    params = json.loads(latest["params_json"])
    faithful = latest.get("is_centroid_scoring_faithful")
    return params.get("status") == "ok" and (faithful is None or bool(faithful))


def sql_scored_assignments(relation: Any, sql_scores: Any, registry: pd.DataFrame) -> Any:
    """customer_clusters on Spark from the SQL scoring of the latest stored model.

    Every customer of ``relation`` (the clustering input) once, with the columns and types
    of :func:`assign_customers`: the cluster and distances of ``sql_scores``
    (cluster_assignments_sql: nearest stored centroid, tree rules as CASE), the cluster's
    stored name, and the Python rule's status: with var cluster_null_strategy
    ``unclassified`` a customer with a missing or non-finite used numeric feature is
    unclassified with the reason ``missing value in: <features, alphabetical>``; a customer
    the rule classifies but SQL gives no centroid is unclassified with
    :data:`NO_SQL_CLUSTER_REASON`. ``cluster_probability`` is null (these methods have
    none). Distances are SQL's, rounded to 1e-9 (see score_nearest_centroid). Built with
    Spark's DataFrame API on the model's own relations: no SQL text is written here.

    Parameters
    ----------
    relation : Spark DataFrame, the clustering input (one row per customer)
    sql_scores : Spark DataFrame, cluster_assignments_sql
    registry : pandas.DataFrame, cluster_models (see :func:`scores_in_sql`)
    """
    import operator
    from functools import reduce

    from pyspark.sql import functions as F

    latest = latest_registry_row(registry)
    params = json.loads(latest["params_json"])
    pre = params["preprocessing"]
    numeric = sorted(str(p["feature"]) for p in pre["numeric"])

    def missing(name: str):
        value = F.col(name).cast("double")
        return value.isNull() | F.isnan(value) | (F.abs(value) == F.lit(float("inf")))

    if pre["null_strategy"] == "unclassified" and numeric:
        any_missing = reduce(operator.or_, [missing(name) for name in numeric])
        missing_reason = F.concat(F.lit("missing value in: "),
                                  F.concat_ws(", ", *[F.when(missing(name), F.lit(name)) for name in numeric]))
    else:
        any_missing, missing_reason = F.lit(False), F.lit(None).cast("string")
    names = F.create_map(*[item for cluster in params["clusters"]
                           for item in (F.lit(int(cluster["cluster_id"])), F.lit(str(cluster["name"])))])
    scores = sql_scores.select(
        F.col("customer_id").cast("string").alias("customer_id"),
        F.col("nearest_cluster_id").cast("bigint").alias("sql_cluster_id"),
        F.col("distance_to_centroid").cast("double").alias("sql_distance"),
        F.col("distance_to_second").cast("double").alias("sql_second"),
        F.col("tree_cluster_id").cast("bigint").alias("sql_tree_cluster_id"))
    customers = relation.select(F.col("customer_id").cast("string").alias("customer_id"), *numeric)
    joined = customers.join(scores, on="customer_id", how="left")
    classified = ~any_missing & F.col("sql_cluster_id").isNotNull()

    def when_classified(column):
        return F.when(classified, column)

    return joined.select(
        F.col("customer_id"),
        F.lit(int(latest["model_version"])).cast("bigint").alias("model_version"),
        when_classified(F.col("sql_cluster_id")).alias("cluster_id"),
        when_classified(names[F.col("sql_cluster_id")]).cast("string").alias("cluster_name"),
        when_classified(F.col("sql_distance")).alias("distance_to_centroid"),
        when_classified(F.col("sql_second") - F.col("sql_distance")).alias("margin_to_second_centroid"),
        when_classified(F.col("sql_tree_cluster_id")).alias("tree_cluster_id"),
        F.when(classified, F.lit("classified")).otherwise(F.lit("unclassified")).alias("segment_status"),
        F.when(classified, F.lit(None).cast("string"))
        .when(any_missing, missing_reason)
        .otherwise(F.lit(NO_SQL_CLUSTER_REASON)).alias("unclassified_reason"),
        F.lit(None).cast("double").alias("cluster_probability"),
    )


def comparison_input(relation: Any, registry: pd.DataFrame, comparison_json: str) -> pd.DataFrame:
    """What cluster_algorithm_comparison trains on: the input (DuckDB) or its bounded sample.

    DuckDB: the whole input (:func:`relation_frame`; the comparison draws its own seeded
    sample of var cluster_comparison_sample_size). Spark: nothing when the comparison is
    off; else the first var cluster_comparison_sample_size customers in the hash order of
    :func:`training_frame` (seed: the latest model's random_state), which the comparison
    then takes whole - so on an input larger than the sample the two engines compare the
    methods on different (equally seeded, reproducible) samples.
    """
    if not is_spark(relation):
        return relation_frame(relation)
    from segmentation.clustering.settings import ComparisonSettings

    comparison = ComparisonSettings.from_mapping(json.loads(comparison_json))
    latest = latest_registry_row(registry)
    if not comparison.enabled or latest is None:
        return _collect(relation.limit(0), "training_frame")
    random_state = int(json.loads(latest["settings_json"]).get("random_state", 42))
    return training_frame(relation, comparison.sample_size, random_state)[0]


def algorithm_comparison(frame: pd.DataFrame, registry: pd.DataFrame, comparison_json: str) -> pd.DataFrame:
    """The cluster_algorithm_comparison table: every enabled method on one sample, with the
    settings of the latest model (see :mod:`segmentation.clustering.comparison`)."""
    from segmentation.clustering.comparison import comparison_from_registry_row

    latest = latest_registry_row(registry)
    if latest is None:
        raise ValueError("cluster_models holds no model: the clustering step did not train one")
    with python_thread_limit():
        return comparison_from_registry_row(frame, latest, json.loads(comparison_json))


def registry_table(registry: pd.DataFrame, name: str) -> pd.DataFrame:
    """One of the small tables stored in the latest registry row (rules, centroids, ...)."""
    latest = latest_registry_row(registry)
    if latest is None:
        raise ValueError("cluster_models holds no model: the clustering step did not train one")
    return tables_from_registry_row(latest)[name]
