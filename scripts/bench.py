"""Benchmark: the full `dbt build` on generated Parquet data, against the notebook approach.

Usage (``make bench SIZE=1m`` runs the first form)::

    python scripts/bench.py --size 100k|1m|5m [--cache-dir .bench] [--threads 2]
                            [--incremental] [--repeat N] [--skip-baseline]
                            [--skip-overhead] [--skip-probe] [--json out.json]
    python scripts/bench.py --customers 10000 --orders 100000 ...   # any other size

Steps, each in its own subprocess so its wall time and peak RSS are its own:

1. Generate the data once per size (``segmentation.datagen``, Parquet, dirty rows on, seed
   42) into ``<cache-dir>/<size>/``; later runs reuse it (the generation time is shown).
2. dbt's fixed overhead: ``dbt parse --no-partial-parse`` (full parse of this project) and
   ``dbt ls`` (start-up plus reading the parsed manifest), on the same vars; then the
   empty-ish probe: the same ``dbt build`` on a tiny data set (``PROBE_SIZE``), whose time
   is nearly all dbt's fixed cost (start-up, parse, per-node overhead), so that the build's
   time splits into fixed cost and data work (``--skip-probe`` leaves it out).
3. ``dbt build`` (in the target path parsed in step 2, so dbt's partial parsing applies
   as in every build after a user's first; with --skip-overhead it parses in full) (every
   seed, model - SQL and Python -, snapshot, data test and unit test)
   into a fresh DuckDB file and target path under ``<cache-dir>/<size>/run/``, configured
   only through vars: ``orders_input.file`` and ``customers_input.file`` point at the
   Parquet files. Peak RSS comes from ``wait4`` on the dbt process; per-node timings from
   ``target/run_results.json``, grouped into stages by folder.
4. With ``--incremental``, the inputs are globs over ``run/input/`` (``orders-*.parquet``,
   ``customers-*.parquet``: the base files linked in, same vars for every build). After the
   full build, one generated day (``segmentation.datagen_day``: ~0.3% new lines, late lines
   inside a 3-day lookback, refunds of old orders, new customers) is added to the folder as
   new files, then ``dbt build`` (the daily, incremental path) and ``dbt build
   --full-refresh`` run on the same final data in the same database. Between them, the
   next generated day arrives and ``dbt build`` runs again: a daily build after a daily
   build, whose state and change-guard figures come from the build before (every day but
   the first after a full build is such a day). The times, the ratios to the full refresh
   (on the final data: the base and both days), whether the published schema ``main`` is
   identical after the next day's build and after the full refresh (checksums of every
   table, without the run columns ``RUN_COLUMNS``) and the data_quality_report counts
   before / after the first day are printed.
5. ``scripts/notebook_baseline.py`` on the same orders file, with the as-of date the build
   used, so both sides compute recency against the same day.

With ``--repeat N``, steps 3-4 (ours, A) and 5 (the baseline, B) alternate A B A B ... N
times; the medians and the per-pair ratios are printed (the per-stage figures are those
of the median build). Prints a table and writes every figure to
``<cache-dir>/<size>/run/bench.json``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SIZES = {  # name: (customers, order rows)
    "10k": (10_000, 100_000),
    "100k": (100_000, 2_000_000),
    "1m": (1_000_000, 20_000_000),
    "5m": (5_000_000, 100_000_000),
}
SEED = 42
#: The empty-ish probe build (step 2): data work is nearly nil, so its time is dbt's fixed cost.
PROBE_SIZE = (1_000, 10_000)
#: Columns that name the build or the wall clock, not its data: left out of the checksums
#: (the same as tests/python/test_write_audit_publish.py's RUN_COLUMNS; published_build's
#: registry decisions say what the invocation did: a first build trains, its rerun reuses).
RUN_COLUMNS = {"published_build": ("build_id", "build_started_at", "cluster_model_decision", "clv_model_decision"),
               "cluster_models": ("trained_at",), "clv_models": ("trained_at",)}
PUBLISHED_SCHEMA = "main"
#: Models that turn order lines into per-customer R, F and M (the "RFM aggregation").
RFM_AGGREGATION_MODELS = ("int_order_lines_grouped", "int_orders_aggregated",
                          "int_customers_orders_summarized")
#: Stage of a node, by resource type, language and folder (first match wins).
STAGES = (
    ("seeds", lambda n: n["resource_type"] == "seed"),
    ("unit tests", lambda n: n["resource_type"] == "unit_test"),
    ("data tests", lambda n: n["resource_type"] == "test"),
    ("snapshots", lambda n: n["resource_type"] == "snapshot"),
    ("python clustering", lambda n: n.get("language") == "python"),
    ("staging", lambda n: n["path_"].startswith("models/sources/")),
    ("features (RFM)", lambda n: n["path_"].startswith("models/features/")),
    ("segments", lambda n: n["path_"].startswith("models/segments/")),
    ("history", lambda n: n["path_"].startswith("models/history/")),
    ("marts", lambda n: n["path_"].startswith("models/marts/")),
    # on-run-start: validate vars, guards, restore the build schema's state after a failed run;
    # on-run-end: write-audit-publish copies the published tables in one transaction.
    ("run-start hooks", lambda n: "on-run-start" in n.get("unique_id", "")),
    ("publish (on-run-end)", lambda n: "on-run-end" in n.get("unique_id", "")),
    ("other", lambda n: True),
)


# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------
def run_measured(cmd: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path = PROJECT_DIR, memory_limit_bytes: int | None = None) -> dict:
    """Run ``cmd`` with stdout+stderr to ``log_path``; wall seconds and peak RSS (wait4).

    ``memory_limit_bytes`` caps the process's address space (RLIMIT_AS), so a run that
    would exhaust the machine fails with a MemoryError instead of waking the OOM killer.
    """
    full_env = {**os.environ, **(env or {})}

    def limit_memory() -> None:
        if memory_limit_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))

    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
                                preexec_fn=limit_memory)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(seconds, 3), "peak_rss_bytes": usage.ru_maxrss * 1024,
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "returncode": proc.returncode, "log": str(log_path)}


def _check(step: str, result: dict) -> None:
    if result["returncode"] != 0:
        tail = Path(result["log"]).read_text(errors="replace").splitlines()[-40:]
        sys.exit(f"bench: {step} failed (exit {result['returncode']}); last lines of "
                 f"{result['log']}:\n" + "\n".join(tail))


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------
# steps
# ---------------------------------------------------------------------------
def ensure_data(data_dir: Path, customers: int, orders: int) -> dict:
    """Generate the Parquet files unless ``data_dir`` already holds this exact data set."""
    meta_path = data_dir / "datagen.json"
    wanted = {"customers": customers, "orders": orders, "seed": SEED, "dirty": True,
              "format": "parquet"}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if ({k: meta.get(k) for k in wanted} == wanted
                and Path(meta["orders_path"]).exists() and Path(meta["customers_path"]).exists()):
            return {**meta, "cached": True}
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [PYTHON, "-m", "segmentation.datagen", "--customers", str(customers),
           "--orders", str(orders), "--seed", str(SEED), "--format", "parquet", "--dirty",
           "--out", str(data_dir)]
    result = run_measured(cmd, data_dir / "datagen.log")
    _check("data generation", result)
    import duckdb  # only to count what was written

    paths = {"customers_path": str((data_dir / "customers.parquet").resolve()),
             "orders_path": str((data_dir / "orders.parquet").resolve())}
    with duckdb.connect() as con:
        counts = {
            "customers_rows": con.sql(f"select count(*) from read_parquet('{paths['customers_path']}')").fetchone()[0],
            "orders_rows": con.sql(f"select count(*) from read_parquet('{paths['orders_path']}')").fetchone()[0],
        }
    meta = {**wanted, **paths, **counts, "generation_seconds": result["seconds"],
            "generation_peak_rss_bytes": result["peak_rss_bytes"]}
    meta_path.write_text(json.dumps(meta, indent=2))
    return {**meta, "cached": False}


def dbt_command(*args: str, vars_yaml: str, target: Path) -> list[str]:
    return [str(BIN / "dbt"), *args, "--vars", vars_yaml, "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(PROJECT_DIR), "--target-path", str(target),
            "--log-path", str(target / "logs")]


def dbt_env(database: Path, threads: int, extra: dict[str, str]) -> dict[str, str]:
    return {"SEGMENTATION_DUCKDB_PATH": str(database), "SEGMENTATION_THREADS": str(threads),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}


def stage_timings(target: Path) -> tuple[list[dict], dict[str, float], list[dict]]:
    """Per-stage wall time (union of node intervals), node-time sum and node count."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    lookup = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    per_stage: dict[str, dict] = {}
    nodes = []
    for r in results:
        node = dict(lookup.get(r["unique_id"], {}))
        node.setdefault("resource_type", r["unique_id"].split(".")[0])
        node.setdefault("unique_id", r["unique_id"])
        node["path_"] = node.get("original_file_path", "")
        stage = next(name for name, match in STAGES if match(node))
        intervals = [(_ts(t["started_at"]), _ts(t["completed_at"])) for t in r.get("timing", [])
                     if t.get("started_at") and t.get("completed_at")]
        start = min((a for a, _ in intervals), default=None)
        end = max((b for _, b in intervals), default=None)
        nodes.append({"unique_id": r["unique_id"], "name": node.get("name", r["unique_id"]),
                      "stage": stage, "status": r["status"],
                      "seconds": round(r["execution_time"], 3)})
        s = per_stage.setdefault(stage, {"stage": stage, "nodes": 0, "node_seconds": 0.0, "spans": []})
        s["nodes"] += 1
        s["node_seconds"] += r["execution_time"]
        if start is not None:
            s["spans"].append((start, end))
    stages = []
    for name, _ in STAGES:
        if name not in per_stage:
            continue
        s = per_stage[name]
        stages.append({"stage": name, "nodes": s["nodes"],
                       "wall_seconds": round(_union_length(s["spans"]), 3),
                       "node_seconds": round(s["node_seconds"], 3)})
    by_name = {n["name"]: n["seconds"] for n in nodes}
    nodes.sort(key=lambda n: -n["seconds"])
    return stages, by_name, nodes


def _ts(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _union_length(spans: list[tuple[float, float]]) -> float:
    total, current_start, current_end = 0.0, None, None
    for a, b in sorted(spans):
        if current_end is None or a > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = a, b
        else:
            current_end = max(current_end, b)
    if current_end is not None:
        total += current_end - current_start
    return total


def built_figures(database: Path) -> dict:
    """What the build produced, read back from its DuckDB file."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        # The published tables from `main`, the intermediate models from the build schema
        # (write-audit-publish publishes only what BI reads).
        con.execute("set search_path = 'main,main_build'")

        def one(sql: str):
            return con.sql(sql).fetchone()[0]
        return {
            "customer_features_rows": one("select count(*) from customer_features"),
            "customer_segments_rows": one("select count(*) from customer_segments"),
            "customers_with_purchases": one("select count(*) from customer_features where has_purchases"),
            "customers_input_rows": one("select count(*) from stg_customers"),
            # Every input line is counted once in the stored grouping (the checks are a view).
            "order_lines_checked": one("select sum(line_count) from int_order_lines_grouped"),
            "orders_aggregated": one("select count(*) from int_orders_aggregated"),
            "classified_customers": one("select count(*) from customer_clusters where segment_status = 'classified'"),
            "k": one("select k from cluster_models order by model_version desc limit 1"),
            "silhouette": one("select silhouette from cluster_models order by model_version desc limit 1"),
            "as_of_date": str(one("select as_of_date from int_as_of_date")),
        }


def node_timeline(target: Path) -> dict:
    """What run_results.json says about dbt's own time around the nodes.

    ``nodes_running_seconds``: time any node was running (union of every node's compile and
    execute spans); ``between_nodes_seconds``: dbt's elapsed time outside of it;
    ``compile_seconds`` / ``execute_seconds``: the two phases summed over nodes.
    """
    run_results = json.loads((target / "run_results.json").read_text())
    spans, phases = [], {"compile": 0.0, "execute": 0.0}
    for r in run_results["results"]:
        for t in r.get("timing", []):
            if t.get("started_at") and t.get("completed_at"):
                a, b = _ts(t["started_at"]), _ts(t["completed_at"])
                spans.append((a, b))
                if t.get("name") in phases:
                    phases[t["name"]] += b - a
    running = _union_length(spans)
    return {"elapsed_seconds": round(run_results["elapsed_time"], 3),
            "nodes_running_seconds": round(running, 3),
            "between_nodes_seconds": round(max(0.0, run_results["elapsed_time"] - running), 3),
            "compile_seconds": round(phases["compile"], 3), "execute_seconds": round(phases["execute"], 3),
            "nodes": len(run_results["results"])}


def cost_split(build: dict, probe: dict | None, top: int = 8) -> dict:
    """Split a build's wall time into dbt's fixed cost and data work.

    From the build alone: start-up and project load (wall time minus dbt's elapsed time),
    time between nodes, time nodes ran. With the probe (the same build on tiny data, where
    data work is nearly nil): fixed cost = the probe's wall time, data work = the rest, and
    per node the seconds above the probe's (the largest remaining costs).
    """
    timeline = build["timeline"]
    split = {"wall_seconds": build["seconds"],
             "startup_seconds": round(max(0.0, build["seconds"] - timeline["elapsed_seconds"]), 3),
             "between_nodes_seconds": timeline["between_nodes_seconds"],
             "nodes_running_seconds": timeline["nodes_running_seconds"],
             "compile_seconds": timeline["compile_seconds"], "execute_seconds": timeline["execute_seconds"]}
    if probe:
        fixed = min(probe["seconds"], build["seconds"])
        probe_nodes = {n["unique_id"]: n["seconds"] for n in probe["nodes"]}
        above = [{"name": n["name"], "stage": n["stage"], "seconds": n["seconds"],
                  "probe_seconds": probe_nodes.get(n["unique_id"], 0.0),
                  "data_seconds": round(n["seconds"] - probe_nodes.get(n["unique_id"], 0.0), 3)}
                 for n in build["nodes"]]
        above.sort(key=lambda n: -n["data_seconds"])
        split.update({"fixed_seconds": round(fixed, 3), "data_seconds": round(build["seconds"] - fixed, 3),
                      "fixed_share": round(fixed / build["seconds"], 3) if build["seconds"] else None,
                      "probe_startup_seconds": round(max(0.0, probe["seconds"]
                                                         - probe["timeline"]["elapsed_seconds"]), 3),
                      "probe_node_seconds": round(sum(probe_nodes.values()), 3),
                      "largest_data_costs": above[:top]})
    return split


def published_checksums(database: Path, schema: str = PUBLISHED_SCHEMA) -> dict[str, dict]:
    """Row count and an order-independent checksum of every table of ``schema``.

    Each row is rendered as JSON (run columns ``RUN_COLUMNS`` left out, floating-point
    columns to 17 significant digits, so every bit, as the write-audit-publish tests compare
    two builds),
    hashed, and the sorted row hashes are hashed again: equal for equal multisets of rows.
    """
    import duckdb

    sums = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1",
            [schema]).fetchall()]
        for table in tables:
            floats = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "and data_type in ('DOUBLE', 'FLOAT', 'REAL')", [schema, table]).fetchall()]
            excluded = RUN_COLUMNS.get(table, ())
            floats = [c for c in floats if c not in excluded]
            select = "*"
            if excluded:
                select += " exclude (" + ", ".join(f'"{c}"' for c in excluded) + ")"
            if floats:
                select += " replace (" + ", ".join(f"""format('{{:.17g}}', "{c}") as "{c}\"""" for c in floats) + ")"
            rows, digest = con.execute(
                f'select count(*), md5(coalesce(string_agg(h, \'\' order by h), \'\')) from ('
                f'select md5(cast(to_json(r) as varchar)) as h from (select {select} from "{schema}"."{table}") as r)'
            ).fetchone()
            sums[table] = {"rows": int(rows), "checksum": digest}
    return sums


def compare_checksums(a: dict[str, dict], b: dict[str, dict]) -> dict:
    """Tables equal in both, and those that differ or exist in one only."""
    differing = sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))
    return {"identical": not differing, "tables": len(set(a) | set(b)), "differing": differing}


def quality_counts(database: Path) -> dict[str, dict]:
    """The published data_quality_report: check_name -> rows, customers and amount affected."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(f"select check_name, rows_affected, customers_affected, amount_affected "
                           f"from {PUBLISHED_SCHEMA}.data_quality_report order by 1").fetchall()
    return {name: {"rows": int(n), "customers": int(c), "amount": float(amount)} for name, n, c, amount in rows}


def median_pairs(pairs: list[dict]) -> dict:
    """Medians of ours, the baseline and the per-pair ratio over the A B pairs."""
    out = {"pairs": len(pairs), "ours_seconds": round(statistics.median(p["ours_seconds"] for p in pairs), 3)}
    with_baseline = [p for p in pairs if p.get("baseline_seconds")]
    if with_baseline:
        out["baseline_seconds"] = round(statistics.median(p["baseline_seconds"] for p in with_baseline), 3)
        out["ratio"] = round(statistics.median(p["ratio"] for p in with_baseline), 3)
    for key in ("incremental_seconds", "full_refresh_seconds", "incremental_ratio",
                "next_day_seconds", "next_day_ratio"):
        values = [p[key] for p in pairs if p.get(key) is not None]
        if values:
            out[key] = round(statistics.median(values), 3)
    return out


def alternate(n: int, ours, baseline) -> list[dict]:
    """Run ``ours(i)`` and ``baseline(i)`` alternately, A B A B ..., ``n`` times.

    ``ours`` returns a dict with at least ``seconds``; ``baseline`` returns one with
    ``seconds`` or None (skipped or failed). Returns one dict per pair.
    """
    pairs = []
    for i in range(n):
        a = ours(i)
        b = baseline(i)
        pair = {"pair": i + 1, "ours_seconds": a["seconds"]}
        if a.get("incremental"):
            inc = a["incremental"]
            pair.update({"incremental_seconds": inc["incremental"]["seconds"],
                         "full_refresh_seconds": inc["full_refresh"]["seconds"],
                         "incremental_ratio": inc["ratio"], "marts_identical": inc["marts"]["identical"]})
            if inc.get("next_day_incremental"):
                pair.update({"next_day_seconds": inc["next_day_incremental"]["seconds"],
                             "next_day_ratio": inc["next_day_ratio"]})
        if b and b.get("seconds"):
            pair.update({"baseline_seconds": b["seconds"], "ratio": round(a["seconds"] / b["seconds"], 3)})
        pairs.append(pair)
    return pairs


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def report(r: dict) -> str:
    b, o = r["build"], r.get("overhead")
    lines = [
        f"== bench {r['size']}: {r['data']['customers_rows']:,} customers, "
        f"{r['data']['orders_rows']:,} order rows (Parquet, seed {SEED}, dirty rows on)",
        f"machine: {r['machine']['cpus']} cores, {r['machine']['memory_gib']} GiB, "
        f"{r['machine']['cpu_model']}; DuckDB threads {r['threads']}; "
        f"load average before/after {r['load_before']} / {r['load_after']}",
        f"data: {'cached in' if r['data']['cached'] else 'generated into'} "
        f"{Path(r['data']['orders_path']).parent} (generation {r['data']['generation_seconds']:.1f} s)",
    ]
    if o:
        lines.append(f"dbt fixed overhead: parse (full, no partial parse) {o['parse']['seconds']:.1f} s; "
                     f"dbt ls (start-up + manifest) {o['ls']['seconds']:.1f} s")
    lines += ["", "dbt build, per stage (wall = time any node of the stage was running; "
              "stages overlap with 2 threads):",
              f"  {'stage':<20} {'nodes':>5} {'wall s':>8} {'node s':>8}"]
    for s in b["stages"]:
        lines.append(f"  {s['stage']:<20} {s['nodes']:>5} {s['wall_seconds']:>8.1f} {s['node_seconds']:>8.1f}")
    lines.append(f"  {'dbt elapsed':<20} {'':>5} {b['dbt_elapsed_seconds']:>8.1f}")
    warned = [n["name"] for n in b["nodes"] if n["status"] == "warn"]
    if warned:
        lines.append(f"  warnings (published anyway, warn severity): {', '.join(warned)}")
    lines += ["", "largest nodes:"]
    for n in b["nodes"][:8]:
        lines.append(f"  {n['seconds']:>7.1f} s  {n['stage']:<18} {n['name']}")
    rfm = b["rfm_aggregation"]
    lines += [
        "",
        f"RFM aggregation ({' + '.join(RFM_AGGREGATION_MODELS)}): {rfm['seconds']:.1f} s, "
        f"{rfm['rows_per_second']:,.0f} order rows/s",
        f"built: {b['figures']['customer_features_rows']:,} customers in customer_features "
        f"({b['figures']['customers_with_purchases']:,} with purchases), "
        f"{b['figures']['classified_customers']:,} clustered, k={b['figures']['k']}, "
        f"as of {b['figures']['as_of_date']}",
        "",
        f"{'':<24} {'wall s':>9} {'CPU s':>9} {'peak RSS':>11}",
        f"{'ours: dbt build':<24} {b['seconds']:>9.1f} {b['cpu_seconds']:>9.1f} {_gib(b['peak_rss_bytes']):>11}",
    ]
    if r.get("baseline"):
        bl = r["baseline"]
        steps = ", ".join(f"{k} {v:.1f}" for k, v in bl["steps"].items())
        lines += [
            f"{'baseline: notebook':<24} {bl['seconds']:>9.1f} {bl['cpu_seconds']:>9.1f} "
            f"{_gib(bl['peak_rss_bytes']):>11}",
            f"ratio ours/baseline: {r['ratio']:.2f}   (baseline steps, s: {steps})",
        ]
    elif r.get("baseline_failed"):
        bf = r["baseline_failed"]
        lines += [
            f"{'baseline: notebook':<24} {'failed':>9} after {bf['seconds']:.1f} s, exit {bf['returncode']}, "
            f"peak RSS {_gib(bf['peak_rss_bytes'])} (address space capped at "
            f"{r['baseline_memory_gib']:g} GiB): {bf['last_line']}",
        ]
    lines += _report_split(r)
    if r.get("incremental"):
        lines += _report_incremental(r["incremental"])
    if len(r.get("pairs", [])) > 1:
        lines += _report_pairs(r["pairs"], r["medians"])
    return "\n".join(lines)


def _report_split(r: dict) -> list[str]:
    c, o = r["cost_split"], r.get("overhead")
    lines = ["", f"where the build's {c['wall_seconds']:.1f} s go:",
             f"  {c['startup_seconds']:>7.1f} s  dbt start-up and project load (wall - dbt elapsed"
             + (f"; a full parse alone takes {o['parse']['seconds']:.1f} s, dbt ls {o['ls']['seconds']:.1f} s)"
                if o else ")"),
             f"  {c['between_nodes_seconds']:>7.1f} s  dbt between nodes (elapsed - time any node ran)",
             f"  {c['nodes_running_seconds']:>7.1f} s  nodes running (node time: compile {c['compile_seconds']:.1f} s, "
             f"execute {c['execute_seconds']:.1f} s, on {r['threads']} threads)"]
    if "fixed_seconds" in c:
        p = r["probe"]
        lines += [f"  dbt fixed cost ~ {c['fixed_seconds']:.1f} s ({c['fixed_share']:.0%}): the same build on "
                  f"{p['customers']:,} customers / {p['orders_rows']:,} order rows (start-up "
                  f"{c['probe_startup_seconds']:.1f} s, {len(p['nodes'])} nodes "
                  f"{c['probe_node_seconds']:.1f} s node time)",
                  f"  data work ~ {c['data_seconds']:.1f} s; largest remaining costs (node s above the tiny build):"]
        for n in c["largest_data_costs"]:
            lines.append(f"  {n['data_seconds']:>7.1f} s  {n['stage']:<18} {n['name']} "
                         f"({n['seconds']:.1f} s, {n['probe_seconds']:.1f} s on tiny data)")
    return lines


def _report_incremental(inc: dict) -> list[str]:
    d = inc["day"]
    parts = ", ".join(f"{k} {v:,}" for k, v in d["parts"].items())
    lines = ["", f"incremental: one appended day ({d['day']}): {d['rows']:,} order rows = "
                 f"{d['rows'] / d['base_rows']:.2%} of {d['base_rows']:,}; {d['new_customers']:,} new customers",
             f"  parts: {parts}",
             f"  {'full build (base data)':<34} {inc['full_build_seconds']:>8.1f} s",
             f"  {'incremental build (dbt build)':<34} {inc['incremental']['seconds']:>8.1f} s  "
             f"peak RSS {_gib(inc['incremental']['peak_rss_bytes'])}",
             f"  {'full refresh (--full-refresh)':<34} {inc['full_refresh']['seconds']:>8.1f} s  "
             f"peak RSS {_gib(inc['full_refresh']['peak_rss_bytes'])}",
             f"  ratio incremental / full refresh: {inc['ratio']:.2f}"]
    steps = [("incremental", "incremental build"), ("full_refresh", "full refresh")]
    if inc.get("next_day_incremental"):
        n, nd = inc["next_day_incremental"], inc["next_day"]
        lines[5:5] = [f"  {'next day, dbt build (incremental)':<34} {n['seconds']:>8.1f} s  "
                      f"peak RSS {_gib(n['peak_rss_bytes'])}  (the day after, {nd['day']}: {nd['rows']:,} order rows; "
                      f"a daily build after a daily build)"]
        lines[-1] = (f"  ratio incremental / full refresh: first day after the full build {inc['ratio']:.2f}, "
                     f"next day {inc['next_day_ratio']:.2f} (the full refresh on the final data: base and both days)")
        steps.insert(1, ("next_day_incremental", "next day's build"))
    for step, label in steps:
        warned = [n["name"] for n in inc[step]["nodes"] if n["status"] == "warn"]
        if warned:
            lines.append(f"  warnings in the {label} (published anyway, warn severity): {', '.join(warned)}")
    m = inc["marts"]
    left_out = "; ".join(f"{t}: {', '.join(c)}" for t, c in RUN_COLUMNS.items())
    if m["identical"]:
        lines.append(f"  published marts identical: yes ({m['tables']} tables of schema {PUBLISHED_SCHEMA}"
                     + (", the next day's build against the full refresh" if inc.get("next_day_incremental") else "")
                     + f"; checksums without the run columns - {left_out})")
    else:
        lines.append(f"  published marts identical: NO - {len(m['differing'])} of {m['tables']} tables differ: "
                     + ", ".join(m["differing"]))
    before, after = inc["quality_before"], inc["quality_after"]
    changed = [(k, before.get(k, {}).get("rows", 0), after.get(k, {}).get("rows", 0))
               for k in sorted(set(before) | set(after))]
    changed = [c for c in changed if c[1] != c[2]]
    lines.append("  data_quality_report rows_affected before -> after the day: "
                 + (", ".join(f"{k} {a:,} -> {b:,}" for k, a, b in changed) or "unchanged"))
    return lines


def _report_pairs(pairs: list[dict], med: dict) -> list[str]:
    has_inc = any("incremental_seconds" in p for p in pairs)
    has_next = any("next_day_seconds" in p for p in pairs)
    head = f"  {'pair':>4} {'ours s':>8} {'baseline s':>11} {'ratio':>6}"
    if has_inc:
        head += f" {'incr s':>8} {'refresh s':>9} {'incr/refresh':>12}"
    if has_next:
        head += f" {'next s':>8} {'next/refresh':>12}"
    if has_inc:
        head += f" {'identical':>9}"
    lines = ["", f"repeat {len(pairs)} (ours and the baseline alternate A B A B; medians over the pairs):", head]

    def fmt(v, spec):
        return format(v, spec) if isinstance(v, (int, float)) else format("-", ">" + spec.split(".")[0])

    def row(label, figures: dict) -> str:
        line = (f"  {label:>4} {fmt(figures['ours_seconds'], '8.1f')} {fmt(figures.get('baseline_seconds'), '11.1f')} "
                f"{fmt(figures.get('ratio'), '6.2f')}")
        if has_inc:
            line += (f" {fmt(figures.get('incremental_seconds'), '8.1f')} "
                     f"{fmt(figures.get('full_refresh_seconds'), '9.1f')} "
                     f"{fmt(figures.get('incremental_ratio'), '12.2f')}")
        if has_next:
            line += f" {fmt(figures.get('next_day_seconds'), '8.1f')} {fmt(figures.get('next_day_ratio'), '12.2f')}"
        return line

    for p in pairs:
        marts = f" {('yes' if p.get('marts_identical') else 'NO'):>9}" if has_inc else ""
        lines.append(row(p["pair"], p) + marts)
    lines.append(row("med.", med))
    return lines


def machine() -> dict:
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpus": os.cpu_count(), "memory_gib": round(mem / 2**30), "cpu_model": model,
            "python": sys.version.split()[0]}


# ---------------------------------------------------------------------------
def _fresh_database(database: Path) -> None:
    for path in (database, Path(str(database) + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(Path(str(database) + ".tmp"), ignore_errors=True)


def _link(target: Path, link: Path) -> None:
    link.unlink(missing_ok=True)
    link.symlink_to(target)


def _cached_day(folder: Path, generate) -> dict:
    """A generated day's metadata from ``folder/day.json`` when its files still exist, else
    ``generate()`` (which writes the files into ``folder``) and the metadata saved."""
    meta_path = folder / "day.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if Path(meta["orders_path"]).exists() and Path(meta["customers_path"]).exists():
            return {**meta, "cached": True}
    shutil.rmtree(folder, ignore_errors=True)
    meta = generate()
    meta_path.write_text(json.dumps(meta, indent=2))
    return {**meta, "cached": False}


def ensure_day(base: Path, data: dict, share: float) -> dict:
    """The generated day for this data set, once (``segmentation.datagen_day``), cached."""
    from segmentation.datagen_day import generate_day

    folder = base / f"day-seed{SEED}-share{share:g}"
    return _cached_day(folder, lambda: generate_day(data["orders_path"], data["customers_path"], folder,
                                                    seed=SEED, share=share))


def ensure_next_day(base: Path, data: dict, day: dict, share: float) -> dict:
    """The day after the generated day (``datagen_day`` on the base and that day), once, cached."""
    from segmentation.datagen_day import generate_day

    folder = base / f"day2-seed{SEED}-share{share:g}"

    def generate() -> dict:
        both = base / "day2-input"          # the base and the first day under one glob
        shutil.rmtree(both, ignore_errors=True)
        both.mkdir()
        for kind in ("orders", "customers"):
            _link(Path(data[f"{kind}_path"]), both / f"{kind}-0000-base.parquet")
            _link(Path(day[f"{kind}_path"]), both / Path(day[f"{kind}_path"]).name)
        return generate_day(str(both / "orders-*.parquet"), str(both / "customers-*.parquet"), folder,
                            seed=SEED, share=share)

    return _cached_day(folder, generate)


def run_build(label: str, args: list[str], *, vars_yaml: str, target: Path, env: dict, work: Path,
              run_index: int, repeat: int) -> dict:
    """One timed dbt invocation; its stages, nodes and timeline from run_results.json."""
    suffix = "" if repeat == 1 else f"_{run_index + 1}"
    result = run_measured(dbt_command(*args, vars_yaml=vars_yaml, target=target),
                          work / f"dbt_{label}{suffix}.log", env)
    _check(f"dbt {' '.join(args)} ({label})", result)
    stages, by_name, nodes = stage_timings(target)
    runs = work / "runs"
    runs.mkdir(exist_ok=True)
    shutil.copy2(target / "run_results.json", runs / f"{label}{suffix}.run_results.json")
    result.update({"stages": stages, "nodes": nodes, "by_name": by_name, "timeline": node_timeline(target),
                   "dbt_elapsed_seconds": json.loads((target / "run_results.json").read_text())["elapsed_time"]})
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/bench.py", description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="100k", help=f"one of {', '.join(SIZES)} (default 100k)")
    ap.add_argument("--customers", type=int, default=None, help="custom size: customers")
    ap.add_argument("--orders", type=int, default=None, help="custom size: order rows")
    ap.add_argument("--cache-dir", default=str(PROJECT_DIR / ".bench"),
                    help="generated data and run outputs go to <cache-dir>/<size>/")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (dbt profile)")
    ap.add_argument("--incremental", action="store_true",
                    help="after the full build, append one generated day, then time dbt build "
                         "(incremental) and dbt build --full-refresh on the same final data")
    ap.add_argument("--day-share", type=float, default=0.003,
                    help="--incremental: the day's order rows as a share of the base's (default 0.003)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run ours and the baseline alternately N times (A B A B); print medians")
    ap.add_argument("--skip-baseline", action="store_true", help="do not run the notebook baseline")
    ap.add_argument("--skip-overhead", action="store_true",
                    help="do not time dbt parse / dbt ls nor the empty-ish probe build")
    ap.add_argument("--skip-probe", action="store_true",
                    help="do not run the empty-ish probe build (the fixed cost / data work split)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the dbt build (repeatable)")
    ap.add_argument("--baseline-memory-gib", type=float, default=22.0,
                    help="address-space cap of the baseline process (default 22 GiB)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    a = ap.parse_args(argv)

    if a.customers or a.orders:
        if not (a.customers and a.orders):
            ap.error("--customers and --orders go together")
        size, (customers, orders) = f"{a.customers}c_{a.orders}o", (a.customers, a.orders)
    elif a.size in SIZES:
        size, (customers, orders) = a.size, SIZES[a.size]
    else:
        ap.error(f"--size must be one of {', '.join(SIZES)}, got {a.size!r}")
    if a.repeat < 1:
        ap.error(f"--repeat must be at least 1, got {a.repeat}")
    if not 0 < a.day_share < 1:
        ap.error(f"--day-share must be between 0 and 1, got {a.day_share}")
    extra_env = dict(item.split("=", 1) for item in a.env)

    base = Path(a.cache_dir).resolve() / size
    work = base / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result: dict = {"size": size, "threads": a.threads, "machine": machine(),
                    "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "load_before": load_average(), "env": extra_env, "repeat": a.repeat,
                    "baseline_memory_gib": a.baseline_memory_gib}

    print(f"bench {size}: data ...", flush=True)
    data = ensure_data(base, customers, orders)
    result["data"] = data
    day = None
    if a.incremental:
        # Globs over one folder: the same vars before and after the day's files arrive.
        input_dir = work / "input"
        input_dir.mkdir()
        base_links = {"orders": input_dir / "orders-0000-base.parquet",
                      "customers": input_dir / "customers-0000-base.parquet"}
        _link(Path(data["orders_path"]), base_links["orders"])
        _link(Path(data["customers_path"]), base_links["customers"])
        inputs = {"orders_input": {"file": str(input_dir / "orders-*.parquet")},
                  "customers_input": {"file": str(input_dir / "customers-*.parquet")}}
        print(f"bench {size}: the appended day ...", flush=True)
        day = ensure_day(base, data, a.day_share)
        day_links = {"orders": input_dir / Path(day["orders_path"]).name,
                     "customers": input_dir / Path(day["customers_path"]).name}
        next_day = ensure_next_day(base, data, day, a.day_share)
        next_day_links = {"orders": input_dir / Path(next_day["orders_path"]).name,
                          "customers": input_dir / Path(next_day["customers_path"]).name}
    else:
        inputs = {"orders_input": {"file": data["orders_path"]},
                  "customers_input": {"file": data["customers_path"]}}
    vars_yaml = json.dumps(inputs)
    database = work / "bench.duckdb"
    env = dbt_env(database, a.threads, extra_env)
    target = work / "target"

    if not a.skip_overhead:
        print(f"bench {size}: dbt parse / dbt ls ...", flush=True)
        # The build below reuses this target path, so it starts from the parsed project
        # (dbt's partial parsing), as every build after a user's first one does; the full
        # parse is timed here, on its own.
        parse = run_measured(dbt_command("parse", "--no-partial-parse", vars_yaml=vars_yaml, target=target),
                             work / "dbt_parse.log", env)
        _check("dbt parse", parse)
        ls = run_measured(dbt_command("ls", "--quiet", vars_yaml=vars_yaml, target=target),
                          work / "dbt_ls.log", env)
        _check("dbt ls", ls)
        result["overhead"] = {"parse": parse, "ls": ls}
        if not a.skip_probe:
            print(f"bench {size}: empty-ish probe build ({PROBE_SIZE[0]:,} customers) ...", flush=True)
            probe_data = ensure_data(Path(a.cache_dir).resolve() / "probe" / f"{PROBE_SIZE[0]}c_{PROBE_SIZE[1]}o",
                                     *PROBE_SIZE)
            probe_work = work / "probe"
            probe_work.mkdir()
            probe_vars = json.dumps({"orders_input": {"file": probe_data["orders_path"]},
                                     "customers_input": {"file": probe_data["customers_path"]}})
            probe_env = dbt_env(probe_work / "probe.duckdb", a.threads, extra_env)
            # parsed first, as the build's project is, so both builds start from a parsed project
            _check("dbt parse (probe)", run_measured(
                dbt_command("parse", vars_yaml=probe_vars, target=probe_work / "target"),
                probe_work / "dbt_parse.log", probe_env))
            probe = run_build("build", ["build"], vars_yaml=probe_vars, target=probe_work / "target",
                              env=probe_env, work=probe_work, run_index=0, repeat=1)
            probe.update({"customers": probe_data["customers_rows"], "orders_rows": probe_data["orders_rows"]})
            result["probe"] = probe

    builds: list[dict] = []
    baselines: list[dict] = []

    def save_partial() -> None:
        # every finished step, so that a long run stopped halfway still leaves its figures
        (work / "bench.partial.json").write_text(
            json.dumps({**result, "builds": builds, "baselines": baselines}, indent=2, default=str))

    def ours(i: int) -> dict:
        tag = f" ({i + 1}/{a.repeat})" if a.repeat > 1 else ""
        _fresh_database(database)
        if day:
            for link in (*day_links.values(), *next_day_links.values()):
                link.unlink(missing_ok=True)
        print(f"bench {size}: dbt build{tag} ...", flush=True)
        build = run_build("build", ["build"], vars_yaml=vars_yaml, target=target, env=env, work=work,
                          run_index=i, repeat=a.repeat)
        rfm_seconds = sum(build["by_name"].get(m, 0.0) for m in RFM_AGGREGATION_MODELS)
        build.update({
            "rfm_aggregation": {"models": list(RFM_AGGREGATION_MODELS), "seconds": round(rfm_seconds, 3),
                                "order_rows": data["orders_rows"],
                                "rows_per_second": data["orders_rows"] / rfm_seconds if rfm_seconds else None},
            "figures": built_figures(database),
        })
        if day:
            quality_before = quality_counts(database)
            _link(Path(day["orders_path"]), day_links["orders"])
            _link(Path(day["customers_path"]), day_links["customers"])
            print(f"bench {size}: + one day, dbt build (incremental){tag} ...", flush=True)
            inc = run_build("incremental", ["build"], vars_yaml=vars_yaml, target=target, env=env, work=work,
                            run_index=i, repeat=a.repeat)
            quality_after = quality_counts(database)
            inc["figures"] = built_figures(database)
            # The day after: a daily build after a daily build (the state and the change
            # guard's file figures both from the build before), as every day but the first
            # after a full build.
            _link(Path(next_day["orders_path"]), next_day_links["orders"])
            _link(Path(next_day["customers_path"]), next_day_links["customers"])
            print(f"bench {size}: + the next day, dbt build (incremental){tag} ...", flush=True)
            nxt = run_build("next_day", ["build"], vars_yaml=vars_yaml, target=target, env=env, work=work,
                            run_index=i, repeat=a.repeat)
            inc_sums = published_checksums(database)
            nxt["figures"] = built_figures(database)
            print(f"bench {size}: dbt build --full-refresh{tag} ...", flush=True)
            full = run_build("full_refresh", ["build", "--full-refresh"], vars_yaml=vars_yaml, target=target,
                             env=env, work=work, run_index=i, repeat=a.repeat)
            full_sums = published_checksums(database)
            build["incremental"] = {
                "day": {k: v for k, v in day.items() if k != "cached"}, "full_build_seconds": build["seconds"],
                "next_day": {k: v for k, v in next_day.items() if k != "cached"},
                "incremental": inc, "next_day_incremental": nxt, "full_refresh": full,
                "ratio": round(inc["seconds"] / full["seconds"], 3),
                "next_day_ratio": round(nxt["seconds"] / full["seconds"], 3),
                "marts": {**compare_checksums(inc_sums, full_sums), "run_columns_left_out": RUN_COLUMNS,
                          "incremental": inc_sums, "full_refresh": full_sums},
                "quality_before": quality_before, "quality_after": quality_after,
            }
        builds.append(build)
        save_partial()
        return build

    def baseline(i: int) -> dict | None:
        if a.skip_baseline:
            return None
        tag = f" ({i + 1}/{a.repeat})" if a.repeat > 1 else ""
        print(f"bench {size}: notebook baseline{tag} ...", flush=True)
        suffix = "" if a.repeat == 1 else f"_{i + 1}"
        out = work / f"baseline{suffix}.json"
        bl = run_measured([PYTHON, str(PROJECT_DIR / "scripts" / "notebook_baseline.py"),
                           "--orders", data["orders_path"],
                           "--as-of-date", builds[-1]["figures"]["as_of_date"], "--json", str(out)],
                          work / f"baseline{suffix}.log",
                          memory_limit_bytes=int(a.baseline_memory_gib * 2**30))
        if bl["returncode"] != 0:
            # Not fatal: at 5M/100M the notebook approach may not fit in memory at all;
            # that is a result too. The build's figures stand on their own.
            last = Path(bl["log"]).read_text(errors="replace").strip().splitlines()[-1:] or [""]
            result["baseline_failed"] = {**bl, "last_line": last[0][:300]}
            return None
        inner = json.loads(out.read_text())
        bl.update({"steps": inner["steps"], "customers": inner["customers"],
                   "chosen_k": inner["chosen_k"], "inner_seconds": inner["seconds"]})
        baselines.append(bl)
        save_partial()
        return bl

    pairs = alternate(a.repeat, ours, baseline)
    medians = median_pairs(pairs)
    result.update({"pairs": pairs, "medians": medians})
    # Per-stage figures of the median build (the lower middle one for an even count).
    build = sorted(builds, key=lambda b: b["seconds"])[(len(builds) - 1) // 2]
    result["build"] = build
    if day:
        result["incremental"] = build["incremental"]
    if baselines:
        result["baseline"] = sorted(baselines, key=lambda b: b["seconds"])[(len(baselines) - 1) // 2]
        result["ratio"] = medians["ratio"]
    result["cost_split"] = cost_split(build, result.get("probe"))

    result["load_after"] = load_average()
    text = report(result)
    print(text)
    (work / "bench.json").write_text(json.dumps(result, indent=2, default=str))
    (work / "bench.txt").write_text(text + "\n")
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
