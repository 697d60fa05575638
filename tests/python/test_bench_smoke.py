"""The benchmark command still works: a 10k-customer run of scripts/bench.py, end to end,
with the incremental path (one appended day and `dbt build`, the next day and `dbt build`, then
`dbt build --full-refresh`).

Speed itself is measured by `make bench` (README "Benchmarks"), never asserted here; this
checks that every step runs, that the figures it prints add up, that the incremental and
the full rebuild publish the same marts and that the appended day is counted.
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
         "--cache-dir", str(cache), "--json", str(out), "--incremental", "--skip-probe"],
        capture_output=True, text=True, cwd=PROJECT_DIR, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"stdout": proc.stdout, "figures": json.loads(out.read_text()), "cache": cache}


def test_bench_prints_every_figure_the_issue_asks_for(smoke):
    text = smoke["stdout"]
    for needle in ("dbt fixed overhead: parse", "per stage", "dbt elapsed", "order rows/s",
                   "ours: dbt build", "baseline: notebook", "ratio ours/baseline",
                   "dbt start-up and project load", "dbt between nodes", "nodes running",
                   "incremental: one appended day", "incremental build (dbt build)",
                   "full refresh (--full-refresh)", "ratio incremental / full refresh",
                   "next day, dbt build (incremental)",
                   "published marts identical: yes", "data_quality_report rows_affected before -> after"):
        assert needle in text, needle


def test_stages_account_for_every_node_of_the_build(smoke):
    build = smoke["figures"]["build"]
    run_results = json.loads(
        (smoke["cache"] / "10000c_100000o" / "run" / "runs" / "build.run_results.json").read_text())
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
    # Every order row of the file is one checked line (kept or excluded with a reason); the
    # database is the last build's, on the base and the two appended days.
    day, next_day = figures["incremental"]["day"], figures["incremental"]["next_day"]
    assert data["orders_rows"] == built["order_lines_checked"]
    assert checked == data["orders_rows"] + day["rows"] + next_day["rows"]
    assert next_day["day"] > day["day"] and next_day["base_rows"] == data["orders_rows"] + day["rows"]
    # Every customer of the input is segmented exactly once (orders may add unknown ids).
    assert segments[0] == segments[1] == (built["customer_segments_rows"] + day["new_customers"]
                                          + next_day["new_customers"])
    assert built["customer_segments_rows"] >= input_customers
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


# --------------------------------------------------------------------------- incremental path
def test_incremental_and_full_refresh_publish_identical_marts(smoke):
    from test_write_audit_publish import PUBLISHED_TABLES, RUN_COLUMNS

    bench = _bench_module()
    assert bench.RUN_COLUMNS == RUN_COLUMNS  # one list of run columns for both comparisons
    inc = smoke["figures"]["incremental"]
    marts = inc["marts"]
    assert marts["identical"] and marts["differing"] == []
    assert set(marts["incremental"]) == set(marts["full_refresh"]) == PUBLISHED_TABLES
    assert marts["tables"] == len(PUBLISHED_TABLES)
    assert marts["incremental"]["customer_segments"]["rows"] > 10_000
    assert inc["ratio"] == pytest.approx(inc["incremental"]["seconds"] / inc["full_refresh"]["seconds"], rel=1e-3)
    assert inc["next_day_ratio"] == pytest.approx(
        inc["next_day_incremental"]["seconds"] / inc["full_refresh"]["seconds"], rel=1e-3)
    # the next day's build folded in its day: one more checked line per row of it
    assert inc["next_day_incremental"]["figures"]["order_lines_checked"] == (
        inc["incremental"]["figures"]["order_lines_checked"] + inc["next_day"]["rows"])
    # Every node of the builds passed; the one exception allowed is a drift warning of the
    # segment history (quiet on the first as-of date, so only from the second build on).
    for step in ("incremental", "next_day_incremental", "full_refresh"):
        failing = [n for n in inc[step]["nodes"] if n["status"] not in ("success", "pass", "no-op")]
        assert all(n["status"] == "warn" and n["name"].startswith("segment_size_history_")
                   for n in failing), (step, failing)
    pair = smoke["figures"]["pairs"][0]
    assert pair["incremental_seconds"] == inc["incremental"]["seconds"] and pair["marts_identical"] is True
    assert pair["next_day_seconds"] == inc["next_day_incremental"]["seconds"]


def test_the_appended_day_is_counted_in_the_published_data_quality_report(smoke):
    figures = smoke["figures"]
    inc = figures["incremental"]
    day = inc["day"]
    before, after = inc["quality_before"], inc["quality_after"]
    with duckdb.connect() as con:
        rows = con.sql(f"select count(*) from read_parquet('{day['orders_path']}')").fetchone()[0]
        cancelled_orders, cancelled_amount = con.sql(
            f"select count(*), sum(amount) from (select distinct order_id, amount from "
            f"read_parquet('{day['orders_path']}') where status = 'cancelled')").fetchone()
    assert rows == day["rows"] == sum(day["parts"].values()) == 300  # 0.3% of 100,000
    assert day["base_rows"] == figures["data"]["orders_rows"]

    def delta(check, key="rows"):
        return after[check][key] - before[check][key]

    # one line without a customer id, one verbatim copy: each counted once more
    assert delta("missing_customer_id") == 1 and delta("exact_duplicate_row") == 1
    # new cancelled orders, plus every refunded old order (its lines now net to zero)
    assert delta("cancelled_orders") == cancelled_orders + day["parts"]["old_refund"]
    assert delta("cancelled_orders", "amount") == pytest.approx(float(cancelled_amount), abs=1e-6)
    for unchanged in ("refund_orders", "zero_amount_orders", "after_as_of_date", "customers_only_in_orders",
                      "unparseable_ordered_at", "unparseable_amount"):
        assert delta(unchanged) == 0, unchanged
    built, built_after = figures["build"]["figures"], inc["incremental"]["figures"]
    # every line of the day is a checked line; every new customer is segmented
    assert built_after["order_lines_checked"] == built["order_lines_checked"] + rows
    assert built_after["customer_segments_rows"] == built["customer_segments_rows"] + day["new_customers"]
    assert built_after["as_of_date"] == day["day"] and built["as_of_date"] == day["last_date"]


# --------------------------------------------------------------------------- pure helpers
def test_alternate_runs_ours_and_the_baseline_in_turn_and_takes_medians():
    bench = _bench_module()
    calls = []
    ours_seconds, baseline_seconds = [10.0, 30.0, 12.0], [20.0, 20.0, 40.0]

    def ours(i):
        calls.append(("A", i))
        return {"seconds": ours_seconds[i]}

    def baseline(i):
        calls.append(("B", i))
        return {"seconds": baseline_seconds[i]}

    pairs = bench.alternate(3, ours, baseline)
    assert calls == [("A", 0), ("B", 0), ("A", 1), ("B", 1), ("A", 2), ("B", 2)]
    assert [p["ratio"] for p in pairs] == [0.5, 1.5, 0.3]
    medians = bench.median_pairs(pairs)
    # the median of the per-pair ratios, not the ratio of the medians (12 / 20 = 0.6)
    assert medians == {"pairs": 3, "ours_seconds": 12.0, "baseline_seconds": 20.0, "ratio": 0.5}
    # without a baseline: only our medians
    assert bench.median_pairs(bench.alternate(2, ours, lambda i: None)) == {"pairs": 2, "ours_seconds": 20.0}


def test_cost_split_takes_the_tiny_build_as_fixed_cost():
    bench = _bench_module()
    timeline = {"elapsed_seconds": 50.0, "between_nodes_seconds": 1.5, "nodes_running_seconds": 48.5,
                "compile_seconds": 6.0, "execute_seconds": 80.0}
    build = {"seconds": 60.0, "timeline": timeline,
             "nodes": [{"unique_id": "model.a", "name": "a", "stage": "staging", "seconds": 20.0},
                       {"unique_id": "model.b", "name": "b", "stage": "marts", "seconds": 3.0},
                       {"unique_id": "test.c", "name": "c", "stage": "data tests", "seconds": 9.0}]}
    probe = {"seconds": 15.0, "timeline": {**timeline, "elapsed_seconds": 11.0},
             "nodes": [{"unique_id": "model.a", "seconds": 1.0}, {"unique_id": "model.b", "seconds": 2.5},
                       {"unique_id": "test.c", "seconds": 0.5}]}
    split = bench.cost_split(build, probe, top=2)
    assert split["startup_seconds"] == 10.0 and split["between_nodes_seconds"] == 1.5
    assert split["fixed_seconds"] == 15.0 and split["data_seconds"] == 45.0 and split["fixed_share"] == 0.25
    assert split["probe_startup_seconds"] == 4.0 and split["probe_node_seconds"] == 4.0
    assert [(n["name"], n["data_seconds"]) for n in split["largest_data_costs"]] == [("a", 19.0), ("c", 8.5)]
    assert "fixed_seconds" not in bench.cost_split(build, None)


def test_published_checksums_compare_rows_not_their_order_nor_run_columns(tmp_path):
    bench = _bench_module()
    databases = {}
    for name, rows, trained_at in (("a", "(1, 'x', 1/3), (2, null, 2.0)", "2026-01-01"),
                                   ("b", "(2, null, 2.0), (1, 'x', 1/3)", "2026-02-02"),
                                   ("c", "(1, 'x', 1/3), (2, '', 2.0)", "2026-01-01"),
                                   ("d", "(1, 'x', 1/3), (1, 'x', 1/3), (2, null, 2.0)", "2026-01-01"),
                                   ("e", "(1, 'x', 1/3 + 1e-15), (2, null, 2.0)", "2026-01-01")):
        databases[name] = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(databases[name])) as con:
            con.execute(f"create table main.segments as select * from (values {rows}) t(id, label, score)")
            con.execute(f"create table main.cluster_models as select 1 as model_version, "
                        f"timestamp '{trained_at}' as trained_at")
    sums = {name: bench.published_checksums(path) for name, path in databases.items()}
    assert set(sums["a"]) == {"segments", "cluster_models"} and sums["a"]["segments"]["rows"] == 2
    assert bench.compare_checksums(sums["a"], sums["b"]) == {"identical": True, "tables": 2, "differing": []}
    assert bench.compare_checksums(sums["a"], sums["c"])["differing"] == ["segments"]  # null is not ''
    assert bench.compare_checksums(sums["a"], sums["d"])["differing"] == ["segments"]  # a row twice
    # floats to the bit: published aggregates are summed exactly (macros/sql/exact_sum.sql)
    assert bench.compare_checksums(sums["a"], sums["e"])["differing"] == ["segments"]
    assert bench.compare_checksums(sums["a"], {"segments": sums["a"]["segments"]})["differing"] == ["cluster_models"]


def test_pairs_table_prints_each_pair_and_the_medians():
    bench = _bench_module()
    pairs = [{"pair": 1, "ours_seconds": 10.0, "baseline_seconds": 20.0, "ratio": 0.5, "incremental_seconds": 2.0,
              "full_refresh_seconds": 9.0, "incremental_ratio": 0.222, "marts_identical": True},
             {"pair": 2, "ours_seconds": 12.0, "incremental_seconds": 2.5, "full_refresh_seconds": 10.0,
              "incremental_ratio": 0.25, "marts_identical": False}]  # its baseline failed
    lines = bench._report_pairs(pairs, bench.median_pairs(pairs))
    assert lines[1].startswith("repeat 2 (ours and the baseline alternate A B A B")
    assert lines[3].split() == ["1", "10.0", "20.0", "0.50", "2.0", "9.0", "0.22", "yes"]
    assert lines[4].split() == ["2", "12.0", "-", "-", "2.5", "10.0", "0.25", "NO"]
    assert lines[5].split() == ["med.", "11.0", "20.0", "0.50", "2.2", "9.5", "0.24"]
