"""The benchmark command still works: a 10k-customer run of scripts/bench.py, end to end.

Speed itself is measured by `make bench` (README "Benchmarks"), never asserted here; this
checks that every step runs and that the figures it prints add up.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
BENCH = PROJECT_DIR / "scripts" / "bench.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_union_length_counts_overlapping_spans_once():
    bench = _bench_module()
    assert bench._union_length([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == pytest.approx(4.0)
    assert bench._union_length([(5.0, 6.0), (0.0, 10.0)]) == pytest.approx(10.0)
    assert bench._union_length([]) == 0.0


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench")
    out = cache / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--customers", "10000", "--orders", "100000",
         "--cache-dir", str(cache), "--json", str(out)],
        capture_output=True, text=True, cwd=PROJECT_DIR, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"stdout": proc.stdout, "figures": json.loads(out.read_text()), "cache": cache}


def test_bench_prints_every_figure_the_issue_asks_for(smoke):
    text = smoke["stdout"]
    for needle in ("dbt fixed overhead: parse", "per stage", "dbt elapsed", "order rows/s",
                   "ours: dbt build", "baseline: notebook", "ratio ours/baseline"):
        assert needle in text, needle


def test_stages_account_for_every_node_of_the_build(smoke):
    build = smoke["figures"]["build"]
    run_results = json.loads(
        (smoke["cache"] / "10000c_100000o" / "run" / "target" / "run_results.json").read_text())
    assert sum(s["nodes"] for s in build["stages"]) == len(run_results["results"]) == len(build["nodes"])
    assert all(n["status"] in ("success", "pass", "no-op") for n in build["nodes"]), \
        [n for n in build["nodes"] if n["status"] not in ("success", "pass", "no-op")]
    names = {s["stage"] for s in build["stages"]}
    assert {"staging", "features (RFM)", "segments", "python clustering", "data tests",
            "unit tests", "snapshots", "history", "marts", "run-start hooks", "publish (on-run-end)"} <= names
    # Stage wall time is the union of its nodes' timing spans (compile start to execute
    # end): never more than the whole build, never less than the longest span in it.
    bench = _bench_module()
    spans = {}
    for r in run_results["results"]:
        times = [(bench._ts(t["started_at"]), bench._ts(t["completed_at"])) for t in r["timing"]
                 if t.get("started_at") and t.get("completed_at")]
        if times:
            spans[r["unique_id"]] = max(b for _, b in times) - min(a for a, _ in times)
    stage_of = {n["unique_id"]: n["stage"] for n in build["nodes"]}
    for stage in build["stages"]:
        longest = max((spans[u] for u, st in stage_of.items() if st == stage["stage"] and u in spans),
                      default=0.0)
        assert longest - 1e-3 <= stage["wall_seconds"] <= build["dbt_elapsed_seconds"] + 1e-3


def test_figures_match_the_built_database_and_the_generated_data(smoke):
    figures = smoke["figures"]
    data, built = figures["data"], figures["build"]["figures"]
    database = smoke["cache"] / "10000c_100000o" / "run" / "bench.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        input_customers = con.sql(
            f"select count(distinct customer_id) from read_parquet('{data['customers_path']}')").fetchone()[0]
        # an intermediate model: in the build schema
        checked = con.sql("select count(*) from main_build.int_order_lines_checked").fetchone()[0]
        segments = con.sql("select count(*), count(distinct customer_id) from customer_segments").fetchone()
    assert data["customers_rows"] == 10_000 and input_customers == 10_000
    # Every order row of the file is one checked line (kept or excluded with a reason).
    assert data["orders_rows"] == checked == built["order_lines_checked"]
    # Every customer of the input is segmented exactly once (orders may add unknown ids).
    assert segments[0] == segments[1] == built["customer_segments_rows"] >= input_customers
    assert 2 <= built["k"] <= 10 and 0 < built["silhouette"] <= 1
    rfm = figures["build"]["rfm_aggregation"]
    assert rfm["rows_per_second"] == pytest.approx(data["orders_rows"] / rfm["seconds"])
    assert figures["build"]["peak_rss_bytes"] > 0 and figures["baseline"]["peak_rss_bytes"] > 0


def test_baseline_runs_the_notebook_steps_on_the_same_customers(smoke):
    figures = smoke["figures"]
    baseline, built = figures["baseline"], figures["build"]["figures"]
    assert list(baseline["steps"]) == ["import", "read_orders", "groupby_rfm", "scale",
                                       "kmeans_sweep", "decision_tree"]
    assert 2 <= baseline["chosen_k"] <= 10
    # The notebook keeps every customer with an order on or before the as-of date; ours
    # has the same customers plus those who never ordered.
    assert built["customers_with_purchases"] <= baseline["customers"] <= built["customer_features_rows"]
    assert figures["ratio"] == pytest.approx(figures["build"]["seconds"] / baseline["seconds"], rel=1e-3)
