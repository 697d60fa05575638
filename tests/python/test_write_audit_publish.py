"""Write-audit-publish: what BI reads is always one whole build that passed its tests.

A ``dbt build`` writes the schema ``main_build``; only a run that built every published
model and passed every error-severity test copies them into ``main`` (what BI reads), in
one transaction. These tests kill builds at five moments, fail a test on purpose, read the
published tables from a second process during a failing build, and check the guards that
stop a doomed build before it writes anything.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from dbt_harness import BUILD_SCHEMA, PROJECT_DIR, PUBLISHED_SCHEMA, DbtProject, wait_for_log

BUILD = ("build", "--exclude-resource-type", "unit_test")
# Columns that name the build or the wall-clock time, not its data; the registry decisions
# of published_build say what this invocation did (a first build trains, its rerun reuses).
RUN_COLUMNS = {"published_build": ("build_id", "build_started_at", "cluster_model_decision", "clv_model_decision"),
               "cluster_models": ("trained_at",), "clv_models": ("trained_at",)}
# The tables a BI tool reads: every node tagged `published` (dbt_project.yml).
PUBLISHED_TABLES = {
    "customer_features", "customer_segments", "cluster_assignments_sql", "cluster_models",
    "customer_clusters", "cluster_k_selection", "cluster_centroids", "cluster_rules", "cluster_lineage",
    "cluster_preprocessing", "customer_segments_snapshot", "segment_size_history", "segment_transitions",
    "segment_profiles", "segment_cards", "data_quality_report", "published_build",
    "clv_models", "customer_predictions", "metricflow_time_spine", "int_customers_clv_inputs",
    "int_customers_clustering_input", "cluster_algorithm_comparison",
}
# A retrain (other k-means settings): a new registry row, new clusters, new history rows.
RETRAIN = {"cluster_n_init": 12}
# An error-severity data test that fails: the drift tests at severity error, and no segment
# may hold more than 5% of the customers (segment_size_history_share_within_bounds). The
# share bounds are quiet on the first as-of date of the history, so the failing build is
# for a later date than the published one (2026-10-31): the history then has two dates.
FAILING_TEST = {"drift_test_severity": "error", "segment_max_share": 0.05, "as_of_date": "2026-11-30"}


def table_checksums(database: Path, schema: str = PUBLISHED_SCHEMA,
                    without_run_columns: bool = False) -> dict[str, str]:
    """sha256 of every table of ``schema``, rows in a fixed order (all columns).

    ``without_run_columns`` compares two different builds: it leaves out the columns that
    name the build or the wall clock. Floats are compared to the bit (17 significant
    digits): published aggregates are summed exactly (macros/sql/exact_sum.sql).
    """
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]).fetchall()]
        sums = {}
        for table in tables:
            excluded = RUN_COLUMNS.get(table, ()) if without_run_columns else ()
            columns = "* exclude (" + ", ".join(excluded) + ")" if excluded else "*"
            frame = con.sql(f'select {columns} from "{schema}"."{table}" order by all').df()
            text = frame.to_csv(index=False, float_format="%.17g")
            sums[table] = hashlib.sha256(text.encode()).hexdigest()
    return sums


def demo_files(folder: Path, orders_before: str | None = None) -> dict:
    """The demo data as CSV inputs (optionally only the orders before a date)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind in ("customers", "orders"):
        frame = pd.read_csv(PROJECT_DIR / f"seeds/demo/demo_{kind}.csv", dtype=str, keep_default_na=False)
        if kind == "orders" and orders_before is not None:
            frame = frame[frame["ordered_at"] < orders_before]
        path = folder / f"{kind}.csv"
        frame.to_csv(path, index=False)
        paths[f"{kind}_input"] = {"file": str(path)}
    return paths


def dbt_subprocess(project: DbtProject, vars_: dict, log: Path) -> subprocess.Popen:
    env = {**os.environ, "SEGMENTATION_DUCKDB_PATH": str(project.database), "SEGMENTATION_THREADS": "2",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.Popen(
        [str(dbt), *BUILD, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--target-path", str(project.target_path / "sub"), "--log-path", str(project.target_path / "sub-logs"),
         "--vars", yaml.safe_dump(vars_, default_flow_style=True, width=10**6)],
        cwd=PROJECT_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(log: Path, text: str, process: subprocess.Popen, timeout: float = 600) -> None:
    wait_for_log(log, text, process, timeout)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """One database with a published build of the demo files, and its checksums."""
    work = tmp_path_factory.mktemp("wap")
    files = demo_files(work / "data")
    project = DbtProject(PROJECT_DIR, database=work / "wap.duckdb", target_path=work / "target")
    project.dbt(*BUILD, vars=files, expect_success=True)
    return project, files


def test_a_build_publishes_every_published_model_with_its_build_id(published):
    project, _ = published
    sums = table_checksums(project.database)
    assert set(sums) == PUBLISHED_TABLES
    build = project.query("select * from published_build", schema=PUBLISHED_SCHEMA)
    assert len(build) == 1
    run_results = yaml.safe_load((project.target_path / "run_results.json").read_text())
    assert build["build_id"][0] == run_results["metadata"]["invocation_id"]
    # The published copies hold the rows that were built and tested.
    for table in ("customer_segments", "cluster_models", "segment_size_history"):
        assert project.scalar(f"select count(*) from {table}", schema=PUBLISHED_SCHEMA) == \
            project.scalar(f"select count(*) from {table}", schema=BUILD_SCHEMA) > 0
    assert project.scalar("select status from wap_build_state", schema=BUILD_SCHEMA) == "clean"


def test_a_partial_build_writes_the_build_schema_and_never_publishes(published):
    project, files = published
    before = table_checksums(project.database)
    result = project.dbt("build", "--select", "+customer_segments", vars={**files, "as_of_date": "2026-09-30"},
                         expect_success=True)
    assert result.success
    log = (project.target_path / "logs" / "dbt.log").read_text()
    assert "write-audit-publish: NOT published: this run did not build every published model" in log
    assert table_checksums(project.database) == before
    assert str(project.scalar("select max(as_of_date) from customer_segments", schema=BUILD_SCHEMA)) == "2026-09-30"
    assert str(project.scalar("select max(as_of_date) from customer_segments", schema=PUBLISHED_SCHEMA)) == "2026-10-31"


def test_a_failing_error_test_publishes_nothing_and_leaves_no_state_behind(published, tmp_path):
    project, files = published
    before = table_checksums(project.database)
    before_data = table_checksums(project.database, without_run_columns=True)
    models_before = project.scalar("select count(*) from cluster_models", schema=PUBLISHED_SCHEMA)
    # The build schema may hold more: a clean partial build's state carries over (by design).
    build_models_before = project.scalar("select count(*) from cluster_models", schema=BUILD_SCHEMA)
    result = project.dbt(*BUILD, vars={**files, **RETRAIN, **FAILING_TEST})
    assert not result.success
    assert "segment_size_history_share_within_bounds" in project.failure_summary(result)
    # The retrain was built and appended in the build schema, and none of it reached BI.
    assert project.scalar("select count(*) from cluster_models", schema=BUILD_SCHEMA) == build_models_before + 1
    assert table_checksums(project.database) == before
    assert project.scalar("select status from wap_build_state", schema=BUILD_SCHEMA) == "dirty"
    # The next build starts from the published registry, not from the failed build's one:
    # on the same data it publishes exactly what was published before.
    project.dbt(*BUILD, vars=files, expect_success=True)
    assert project.scalar("select count(*) from cluster_models", schema=PUBLISHED_SCHEMA) == models_before
    assert table_checksums(project.database, without_run_columns=True) == before_data


# --- guards before work ----------------------------------------------------------------------

GUARDS = {
    "as-of date before the history": (
        {"as_of_date": "2026-06-01"},
        "var as_of_date: the customer_segments history already holds the as-of date 2026-10-31"),
    "orders table missing": (
        {"orders_input": {"table": "no_such_orders"}}, "var orders_input.table: there is no table"),
    "orders file missing": (
        {"orders_input": {"file": "/nonexistent/orders.csv"}}, "var orders_input.file: no file matches"),
    "customers file missing": (
        {"customers_input": {"file": "missing_customers.csv"}}, "var customers_input.file: no file matches"),
    "clustering file missing": (
        {"clustering_input": {"file": "missing_survey.csv"}}, "var clustering_input.file: no file matches"),
    "unknown var": ({"n_cluster": 3}, "Unknown var(s): n_cluster"),
}


@pytest.mark.parametrize("case", sorted(GUARDS))
def test_guards_stop_the_build_before_anything_is_written(published, case):
    project, files = published
    settings, message = GUARDS[case]
    published_before = table_checksums(project.database)
    build_before = table_checksums(project.database, schema=BUILD_SCHEMA)
    result = project.dbt(*BUILD, vars={**files, **settings})
    assert not result.success
    assert message in project.messages(result)
    # Nothing was written: neither what BI reads nor the build schema (not even its marker).
    assert table_checksums(project.database) == published_before
    assert table_checksums(project.database, schema=BUILD_SCHEMA) == build_before


def test_an_earlier_date_found_in_the_data_changes_nothing_for_bi_or_the_next_build(published, tmp_path):
    """as_of_date null: the date is the latest order, known only once the orders are read;
    the snapshot's pre-hook stops the build, and write-audit-publish keeps its registry entry
    and rebuilt marts from BI and from the next build."""
    project, files = published
    before = table_checksums(project.database)
    registry = project.query("select * exclude (trained_at) from cluster_models order by all", schema=PUBLISHED_SCHEMA)
    earlier = demo_files(tmp_path / "earlier", orders_before="2026-06-01")
    result = project.dbt(*BUILD, vars={**earlier, **RETRAIN})
    assert not result.success
    assert "already holds the as-of date" in project.messages(result)
    assert table_checksums(project.database) == before
    project.dbt(*BUILD, vars=files, expect_success=True)
    after = project.query("select * exclude (trained_at) from cluster_models order by all", schema=PUBLISHED_SCHEMA)
    pd.testing.assert_frame_equal(after, registry)


# --- kills at five moments ---------------------------------------------------------------------

KILL_MOMENTS = {
    "seeds": "START seed file main_build.",
    "staging": "START sql view model main_build.stg_orders",
    "python models": "START python incremental model main_build.cluster_models",
    "data tests": "START test min_group_share_customer_clusters",
    "snapshot": "START snapshot main_build.customer_segments_snapshot",
}


def test_a_build_killed_at_any_moment_leaves_bi_unchanged_and_the_rerun_equals_an_uninterrupted_build(tmp_path):
    files = demo_files(tmp_path / "data")
    project = DbtProject(PROJECT_DIR, database=tmp_path / "k.duckdb", target_path=tmp_path / "target")
    project.dbt(*BUILD, vars=files, expect_success=True)
    published_sums = table_checksums(project.database)
    retrain = {**files, **RETRAIN}
    for moment, text in KILL_MOMENTS.items():
        log = tmp_path / f"killed-{moment.replace(' ', '-')}.log"
        process = dbt_subprocess(project, retrain, log)
        wait_for(log, text, process)
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL, moment
        assert "write-audit-publish: published" not in log.read_text(), moment
        assert table_checksums(project.database) == published_sums, f"killed during {moment}"

    # The rerun restores the state tables first, then equals an uninterrupted build.
    project.dbt(*BUILD, vars=retrain, expect_success=True)
    log = (project.target_path / "logs" / "dbt.log").read_text()
    assert "restoring the build schema's state tables from the published build" in log
    clean = DbtProject(PROJECT_DIR, database=tmp_path / "clean.duckdb", target_path=tmp_path / "clean-target")
    clean.dbt(*BUILD, vars=files, expect_success=True)
    clean.dbt(*BUILD, vars=retrain, expect_success=True)
    assert table_checksums(project.database, without_run_columns=True) == \
        table_checksums(clean.database, without_run_columns=True)
    assert project.scalar("select count(*) from cluster_models", schema=PUBLISHED_SCHEMA) == 2


# --- a BI reader during a failing build ---------------------------------------------------------

READER = r"""
import json, sys, time, duckdb
database, stop, out = sys.argv[1:4]
reads = []
while True:
    try:
        con = duckdb.connect(database, read_only=True)
    except duckdb.Error as error:
        reads.append({"locked": "lock" in str(error).lower()})
    else:
        try:
            row = con.sql('''
                select
                    (select count(*) from published_build) as builds,
                    (select min(build_id) from published_build) as build_id,
                    (select min(as_of_date)::varchar from published_build) as build_as_of,
                    (select count(distinct as_of_date) from customer_segments) as segment_dates,
                    (select min(as_of_date)::varchar from customer_segments) as segments_as_of,
                    (select count(*) from customer_segments) as segment_rows,
                    (select sum(customers) from segment_profiles where segmentation_type = 'rfm') as profile_customers,
                    (select count(*) from customer_clusters) as cluster_rows,
                    (select count(*) from customer_segments where cluster_id is not null) as clustered,
                    (select count(*) from customer_clusters where cluster_id is not null) as clusters_assigned,
                    (select max(model_version) from cluster_models) as latest_model,
                    (select max(cluster_model_version) from customer_segments) as segments_model,
                    (select sum(customers) from segment_size_history
                     where segmentation_type = 'rfm'
                       and as_of_date = (select max(as_of_date) from segment_size_history)) as history_customers
            ''').fetchone()
            names = ["builds", "build_id", "build_as_of", "segment_dates", "segments_as_of", "segment_rows",
                     "profile_customers", "cluster_rows", "clustered", "clusters_assigned", "latest_model",
                     "segments_model", "history_customers"]
            reads.append(dict(zip(names, row)))
        finally:
            con.close()
    if len(reads) % 20 == 0:
        open(out, "w").write(json.dumps(reads))
    import os
    if os.path.exists(stop):
        break
    time.sleep(0.02)
open(out, "w").write(json.dumps(reads))
"""


def test_a_bi_reader_never_sees_a_mix_of_two_builds(tmp_path):
    import json

    files = demo_files(tmp_path / "data")
    project = DbtProject(PROJECT_DIR, database=tmp_path / "r.duckdb", target_path=tmp_path / "target")
    project.dbt(*BUILD, vars={**files, "as_of_date": "2026-09-30"}, expect_success=True)
    first = project.scalar("select build_id from published_build", schema=PUBLISHED_SCHEMA)

    # A retrain at a later date whose error-severity test fails: it must never be seen.
    log = tmp_path / "failing.log"
    process = dbt_subprocess(project, {**files, **RETRAIN, **FAILING_TEST}, log)
    wait_for(log, "START sql", process)  # the build holds the file (see README)
    stop, out = tmp_path / "stop", tmp_path / "reads.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(project.database), str(stop), str(out)])
    process.wait(timeout=900)
    assert process.returncode != 0
    assert "write-audit-publish: NOT published" in log.read_text()
    time.sleep(1.0)  # a few reads after the failed build
    stop.write_text("")
    reader.wait(timeout=120)
    reads = json.loads(out.read_text())
    complete = [read for read in reads if "build_id" in read]
    assert complete, reads[:5]
    assert all(read.get("locked") for read in reads if "build_id" not in read)
    for read in complete:
        assert read["builds"] == 1 and read["build_id"] == first
        assert read["segment_dates"] == 1 and read["segments_as_of"] == read["build_as_of"] == "2026-09-30"
        assert read["segment_rows"] == read["profile_customers"] == read["cluster_rows"] == read["history_customers"]
        assert read["clustered"] == read["clusters_assigned"]
        assert read["latest_model"] == read["segments_model"] == 1
    # After the failed build BI still reads the first build, and the next good build replaces it whole.
    project.dbt(*BUILD, vars=files, expect_success=True)
    second = project.query("select build_id, cast(as_of_date as varchar) as as_of_date from published_build",
                           schema=PUBLISHED_SCHEMA)
    assert second["build_id"][0] != first and second["as_of_date"][0] == "2026-10-31"
    assert str(project.scalar("select min(as_of_date) from customer_segments", schema=PUBLISHED_SCHEMA)) == "2026-10-31"
