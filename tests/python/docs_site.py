"""The generated docs site for the docs tests: a copy of the project whose assets/ are the
charts rendered from the demo build, and `dbt docs generate --static` run on it.

Shared by test_docs_coverage.py and test_docs_browser.py; generated once per session.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from dbt_harness import PROJECT_DIR, DbtProject

PACKAGE = "customer_segmentation"
_SITES: dict[str, DocsSite] = {}


@dataclass
class DocsSite:
    project: DbtProject
    target: Path

    @property
    def manifest(self) -> dict:
        return json.loads((self.target / "manifest.json").read_text())

    @property
    def catalog(self) -> dict:
        return json.loads((self.target / "catalog.json").read_text())


def docs_site_for(demo_build: DbtProject, workdir: Path) -> DocsSite:
    """Render the charts from the demo build into a project copy and generate its docs."""
    key = str(demo_build.database)
    if key not in _SITES:
        from segmentation.charts import render_charts

        copy = DbtProject.copy_of(PROJECT_DIR, workdir / "project")
        render_charts(demo_build.database, copy.project_dir / "assets")
        site = DbtProject(copy.project_dir, database=demo_build.database,
                          target_path=workdir / "target")
        result = site.dbt("docs", "generate", "--static")
        assert result.success, site.failure_summary(result)
        _SITES[key] = DocsSite(site, workdir / "target")
    return _SITES[key]


# ---------------------------------------------------------------------------
# what "documented" means, as plain functions (tested on doctored manifests too)
# ---------------------------------------------------------------------------
def _blank(text) -> bool:
    return not (isinstance(text, str) and text.strip())


def macro_signature(macro_sql: str) -> list[str]:
    """Argument names of the first `{% macro name(...) %}` / `{% test name(...) %}` block."""
    match = re.search(r"\{%-?\s*(?:macro|test)\s+\w+\s*\((.*?)\)\s*-?%\}", macro_sql, re.S)
    if not match:
        return []
    names, depth, current, quote = [], 0, "", None
    for char in match.group(1) + ",":
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            if current.strip():
                names.append(current.split("=")[0].strip())
            current = ""
            continue
        current += char
    return names


def undocumented(manifest: dict, catalog: dict) -> list[str]:
    """Every model, seed, snapshot, column, macro, macro argument, source and exposure of
    the project without a description, and every documented column that does not exist."""
    problems = []
    catalog_nodes = {**catalog.get("nodes", {}), **catalog.get("sources", {})}
    for uid, node in manifest["nodes"].items():
        if node["package_name"] != PACKAGE or node["resource_type"] not in ("model", "seed", "snapshot"):
            continue
        if _blank(node.get("description")):
            problems.append(f"{uid}: no description")
        documented = {name.lower(): col for name, col in node.get("columns", {}).items()}
        actual = [c.lower() for c in catalog_nodes.get(uid, {}).get("columns", {})]
        if uid not in catalog_nodes:
            problems.append(f"{uid}: not in the catalog (not built?)")
        for column in actual:
            if column not in documented or _blank(documented[column].get("description")):
                problems.append(f"{uid}.{column}: no description")
        for column in documented:
            if actual and column not in actual:
                problems.append(f"{uid}.{column}: documented but not a column of the table")
    for uid, source in manifest.get("sources", {}).items():
        if source["package_name"] == PACKAGE and (_blank(source.get("description"))
                                                  or _blank(source.get("source_description"))):
            problems.append(f"{uid}: no description")
    for uid, macro in manifest["macros"].items():
        if macro["package_name"] != PACKAGE:
            continue
        if _blank(macro.get("description")):
            problems.append(f"{uid}: no description")
        described = {a["name"]: a for a in macro.get("arguments", [])}
        for argument in macro_signature(macro["macro_sql"]):
            if argument not in described or _blank(described[argument].get("description")):
                problems.append(f"{uid}({argument}): argument not described")
        for argument in described:
            if argument not in macro_signature(macro["macro_sql"]):
                problems.append(f"{uid}({argument}): described but not an argument")
    for uid, exposure in manifest.get("exposures", {}).items():
        if exposure["package_name"] == PACKAGE and _blank(exposure.get("description")):
            problems.append(f"{uid}: no description")
    return problems
