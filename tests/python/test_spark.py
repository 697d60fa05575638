"""The project on Apache Spark (dbt-spark, `method: session`, local pyspark): the whole demo
build - seeds, SQL and Python models, data tests and unit tests - equal to DuckDB's, table by
table and row by row, and each spark__ shim on the input that once broke it.

One Spark build per test session (the `spark_build` fixture): a Spark JVM needs ~4 GB and
every query costs Spark's per-query overhead, so everything here reads that one build or
asks one query of the same session. Needs Java and requirements-spark.txt (`make spark`);
without them the module is skipped, unless SEGMENTATION_REQUIRE_SPARK=1 (`make test`), where
a missing install fails instead.

Write-audit-publish: the build writes into `<schema>_build` and on-run-end publishes the
`published` models into `<schema>` table by table (not atomic on Spark, see
macros/publish/spark_publish.sql). Compared with DuckDB: every PUBLISHED table, on both
engines (what BI reads), CLV tables included. Doubles are equal within a relative 1e-9 (sums
over rows add in no fixed order on either engine). Named exceptions: the wall-clock columns
of each build (`cluster_models.trained_at`, `clv_models.trained_at`,
`published_build.build_id` / `build_started_at`); the snapshot, which Spark without Delta
does not run (its fallback int_customer_segment_states, published in its place, is checked
against DuckDB's published snapshot instead); Spark writes the partition column
`as_of_date` of the history tables last, so columns are compared by name; Spark scores
customer_clusters in SQL (cluster_assignments_sql, distances rounded to 1e-9) where DuckDB
scores in Python, so the distances and margins of `customer_clusters` and
`customer_segments` are equal within an absolute 2e-9.

After the comparison, the shared build is reused (no second full build): `--full-refresh`
of the incremental models, then a `dbt run --select` of the clustering and CLV models with
sample sizes below the demo's input (every customer scored once, SQL scoring equal to the
Python rule, each Python model collecting only its sample), then a failed build.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import time
from decimal import Decimal

import pandas as pd
import pytest

from dbt_harness import PROJECT_DIR, DbtProject

REQUIRED = os.environ.get("SEGMENTATION_REQUIRE_SPARK") == "1"
_missing = [name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None]
if shutil.which("java") is None:
    _missing.append("java")
if _missing and not REQUIRED:
    pytest.skip(f"Spark target not installed ({', '.join(_missing)}): run `make spark`",
                allow_module_level=True)

SCHEMA = "segmentation"
#: Where the Spark build writes every node (write-audit-publish); SCHEMA is the published one.
BUILD_SCHEMA = SCHEMA + "_build"
RELATIVE_TOLERANCE = 1e-9
#: Spark scores customer_clusters in SQL (cluster_assignments_sql), whose distances are
#: rounded to 1e-9; DuckDB's come from Python unrounded. Those columns: within 2e-9.
SQL_DISTANCE_TOLERANCE = 2e-9
ABSOLUTE_TOLERANCE_COLUMNS = {"customer_clusters": {"distance_to_centroid", "margin_to_second_centroid"},
                              "customer_segments": {"cluster_distance", "cluster_margin"}}
#: Columns that differ between any two builds, on any engine (wall-clock times).
VOLATILE_COLUMNS = {"cluster_models": {"trained_at"}, "clv_models": {"trained_at"},
                    "published_build": {"build_id", "build_started_at"}}
#: A seed with what broke dbt-spark's own seed loader: a quote, a backslash, an empty cell.
QUOTED_SEED = 'label,note,amount\nO\'Brien,"say ""hi""",1.5\nback\\slash,,\nnull,plain,2\n'
SPARK_TIMINGS: dict[str, float] = {}


def _spark():
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()


def spark_frame(sql: str) -> pd.DataFrame:
    """A query on the Spark session the build ran in, as pandas."""
    return _spark().sql(sql).toPandas()


@pytest.fixture(scope="session")
def spark_build(tmp_path_factory) -> DbtProject:
    """`dbt build` of the demo on Spark, once per session, into a scratch warehouse."""
    assert not _missing, f"SEGMENTATION_REQUIRE_SPARK=1 but missing: {', '.join(_missing)} (run `make spark`)"
    from segmentation.spark_session_submit import register

    register()
    work = tmp_path_factory.mktemp("spark")
    project = DbtProject.copy_of(PROJECT_DIR, work / "project")
    (project.project_dir / "seeds" / "spark_quoted_values.csv").write_text(QUOTED_SEED)
    project.env = {"SEGMENTATION_TARGET": "spark", "SEGMENTATION_SPARK_DIR": str(work / "spark"),
                   "SEGMENTATION_SPARK_SCHEMA": SCHEMA}
    started = time.monotonic()
    result = project.dbt("build")
    SPARK_TIMINGS["build"] = time.monotonic() - started
    assert result.success, project.failure_summary(result)
    # on-run-end published this build: the published schema names this invocation.
    invocation = json.loads((project.target_path / "run_results.json").read_text())["metadata"]["invocation_id"]
    published = spark_frame(f"select build_id from {SCHEMA}.published_build")
    assert list(published["build_id"]) == [invocation]
    project.build_result = result
    return project


def _tables(schema: str) -> list[str]:
    """The tables (not views) of the Spark schema."""
    return sorted(table.name for table in _spark().catalog.listTables(schema)
                  if table.tableType != "VIEW" and not table.isTemporary)


def _duckdb_tables(project: DbtProject) -> list[str]:
    frame = project.query("select table_name from information_schema.tables "
                          "where table_type = 'BASE TABLE' and table_schema = 'main'")
    return sorted(frame["table_name"])


def _plain(value):
    """A cell as a plain Python value: None for every kind of missing, numbers as float."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if hasattr(value, "isoformat"):
        return pd.Timestamp(value).isoformat()
    return str(value)


def _sort_key(row: tuple) -> tuple:
    # Floats rounded well inside the tolerance, so both engines sort ties the same way.
    return tuple((0, "") if value is None else (1, f"{value:.6e}") if isinstance(value, float)
                 else (2, str(value)) for value in row)


def _rows(frame: pd.DataFrame) -> list[tuple]:
    frame = frame[sorted(frame.columns)]
    rows = [tuple(_plain(value) for value in row) for row in frame.itertuples(index=False, name=None)]
    return sorted(rows, key=_sort_key)


def _equal(left, right, abs_tol: float = 1e-12) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=abs_tol)
    return left == right


def _differences(name: str, duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    volatile = VOLATILE_COLUMNS.get(name, set())
    duck = duck.drop(columns=[c for c in volatile if c in duck.columns])
    spark = spark.drop(columns=[c for c in volatile if c in spark.columns])
    if sorted(duck.columns) != sorted(spark.columns):
        return [f"{name}: columns differ: duckdb {sorted(duck.columns)} spark {sorted(spark.columns)}"]
    if len(duck) != len(spark):
        return [f"{name}: {len(duck)} rows on duckdb, {len(spark)} on spark"]
    columns = sorted(duck.columns)
    problems = []
    for number, (left_row, right_row) in enumerate(zip(_rows(duck), _rows(spark))):
        for column, left, right in zip(columns, left_row, right_row):
            abs_tol = SQL_DISTANCE_TOLERANCE if column in ABSOLUTE_TOLERANCE_COLUMNS.get(name, ()) else 1e-12
            if not _equal(left, right, abs_tol):
                problems.append(f"{name}.{column} (sorted row {number}): duckdb {left!r} spark {right!r}")
        if len(problems) > 5:
            break
    return problems


def test_spark_demo_build_runs_models_seeds_and_every_test(spark_build):
    statuses: dict[str, int] = {}
    for node in spark_build.build_result.result.results:
        kind = node.node.resource_type
        statuses[str(kind)] = statuses.get(str(kind), 0) + 1
        assert str(node.status).lower() in ("success", "pass", "no-op", "warn"), node.node.unique_id
    # Python models ran through the in-process session helper; unit tests and data tests ran.
    assert statuses.get("model", 0) >= 27 and statuses.get("test", 0) >= 200, statuses
    assert statuses.get("unit_test", 0) >= 10, statuses
    # The snapshot needs Delta: skipped on plain Spark, its fallback built instead.
    names = {node.node.name for node in spark_build.build_result.result.results}
    assert "customer_segments_snapshot" not in names
    assert "int_customer_segment_states" in names


def test_every_published_spark_table_equals_duckdb_row_by_row(spark_build, demo_build):
    spark_tables = set(_tables(SCHEMA))
    duck_tables = set(_duckdb_tables(demo_build))
    # The published snapshot is the one published table Spark (without Delta) does not have;
    # its published fallback (compared in test_spark_snapshot_fallback_holds_the_snapshot_state)
    # the one DuckDB does not have.
    assert duck_tables - spark_tables == {"customer_segments_snapshot"}
    assert spark_tables - duck_tables == {"int_customer_segment_states"}
    duck_tables -= {"customer_segments_snapshot"}
    assert {"customer_segments", "customer_predictions", "clv_models", "published_build"} <= duck_tables
    problems = []
    for name in sorted(duck_tables):
        problems += _differences(name, demo_build.query(f'select * from "{name}"'),
                                 spark_frame(f"select * from {SCHEMA}.{name}"))
    assert not problems, "\n".join(problems)
    customers = spark_frame(f"select count(*) as n from {SCHEMA}.customer_segments")["n"][0]
    assert customers == demo_build.scalar("select count(*) from customer_segments") > 2000


def test_spark_snapshot_fallback_holds_the_snapshot_state(spark_build, demo_build):
    duck = demo_build.query(
        "select customer_id, rfm_segment, business_segment, cluster_id, cluster_name, cluster_status, "
        "cluster_model_version, as_of_date from customer_segments_snapshot where dbt_valid_to is null "
        "and dbt_is_deleted = 'False'")
    spark = spark_frame(f"select * from {SCHEMA}.int_customer_segment_states")
    assert len(duck) == demo_build.scalar("select count(*) from customer_segments")
    assert _differences("int_customer_segment_states", duck, spark) == []


# --- the shims, on the inputs that broke them ---------------------------------------------
SHIMS_SQL = """
select
    {{ normalize_id("'12923.0'") }} as float_formatted_id,
    {{ normalize_id("' 12923.5 '") }} as decimal_id,
    {{ normalize_id("'12923x0'") }} as dot_is_not_any_character,
    {{ try_cast("'12,x'", dbt.type_numeric()) }} as bad_number,
    {{ try_cast("'12.25'", dbt.type_numeric()) }} as good_number,
    {{ parse_number("'not a number'") }} as parsed_bad_number,
    {{ quote_literal("it's a \\\\ test") }} as quoted_text,
    cast(1.5 as {{ type_double() }}) as double_value,
    {{ is_finite("cast('NaN' as " ~ type_double() ~ ")") }} as nan_is_finite,
    (select {{ dbt.listagg('label', "', '", 'order by position desc') }}
     from (select 'a' as label, 1 as position union all select 'b', 3 union all select 'c', 2) as ordered)
        as ordered_listagg,
    (select {{ quote_identifier('odd `name" x') }}
     from (select 42 as {{ quote_identifier('odd `name" x') }}) as named) as quoted_identifier_value,
    (select {{ exact_sum('value') }}
     from (select cast(1e16 as double) as value union all select cast(1 as double)
           union all select cast(-1e16 as double)) as added) as exact_total
"""


@pytest.fixture(scope="module")
def shim_row(spark_build) -> dict:
    """Every shim in one query on the Spark session (one query: Spark's overhead is per query)."""
    result = spark_build.dbt("show", "--inline", SHIMS_SQL, "--limit", "1")
    assert result.success, spark_build.failure_summary(result)
    table = result.result.results[0].agate_table
    return dict(zip(table.column_names, table.rows[0]))


def test_spark_normalize_id_uses_dollar_backreference(shim_row):
    assert shim_row["float_formatted_id"] == "12923"
    assert shim_row["decimal_id"] == "12923.5"
    assert shim_row["dot_is_not_any_character"] == "12923x0"


def test_spark_try_cast_yields_null_under_ansi_mode(spark_build, shim_row):
    assert shim_row["bad_number"] is None and shim_row["parsed_bad_number"] is None
    assert float(shim_row["good_number"]) == 12.25
    # dbt-spark turns ANSI mode off in its session; Databricks SQL runs with it on, where a
    # plain cast of bad text raises. The shim's SQL must still give null there.
    result = spark_build.dbt("compile", "--inline",
                             "select {{ try_cast(\"'12,x'\", dbt.type_numeric()) }} as bad_number")
    assert result.success, spark_build.failure_summary(result)
    compiled = result.result.results[0].node.compiled_code
    spark = _spark()
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        assert spark.sql(compiled).collect()[0]["bad_number"] is None
        with pytest.raises(Exception, match="CAST_INVALID_INPUT|cannot be cast|malformed"):
            spark.sql("select cast('12,x' as decimal(28, 6)) as bad_number").collect()
    finally:
        spark.conf.set("spark.sql.ansi.enabled", "false")


def test_spark_quote_literal_keeps_quote_and_backslash(shim_row):
    assert shim_row["quoted_text"] == "it's a \\ test"


def test_spark_double_type_and_is_finite(shim_row):
    assert shim_row["double_value"] == 1.5
    assert shim_row["nan_is_finite"] is False


def test_spark_listagg_keeps_its_order(shim_row):
    assert shim_row["ordered_listagg"] == "b, c, a"


def test_spark_quote_identifier_is_a_name_not_a_string(shim_row):
    assert shim_row["quoted_identifier_value"] == 42


def test_spark_exact_sum_is_exact(shim_row):
    # 1e16 + 1 - 1e16 in doubles is 0 or 1 by the order of adding; as decimals it is 1.
    assert float(shim_row["exact_total"]) == 1.0


def test_spark_raise_error_stops_the_query_with_the_message(spark_build):
    result = spark_build.dbt("show", "--inline",
                             "select {{ raise_error(\"'bad rule: ' || 'x'\") }} as failed", "--limit", "1")
    assert not result.success
    assert "bad rule: x" in spark_build.messages(result)


def test_spark_seed_keeps_quotes_and_empty_cells(spark_build):
    rows = _spark().sql(f"select label, note, amount from {BUILD_SCHEMA}.spark_quoted_values "
                        "order by label nulls last").collect()
    assert [tuple(row) for row in rows] == [("O'Brien", 'say "hi"', 1.5), ("back\\slash", None, None),
                                            # 'null' is null, as dbt's own CSV reader reads it.
                                            (None, "plain", 2.0)]


def test_spark_cluster_rules_are_written_for_spark_from_data(spark_build):
    rules = spark_frame(f"select leaf_id, rule_conditions from {SCHEMA}.cluster_rules")
    assert len(rules) >= 2
    conditions = [json.loads(text) for text in rules["rule_conditions"]]
    assert all(isinstance(rule, list) for rule in conditions) and any(conditions)
    # Every customer of the clustering input is scored in SQL with those rules; the build's
    # data test assert_sql_tree_rules_agree_with_python_tree checked them against Python.
    counts = spark_frame(
        f"select (select count(*) from {SCHEMA}.cluster_assignments_sql) as scored, "
        f"(select count(*) from {BUILD_SCHEMA}.int_customers_clustering_input) as customers, "
        f"(select count(tree_leaf_id) from {SCHEMA}.cluster_assignments_sql) as with_leaf")
    assert counts["scored"][0] == counts["customers"][0] > 2000
    assert counts["with_leaf"][0] > 0


# --- bounded training input on Spark ----------------------------------------------------------
def test_spark_training_frame_collects_only_the_hash_ordered_sample(spark_build):
    from segmentation.dbt_glue import training_frame

    spark = _spark()
    ids = [f"C{number:03d}" for number in range(60)]
    customers = spark.createDataFrame([(customer_id, float(number)) for number, customer_id in enumerate(ids)],
                                      "customer_id string, recency_days double")
    sample, n_customers = training_frame(customers, 10, 42)
    assert n_customers == 60 and len(sample) == 10
    # The first ten in the order of xxhash64(id, random_state), not the first ten rows.
    expected = [row.customer_id for row in spark.sql(
        "select customer_id from values " + ", ".join(f"('{customer_id}')" for customer_id in ids)
        + " as t(customer_id) order by xxhash64(customer_id, 42), customer_id limit 10").collect()]
    assert sorted(sample["customer_id"]) == sorted(expected) != ids[:10]
    # Each row whole; the same sample however the input is ordered or partitioned.
    assert all(float(ids.index(row.customer_id)) == row.recency_days for row in sample.itertuples())
    shuffled, _ = training_frame(customers.orderBy("recency_days", ascending=False).repartition(3), 10, 42)
    assert sorted(shuffled["customer_id"]) == sorted(expected)
    assert sorted(training_frame(customers, 10, 7)[0]["customer_id"]) != sorted(expected)
    # At most sample_size rows: all of them when the input is small enough (as in the demo).
    everyone, n_customers = training_frame(customers, 60, 42)
    assert n_customers == 60 and sorted(everyone["customer_id"]) == ids
    with pytest.raises(ValueError, match="training sample size must be a positive integer"):
        training_frame(customers, 0, 42)


def test_spark_registry_row_from_a_sample_counts_customers_from_spark(spark_build):
    from segmentation.clustering import ClusteringSettings
    from segmentation.dbt_glue import model_result, train_registry_rows, training_frame

    # The demo's clustering input, trained on a 300-customer sample: the count is the table's.
    spark = _spark()
    relation = spark.table(f"{BUILD_SCHEMA}.int_customers_clustering_input")
    registry = spark_frame(f"select settings_json from {SCHEMA}.cluster_models")
    settings = ClusteringSettings.from_mapping({**json.loads(registry["settings_json"][0]),
                                                "training_sample_size": 300, "stability_bootstraps": 0})
    frame, n_customers = training_frame(relation, settings.training_sample_size, settings.random_state)
    assert len(frame) == 300 and n_customers == relation.count() > 2000
    rows = train_registry_rows(frame, settings, "train", None, None, n_customers=n_customers)
    row = rows.iloc[0]
    assert row["n_customers"] == n_customers and row["n_training_sample"] <= 300
    assert pd.isna(row["n_classified"]) and pd.isna(row["n_unclassified"])
    assert f"trained on a hash-ordered sample of 300 of {n_customers} customers" in row["notes_json"]
    # Written to Spark with the registry's types: counts stay integers, unknown ones null.
    written = model_result(rows, spark)
    types = dict(written.dtypes)
    assert types["n_customers"] == types["n_classified"] == "bigint"
    assert written.collect()[0]["n_classified"] is None


# --- a file input read by Spark's own CSV reader ---------------------------------------------------
#: Semicolon-separated, decimal comma, an id written as a float, a missing quantity.
ORDERS_CSV = ("order_id;customer_id;ordered_at;amount;quantity;status\n"
              "O1;12923.0;2026-01-05 10:00:00;19,99;2;completed\n"
              "O2; C7 ;2026-01-06 11:30:00;1,5;1;Cancelled\n"
              "O3;C7;2026-01-07 09:15:00;5,00;;completed\n")


def test_spark_reads_orders_from_a_csv_file(spark_build, tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS_CSV)
    result = spark_build.dbt("show", "--select", "stg_orders", "--limit", "10", vars={
        "orders_input": {"file": str(orders), "delimiter": ";", "decimal_separator": ","}})
    assert result.success, spark_build.failure_summary(result)
    table = result.result.results[0].agate_table
    rows = sorted((dict(zip(table.column_names, row)) for row in table.rows), key=lambda row: row["order_id"])
    assert [row["order_id"] for row in rows] == ["O1", "O2", "O3"]
    assert [row["customer_id"] for row in rows] == ["12923", "C7", "C7"]
    assert [None if row["amount"] is None else float(row["amount"]) for row in rows] == [19.99, 1.5, 5.0]
    assert [row["quantity"] for row in rows][0] == 2 and rows[2]["quantity"] is None
    assert [row["is_flagged_cancelled"] for row in rows] == [False, True, False]
    assert str(rows[1]["ordered_at"]).startswith("2026-01-06 11:30:00")
    # DuckDB's read_csv options have no Spark reader: an error that names the var.
    refused = spark_build.dbt("show", "--select", "stg_orders", "--limit", "1", vars={
        "orders_input": {"file": str(orders), "delimiter": ";", "read_options": {"skip": 1}}})
    assert not refused.success
    assert "var orders_input.read_options (skip) are DuckDB read_csv options" in spark_build.messages(refused)


# --- dbt build --full-refresh on Spark --------------------------------------------------------
#: The incremental models: registries and history. full_refresh is off on every one of them
#: (a registry and a history are never rebuilt from scratch), so --full-refresh must leave
#: their rows exactly as they were, on Spark as on DuckDB.
INCREMENTAL_MODELS = ("cluster_models", "clv_models", "int_customer_segment_states",
                      "segment_size_history", "segment_transitions")


def test_spark_full_refresh_build_keeps_the_registries_and_history_exactly(spark_build):
    before = {name: _rows(spark_frame(f"select * from {BUILD_SCHEMA}.{name}")) for name in INCREMENTAL_MODELS}
    assert all(before[name] for name in ("cluster_models", "clv_models", "segment_size_history"))
    started = time.monotonic()
    result = spark_build.dbt("build", "--full-refresh", "--select", *INCREMENTAL_MODELS)
    SPARK_TIMINGS["full_refresh"] = time.monotonic() - started
    assert result.success, spark_build.failure_summary(result)
    built = {str(node.node.resource_type): set() for node in result.result.results}
    for node in result.result.results:
        built[str(node.node.resource_type)].add(node.node.name)
    assert built["model"] == set(INCREMENTAL_MODELS) and len(built["test"]) >= 10, built
    assert {name: _rows(spark_frame(f"select * from {BUILD_SCHEMA}.{name}")) for name in INCREMENTAL_MODELS} == before


# --- an input larger than the training samples, end to end ------------------------------------
#: Sample sizes below the demo's customer counts (about 2,000 clustering inputs and CLV inputs).
SAMPLE_VARS = {"training_sample_size": 400, "clv_training_sample_size": 500,
               "cluster_comparison_enabled": True, "cluster_comparison_algorithms": ["kmeans"],
               "cluster_comparison_sample_size": 300}
SAMPLED_MODELS = ("cluster_models", "cluster_preprocessing", "cluster_centroids", "cluster_rules",
                  "cluster_k_selection", "cluster_lineage", "cluster_assignments_sql", "customer_clusters",
                  "cluster_algorithm_comparison", "clv_models", "customer_predictions")


@pytest.fixture(scope="module")
def sampled_build(spark_build):
    """The clustering and CLV models rebuilt (`dbt run --select`, into the build schema; a
    partial build never publishes) with sample sizes below the demo's input, and what each
    Python model collected into the driver (dbt_glue.SPARK_COLLECTED)."""
    from segmentation import dbt_glue

    first = len(dbt_glue.SPARK_COLLECTED)
    started = time.monotonic()
    result = spark_build.dbt("run", "--select", *SAMPLED_MODELS, vars=SAMPLE_VARS)
    SPARK_TIMINGS["sampled_run"] = time.monotonic() - started
    assert result.success, spark_build.failure_summary(result)
    return dbt_glue.SPARK_COLLECTED[first:]


def test_spark_sampled_build_scores_every_customer_once(sampled_build):
    counts = spark_frame(
        f"select (select count(*) from {BUILD_SCHEMA}.int_customers_clustering_input) as inputs, "
        f"(select count(*) from {BUILD_SCHEMA}.customer_clusters) as clustered, "
        f"(select count(distinct customer_id) from {BUILD_SCHEMA}.customer_clusters) as clustered_ids, "
        f"(select count(*) from {BUILD_SCHEMA}.int_customers_clv_inputs) as clv_inputs, "
        f"(select count(*) from {BUILD_SCHEMA}.customer_predictions) as predicted, "
        f"(select count(distinct customer_id) from {BUILD_SCHEMA}.customer_predictions) as predicted_ids, "
        f"(select count(*) from {BUILD_SCHEMA}.int_customers_clv_inputs where has_purchases) as purchasers"
    ).iloc[0]
    assert counts["inputs"] == counts["clustered"] == counts["clustered_ids"] > 400
    assert counts["clv_inputs"] == counts["predicted"] == counts["predicted_ids"] > 500
    # The newest models were trained on the samples; the counts are Spark's, of everyone.
    cluster = spark_frame(f"select * from {BUILD_SCHEMA}.cluster_models order by model_version desc").iloc[0]
    assert cluster["n_customers"] == counts["inputs"] and cluster["n_training_sample"] <= 400
    assert f"hash-ordered sample of 400 of {counts['inputs']} customers" in cluster["notes_json"]
    clv = spark_frame(f"select * from {BUILD_SCHEMA}.clv_models order by model_version desc").iloc[0]
    assert clv["n_customers"] == counts["clv_inputs"] and clv["n_purchasers"] == counts["purchasers"]
    assert clv["n_training_sample"] == 500 < counts["purchasers"]
    assert f"sample of 500 of {counts['purchasers']} purchasers" in clv["notes_json"]
    # Every purchaser scored, partition by partition, by that fit; nobody else.
    scored = spark_frame(f"select prediction_status, model_version, count(*) as n, "
                         f"count(probability_alive) as with_probability from "
                         f"{BUILD_SCHEMA}.customer_predictions group by 1, 2")
    assert {(row.prediction_status, int(row.model_version)): (int(row.n), int(row.with_probability))
            for row in scored.itertuples()} == {
        ("scored", int(clv["model_version"])): (counts["purchasers"], counts["purchasers"]),
        ("unscored", int(clv["model_version"])): (counts["clv_inputs"] - counts["purchasers"], 0)}
    comparison = spark_frame(f"select algorithm, n_sample from {BUILD_SCHEMA}.cluster_algorithm_comparison")
    assert list(comparison["algorithm"]) == ["kmeans"] and comparison["n_sample"][0] <= 300


def test_spark_sql_scoring_equals_the_python_model_on_the_same_stored_model(sampled_build):
    from functools import partial

    from segmentation.dbt_glue import assign_customers, score_every_customer, scores_in_sql

    spark = _spark()
    registry = spark_frame(f"select * from {BUILD_SCHEMA}.cluster_models")
    assert scores_in_sql(spark, registry)  # k-means: customer_clusters came from SQL
    python = score_every_customer(spark.table(f"{BUILD_SCHEMA}.int_customers_clustering_input"), spark,
                                  partial(assign_customers, registry=registry)).toPandas()
    sql = spark_frame(f"select * from {BUILD_SCHEMA}.customer_clusters")
    assert list(sql.columns) == list(python.columns) and len(sql) == len(python)
    both = python.merge(sql, on="customer_id", suffixes=("_python", "_sql"), validate="one_to_one")
    assert len(both) == len(python)
    # Exact ties (margin within the SQL rounding of 1e-9) may pick either centroid.
    untied = both[~(both["margin_to_second_centroid_python"] <= 1e-9)]
    for column in ("model_version", "cluster_id", "cluster_name", "tree_cluster_id", "segment_status",
                   "unclassified_reason"):
        left = [_plain(value) for value in untied[f"{column}_python"]]
        right = [_plain(value) for value in untied[f"{column}_sql"]]
        assert left == right, column
    for column in ("distance_to_centroid", "margin_to_second_centroid"):
        left, right = untied[f"{column}_python"].astype(float), untied[f"{column}_sql"].astype(float)
        assert ((left - right).abs().fillna(0) <= SQL_DISTANCE_TOLERANCE).all(), column
        assert (left.isna() == right.isna()).all(), column
    assert both["cluster_probability_sql"].isna().all() and both["cluster_probability_python"].isna().all()
    assert (both["segment_status_python"] == "classified").sum() > 400


def test_spark_python_models_collect_only_their_bounded_samples(sampled_build):
    collected: dict[str, list[tuple[str, int]]] = {}
    for model, what, rows in sampled_build:
        collected.setdefault(model, []).append((what, rows))
    # The samples, exactly their sizes (the inputs are larger); registries read whole (a few rows);
    # customer_clusters collects no customer (SQL); customer_predictions one row, for its schema.
    training = {model: [rows for what, rows in calls if what == "training_frame"]
                for model, calls in collected.items()}
    assert training["cluster_models"] == [400]
    assert training["cluster_algorithm_comparison"] == [300]
    assert training["clv_models"] == [500]
    assert all(not rows for model, rows in training.items()
               if model not in ("cluster_models", "cluster_algorithm_comparison", "clv_models"))
    assert [calls for calls in collected["customer_predictions"] if calls[0] != "relation_frame"] == [
        ("schema_example", 1)]
    assert "customer_clusters" in collected and set(collected) >= set(
        name for name in SAMPLED_MODELS if name != "cluster_assignments_sql")
    registries = spark_frame(f"select (select count(*) from {BUILD_SCHEMA}.cluster_models) as clusters, "
                             f"(select count(*) from {BUILD_SCHEMA}.clv_models) as clv").iloc[0]
    assert all(rows <= max(registries["clusters"], registries["clv"])
               for calls in collected.values() for what, rows in calls if what == "relation_frame")


def test_spark_scores_in_sql_only_for_nearest_centroid_models(spark_build):
    from segmentation.dbt_glue import scores_in_sql

    spark = _spark()
    registry = spark_frame(f"select * from {SCHEMA}.cluster_models")
    assert scores_in_sql(spark, registry)
    assert not scores_in_sql(spark_build.project_dir, registry)  # not Spark: Python
    registry = registry.astype({"is_centroid_scoring_faithful": object})
    latest = registry["model_version"] == registry["model_version"].max()
    for faithful, status, expected in ((False, "ok", False), (None, "ok", True), (True, "no_model", False)):
        changed = registry.copy()
        changed.loc[latest, "is_centroid_scoring_faithful"] = faithful
        changed.loc[latest, "params_json"] = json.dumps({**json.loads(changed.loc[latest, "params_json"].iloc[0]),
                                                         "status": status})
        assert scores_in_sql(spark, changed) is expected, (faithful, status)


# --- a failed build on Spark (last: it rebuilds part of the shared build schema) -----------------
def _published_checksums() -> dict[str, tuple]:
    """Rows and an order-independent hash of every published table, in one Spark query."""
    tables = _tables(SCHEMA)
    sql = " union all ".join(
        f"select '{name}' as table_name, count(*) as n_rows, "
        f"sum(cast(xxhash64(*) as decimal(38, 0))) as row_hash from {SCHEMA}.{name}" for name in tables)
    return {row.table_name: (row.n_rows, row.row_hash) for row in _spark().sql(sql).collect()}


def test_spark_a_failing_error_test_leaves_the_published_schema_unchanged(spark_build):
    before = _published_checksums()
    assert {"customer_segments", "cluster_models", "published_build"} <= set(before)
    # An error-severity singular test on staging: every order line "fails" it.
    failing = spark_build.project_dir / "tests" / "dbt" / "spark_every_order_fails.sql"
    failing.write_text("select order_id from {{ ref('stg_orders') }}\n")
    log_file = spark_build.target_path / "logs" / "dbt.log"
    log_start = log_file.stat().st_size
    try:
        result = spark_build.dbt("build", "--exclude", "resource_type:unit_test")
    finally:
        failing.unlink()
    assert not result.success
    assert "spark_every_order_fails" in spark_build.failure_summary(result)
    with log_file.open() as log:
        log.seek(log_start)
        assert "write-audit-publish: NOT published: " in log.read()
    assert _published_checksums() == before
