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
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from dbt_harness import PROJECT_DIR, DbtProject

PUBLIC_MARTS = {
    "customer_features": "customer_id",
    "customer_segments": "customer_id",
    "customer_clusters": "customer_id",
    "cluster_assignments_sql": "customer_id",
    "cluster_centroids": "cluster_id, feature_name",
    "cluster_rules": "leaf_id",
    "cluster_k_selection": "k",
    "cluster_preprocessing": "feature_name",
    "data_quality_report": "check_name",
}
# Everything in the registry except when it was trained.
REGISTRY_SQL = "select * exclude (trained_at) from cluster_models order by model_version"


def checksums(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        sums = {}
        for table, order in {**PUBLIC_MARTS, "cluster_models": None}.items():
            sql = REGISTRY_SQL if order is None else f"select * from {table} order by {order}"
            frame = con.sql(sql).df()
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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"dbt ended before {text!r}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {text!r}")


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
