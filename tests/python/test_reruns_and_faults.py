"""Reruns, shuffled input, a build killed mid-way, and a reader during a build.

Public marts must be identical on reruns and under row shuffling, survive a SIGKILL of a
build while the clustering model runs, and never be seen half-written by another process.
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
import yaml

from dbt_harness import PROJECT_DIR, DbtProject, wait_for_log

# Columns that record when something ran, not what it computed: the only exceptions. The
# registry decisions of published_build say what the invocation did (a first build trains,
# its rerun reuses the model; the model versions are compared).
NOT_COMPARED = {"cluster_models": ["trained_at"], "clv_models": ["trained_at"],
                "published_build": ["build_id", "build_started_at", "cluster_model_decision", "clv_model_decision"]}


def public_tables(con) -> list[str]:
    """Every table BI reads: the published schema (every node tagged `published`)."""
    return [row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]


def checksums(database: Path, tables: list[str] | None = None) -> dict[str, str]:
    """A sha256 of every row of each table, in a fixed order of all its columns."""
    with duckdb.connect(str(database), read_only=True) as con:
        sums = {}
        for table in tables or public_tables(con):
            excluded = NOT_COMPARED.get(table)
            columns = f"* exclude ({', '.join(excluded)})" if excluded else "*"
            frame = con.sql(f'select {columns} from "{table}" order by all').df()
            sums[table] = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    return sums


def demo_files(folder: Path, shuffle_seed: int | None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind in ("customers", "orders"):
        frame = pd.read_csv(PROJECT_DIR / f"seeds/demo/demo_{kind}.csv", dtype=str, keep_default_na=False)
        if shuffle_seed is not None:
            frame = frame.sample(frac=1.0, random_state=shuffle_seed)
        path = folder / f"{kind}.csv"
        frame.to_csv(path, index=False)
        paths[f"{kind}_input"] = {"file": str(path)}
    return paths


def test_reruns_and_row_shuffling_give_identical_marts(tmp_path):
    original = DbtProject(PROJECT_DIR, database=tmp_path / "a.duckdb", target_path=tmp_path / "target")
    files = demo_files(tmp_path / "original", None)
    args = ("build", "--exclude-resource-type", "unit_test")
    original.dbt(*args, vars=files, expect_success=True)
    first = checksums(original.database)
    original.dbt(*args, vars=files, expect_success=True)
    assert checksums(original.database) == first

    shuffled = DbtProject(PROJECT_DIR, database=tmp_path / "b.duckdb", target_path=tmp_path / "target")
    shuffled.dbt(*args, vars=demo_files(tmp_path / "shuffled", 7), expect_success=True)
    assert checksums(shuffled.database) == first


def _dbt_subprocess(project: DbtProject, vars_: dict, log: Path) -> subprocess.Popen:
    env = {**os.environ, "SEGMENTATION_DUCKDB_PATH": str(project.database), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.Popen(
        [str(dbt), "build", "--exclude-resource-type", "unit_test", "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target-path", str(project.target_path / "sub"),
         "--vars", yaml.safe_dump(vars_, default_flow_style=True, width=10**6)],
        cwd=PROJECT_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(log: Path, text: str, process: subprocess.Popen, timeout: float = 240) -> None:
    wait_for_log(log, text, process, timeout)


def test_a_build_killed_during_clustering_loses_nothing(tmp_path):
    files = demo_files(tmp_path / "data", None)
    project = DbtProject(PROJECT_DIR, database=tmp_path / "k.duckdb", target_path=tmp_path / "target")
    project.dbt("build", "--exclude-resource-type", "unit_test", vars=files, expect_success=True)
    published = checksums(project.database)

    # A retrain (other settings) is under way when the process is killed.
    retrain = {**files, "cluster_n_init": 12}
    log = tmp_path / "killed.log"
    process = _dbt_subprocess(project, retrain, log)
    _wait_for(log, "START python incremental model main_build.cluster_models", process)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert "OK created python incremental model main_build.cluster_models" not in log.read_text()

    # What was published before is complete and readable, untouched.
    assert checksums(project.database) == published

    # The next build succeeds and equals an uninterrupted build with the same settings.
    project.dbt("build", "--exclude-resource-type", "unit_test", vars=retrain, expect_success=True)
    clean = DbtProject(PROJECT_DIR, database=tmp_path / "clean.duckdb", target_path=tmp_path / "target")
    clean.dbt("build", "--exclude-resource-type", "unit_test", vars=files, expect_success=True)
    clean.dbt("build", "--exclude-resource-type", "unit_test", vars=retrain, expect_success=True)
    assert checksums(project.database) == checksums(clean.database)


def test_a_reader_during_a_build_sees_the_last_complete_state_or_a_clear_lock_error(tmp_path):
    files = demo_files(tmp_path / "data", None)
    project = DbtProject(PROJECT_DIR, database=tmp_path / "r.duckdb", target_path=tmp_path / "target")
    project.dbt("build", "--exclude-resource-type", "unit_test", vars=files, expect_success=True)
    expected = project.scalar("select count(*) from customer_segments")

    log = tmp_path / "build.log"
    process = _dbt_subprocess(project, {**files, "cluster_n_init": 13}, log)
    # Read once the build holds the file. (A reader that already holds it when a build
    # starts makes the *build* fail to lock - see README "Query it from a BI tool".)
    _wait_for(log, "START sql", process)
    outcomes = {"complete": 0, "locked": 0}
    reader = (
        "import duckdb, sys\n"
        "try:\n"
        "    con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "except duckdb.IOException as error:\n"
        "    print('LOCKED', error); sys.exit(0)\n"
        "n = con.sql('select count(*) from customer_segments').fetchall()[0][0]\n"
        "m = con.sql('select count(*) from customer_segments where business_segment is null').fetchall()[0][0]\n"
        "print('ROWS', n, m)\n")
    while process.poll() is None:
        out = subprocess.run([sys.executable, "-c", reader, str(project.database)], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        if out.stdout.startswith("LOCKED"):
            assert "lock" in out.stdout.lower()
            outcomes["locked"] += 1
        else:
            assert out.stdout.split() == ["ROWS", str(expected), "0"], out.stdout
            outcomes["complete"] += 1
    assert process.returncode == 0, log.read_text()[-3000:]
    assert sum(outcomes.values()) >= 3
    assert project.scalar("select count(*) from customer_segments") == expected
