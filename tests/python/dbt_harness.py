"""Run dbt in-process against scratch DuckDB files, and read the results back."""
from __future__ import annotations

import contextlib
import gc
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
#: What BI reads (the profile's schema) and where every node is built (write-audit-publish).
PUBLISHED_SCHEMA = "main"
BUILD_SCHEMA = "main_build"
_COPIED = ("dbt_project.yml", "profiles.yml", "models", "python_models", "macros", "seeds",
           "snapshots", "tests", "docs", "data", "examples", "assets")


@dataclass
class DbtProject:
    """A dbt project directory plus the scratch database and target path it builds into."""

    project_dir: Path
    database: Path
    target_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def copy_of(cls, source: Path, destination: Path) -> DbtProject:
        destination.mkdir(parents=True)
        for name in _COPIED:
            path = source / name
            if path.is_dir():
                shutil.copytree(path, destination / name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif path.exists():
                shutil.copy2(path, destination / name)
        return cls(destination, destination / "scratch.duckdb", destination / "target")

    def dbt(self, *args: str, vars: dict[str, Any] | None = None,
            vars_file: Path | None = None, expect_success: bool | None = None):
        """Invoke dbt in this process (no 20 s interpreter start-up per call)."""
        from dbt.cli.main import dbtRunner

        cli = list(args)
        if "--select" in cli and "--indirect-selection" not in cli:
            # Partial builds run only the tests whose parents were all built.
            cli += ["--indirect-selection", "cautious"]
        cli += ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.project_dir)]
        if args[:1] != ("deps",):  # `dbt deps` writes no target and takes no such options
            cli += ["--target-path", str(self.target_path),
                    "--log-path", str(self.target_path / "logs")]
        cli += ["--quiet"]
        merged: dict[str, Any] = {}
        if vars_file is not None:
            merged.update(yaml.safe_load(Path(vars_file).read_text()))
        if vars:
            merged.update(vars)
        if merged:
            cli += ["--vars", yaml.safe_dump(merged, default_flow_style=True, width=10**6)]
        env = {"SEGMENTATION_DUCKDB_PATH": str(self.database), "SEGMENTATION_THREADS": "2",
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **self.env}
        with _environment(env), _working_directory(self.project_dir):
            try:
                result = dbtRunner().invoke(cli)
            finally:
                _release_duckdb()
        if expect_success is not None:
            assert result.success == expect_success, self.failure_summary(result)
        return result

    def query(self, sql: str, schema: str | None = None):
        """Run a read-only query on the built database and return a pandas DataFrame.

        Unqualified names resolve in ``schema`` only, when given: :data:`PUBLISHED_SCHEMA`
        (what BI reads, replaced only by a full build that passed) or :data:`BUILD_SCHEMA`
        (what the last invocation built: partial ``--select`` builds never publish). By
        default a name resolves in the published schema first, then in the build schema,
        so the intermediate models that are never published can be read as well.
        """
        with duckdb.connect(str(self.database), read_only=True) as con:
            _set_search_path(con, schema)
            return con.sql(sql).df()

    def scalar(self, sql: str, schema: str | None = None):
        """The first value of :meth:`query`."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            _set_search_path(con, schema)
            return con.sql(sql).fetchall()[0][0]

    @staticmethod
    def failure_summary(result) -> str:
        """A readable account of what failed in a dbt invocation."""
        lines = []
        if result.exception is not None:
            lines.append(f"exception: {result.exception}")
        for node in getattr(result.result, "results", None) or []:
            status = str(getattr(node, "status", ""))
            if status.lower() not in ("success", "pass", "no-op"):  # exposures run as no-op
                lines.append(f"{node.node.unique_id}: {status}: {getattr(node, 'message', '')}")
        return "\n".join(lines) or "no failing nodes reported"

    @staticmethod
    def messages(result) -> str:
        """All node messages and the exception text, for asserting on error wording."""
        parts = [str(result.exception or "")]
        for node in getattr(result.result, "results", None) or []:
            parts.append(str(getattr(node, "message", "") or ""))
        return "\n".join(parts)


def _set_search_path(con, schema: str | None) -> None:
    path = schema or f"{PUBLISHED_SCHEMA},{BUILD_SCHEMA}"
    con.execute(f"set search_path = '{path}'")


def _release_duckdb() -> None:
    """dbt-duckdb keeps its database open for the life of the process; close it so the
    test can open the file itself and the next invocation may build a different file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            with contextlib.suppress(Exception):
                environment.close()
        DuckDBConnectionManager._ENV = None
    gc.collect()


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _working_directory(path: Path):
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def wait_for_log(log: Path, text: str, process, timeout: float) -> None:
    """Wait until a dbt subprocess's log contains ``text``; fail if it ends or times out first."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"dbt ended before {text!r}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {text!r}")
