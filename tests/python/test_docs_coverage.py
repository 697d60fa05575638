"""Docs coverage stays at 100%: after `dbt docs generate` on the demo build, every model,
column, seed, snapshot, source, exposure, macro and macro argument has a description, every
var is on the settings page, every chart a page shows exists, and the public marts have
enforced contracts whose types match the built tables."""
from __future__ import annotations

import copy
import re

import pytest
import yaml

from dbt_harness import PROJECT_DIR
from docs_site import PACKAGE, docs_site_for, macro_signature, undocumented

PUBLIC_MARTS = ("customer_features", "customer_segments", "segment_profiles", "segment_cards",
                "data_quality_report", "published_build")


@pytest.fixture(scope="module")
def site(demo_build, tmp_path_factory):
    return docs_site_for(demo_build, tmp_path_factory.mktemp("docs_site"))


def test_every_model_column_seed_snapshot_macro_and_exposure_is_described(site):
    problems = undocumented(site.manifest, site.catalog)
    assert not problems, "Undocumented (add a description in the YAML beside it):\n" + "\n".join(problems)


def test_the_coverage_check_itself_catches_gaps(site):
    manifest, catalog = copy.deepcopy(site.manifest), site.catalog
    before = set(undocumented(manifest, catalog))
    segments = manifest["nodes"][f"model.{PACKAGE}.customer_segments"]
    segments["columns"]["cluster_name"]["description"] = " "
    del segments["columns"]["cluster_margin"]
    segments["columns"]["no_such_column"] = {"name": "no_such_column", "description": "stale"}
    manifest["nodes"][f"seed.{PACKAGE}.segment_actions"]["description"] = ""
    macro = manifest["macros"][f"macro.{PACKAGE}.rfm_score"]
    macro["arguments"] = [a for a in macro["arguments"] if a["name"] != "scored_flag"]
    problems = set(undocumented(manifest, catalog)) - before
    assert problems == {
        f"model.{PACKAGE}.customer_segments.cluster_name: no description",
        f"model.{PACKAGE}.customer_segments.cluster_margin: no description",
        f"model.{PACKAGE}.customer_segments.no_such_column: documented but not a column of the table",
        f"seed.{PACKAGE}.segment_actions: no description",
        f"macro.{PACKAGE}.rfm_score(scored_flag): argument not described",
    }


@pytest.mark.parametrize("sql,expected", [
    ("{% macro rfm_score(column, higher_is_better=true, scored_flag='has_purchases') %}",
     ["column", "higher_is_better", "scored_flag"]),
    ("{%- test t(model, group_by=['a', 'b'], where_clause=none) -%}", ["model", "group_by", "where_clause"]),
    ("{% macro f(x, pair=(1, 2), text='a,b') %}", ["x", "pair", "text"]),
    ("{% macro validate_vars() %}", []),
])
def test_macro_signatures_are_read_with_defaults_that_contain_commas(sql, expected):
    assert macro_signature(sql) == expected


def test_every_var_is_on_the_settings_page(site):
    variables = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    page = site.manifest["docs"][f"doc.{PACKAGE}.project_vars"]["block_contents"]
    missing = [name for name in variables if f"`{name}`" not in page]
    assert not missing, f"vars missing from docs/vars.md (project_vars): {missing}"
    shown_on = site.manifest["macros"][f"macro.{PACKAGE}.validate_vars"]["description"]
    assert "`cluster_scaler`" in shown_on  # the page is rendered where users find it


def test_the_plain_word_pages_exist(site):
    docs = {d["name"]: d["block_contents"] for d in site.manifest["docs"].values()
            if d["package_name"] == PACKAGE}
    for name, words in {
        "__overview__": ["RFM", "Business segments", "k-means", "segment card", "PSI"],
        "rfm_overview": ["Recency", "Frequency", "Monetary"],
        "business_rules_overview": ["priority", "business_segment_rules.csv"],
        "cluster_k_selection": ["elbow", "silhouette", "n_clusters"],
        "cluster_rules": ["support", "precision"],
        "mart_segment_cards": ["Suggested action", "segment_actions.csv"],
        "project_vars": ["random_state"],
    }.items():
        assert name in docs, f"docs block {name} is missing"
        for word in words:
            assert word in docs[name], f"docs block {name} does not mention {word!r}"
    psi = [name for name, text in docs.items() if "population stability index" in text.lower()]
    assert psi, "no docs block explains the population stability index (docs/history.md)"


def _images(text: str) -> list[str]:
    return re.findall(r"\]\((assets/[^)\s]+\.png)\)", text or "")


def test_every_chart_a_page_shows_exists_and_the_overview_shows_them_all(site):
    from segmentation.charts import CHART_FILES

    manifest = site.manifest
    texts = [d["block_contents"] for d in manifest["docs"].values() if d["package_name"] == PACKAGE]
    texts += [n.get("description", "") for n in manifest["nodes"].values() if n["package_name"] == PACKAGE]
    referenced = {image for text in texts for image in _images(text)}
    assert referenced, "no page shows a chart"
    for image in referenced:
        assert (PROJECT_DIR / image).is_file(), f"{image} is shown in the docs but not in the project"
        assert (site.target / image).is_file(), f"{image} was not copied into the docs site"
    overview = manifest["docs"][f"doc.{PACKAGE}.__overview__"]["block_contents"]
    assert set(_images(overview)) == {f"assets/{name}" for name in CHART_FILES.values()}
    segments = manifest["nodes"][f"model.{PACKAGE}.customer_segments"]["description"]
    assert "assets/segment_sizes_cluster.png" in _images(segments)


def test_public_marts_have_enforced_contracts_matching_the_built_types(site):
    catalog = site.catalog["nodes"]
    for name in PUBLIC_MARTS:
        uid = f"model.{PACKAGE}.{name}"
        node = site.manifest["nodes"][uid]
        assert node["config"]["contract"]["enforced"], f"{name} has no enforced contract"
        built = {c.lower(): v["type"].lower() for c, v in catalog[uid]["columns"].items()}
        declared = {c.lower(): (v.get("data_type") or "").lower() for c, v in node["columns"].items()}
        assert declared == built, f"{name}: contract types differ from the built table"


def test_exposures_depend_on_the_marts_they_read(site):
    exposures = {e["name"]: e for e in site.manifest["exposures"].values() if e["package_name"] == PACKAGE}
    assert {"segmentation_dashboard", "marketing_audience_export"} <= set(exposures)
    dashboard = set(exposures["segmentation_dashboard"]["depends_on"]["nodes"])
    audiences = set(exposures["marketing_audience_export"]["depends_on"]["nodes"])
    assert {f"model.{PACKAGE}.segment_profiles", f"model.{PACKAGE}.segment_cards"} <= dashboard
    assert {f"model.{PACKAGE}.customer_segments", f"model.{PACKAGE}.customer_features"} <= audiences
    assert exposures["segmentation_dashboard"]["type"] == "dashboard"
    for exposure in exposures.values():
        assert exposure["owner"].get("name") and exposure["owner"].get("email")
