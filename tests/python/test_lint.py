"""Lint (README "Lint"): ruff and sqlfluff with the dbt templater pass with zero violations.

Both run as the venv's own binaries, with the settings committed in pyproject.toml
([tool.ruff]) and .sqlfluff / .sqlfluffignore.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dbt_harness import PROJECT_DIR, _release_duckdb

BIN = Path(sys.executable).parent
RUFF_PATHS = ("segmentation", "scripts", "tests", "python_models", "dashboards")
# The SQL models, the singular data tests and the snapshots (macros are not nodes: the dbt
# templater cannot render them on their own).
SQLFLUFF_PATHS = ("models", "tests/dbt", "snapshots")


def test_ruff_passes():
    result = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise", *RUFF_PATHS],
                            cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff found violations:\n{result.stdout}{result.stderr}"


def _violations(report: list[dict]) -> list[str]:
    return [f"{entry['filepath']}:{v.get('start_line_no', 0)}:{v.get('start_line_pos', 0)}: {v['code']} "
            f"{v['description']}" for entry in report for v in entry["violations"]]


def test_sqlfluff_passes(demo_build, tmp_path):
    # Some models read their inputs' columns, or the cluster model's centroids and rules, while
    # they compile, so the templater needs a built database: a copy of the session's demo build
    # (never the demo database itself). The copy keeps the file name, because a DuckDB view names
    # its catalog after the file. Target and log paths are scratch too.
    _release_duckdb()
    database = tmp_path / "db" / demo_build.database.name
    database.parent.mkdir()
    shutil.copyfile(demo_build.database, database)
    wal = demo_build.database.with_name(demo_build.database.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, database.with_name(database.name + ".wal"))
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR), "SEGMENTATION_DUCKDB_PATH": str(database),
           "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run([str(BIN / "sqlfluff"), "lint", *SQLFLUFF_PATHS, "--processes", "2", "--format", "json"],
                            cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"sqlfluff gave no report (exit {result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}") from None
    violations = _violations(report)
    assert result.returncode == 0 and not violations, \
        "sqlfluff found violations:\n" + "\n".join(violations) + "\n" + result.stderr[-3000:]
    # Every SQL file was linted: none skipped except models that are disabled in this project.
    skipped = [line for line in result.stderr.splitlines() if "Skipped file" in line]
    assert all("because it is disabled" in line for line in skipped), "\n".join(skipped)
    linted = {entry["filepath"] for entry in report}
    expected = {str(path.relative_to(PROJECT_DIR)) for folder in SQLFLUFF_PATHS
                for path in (PROJECT_DIR / folder).rglob("*.sql")}
    assert linted == expected
