"""Shared pytest fixtures: dbt builds run in-process (dbtRunner) into scratch DuckDB files.

One demo build is shared by every test that only reads it (session scope). Scenario tests
that need other data or other seeds build a copy of the project in a temporary directory.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "python"))

from dbt_harness import PROJECT_DIR, DbtProject


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory) -> DbtProject:
    """The project itself, building into a scratch database (the real one is untouched)."""
    work = tmp_path_factory.mktemp("demo")
    return DbtProject(PROJECT_DIR, database=work / "demo.duckdb", target_path=work / "target")


@pytest.fixture(scope="session")
def demo_build(demo_project: DbtProject):
    """`dbt build` on the demo data, once per session. Every data and unit test must pass."""
    result = demo_project.dbt("build")
    assert result.success, demo_project.failure_summary(result)
    return demo_project


@pytest.fixture(scope="session")
def online_retail_build(tmp_path_factory) -> DbtProject:
    """`dbt build` on the Online Retail sample, configured by examples/online_retail.yml only."""
    work = tmp_path_factory.mktemp("online_retail")
    project = DbtProject(PROJECT_DIR, database=work / "or.duckdb", target_path=work / "target")
    result = project.dbt("build", vars_file=PROJECT_DIR / "examples" / "online_retail.yml")
    assert result.success, project.failure_summary(result)
    return project


@pytest.fixture
def project_copy(tmp_path) -> DbtProject:
    """A throw-away copy of the project, for tests that edit seeds or data."""
    return DbtProject.copy_of(PROJECT_DIR, tmp_path / "project")


@pytest.fixture(scope="session")
def demo_history_build(tmp_path_factory) -> DbtProject:
    """A copy of the project built on the demo data at two as-of dates (2026-09-30, then the
    default 2026-10-31), so the history and transition tables have two dates. The copy keeps
    its target/ inside it, where MetricFlow's `mf` looks for the semantic manifest."""
    work = tmp_path_factory.mktemp("demo_history")
    project = DbtProject.copy_of(PROJECT_DIR, work / "project")
    project.target_path = project.project_dir / "target"
    for settings in ({"as_of_date": "2026-09-30"}, None):
        result = project.dbt("build", vars=settings)
        assert result.success, project.failure_summary(result)
    return project
