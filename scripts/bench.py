"""Benchmark: the full `dbt build` on generated Parquet data, against the notebook approach.

Usage (``make bench SIZE=1m`` runs the first form)::

    python scripts/bench.py --size 100k|1m|5m [--cache-dir .bench] [--threads 2]
                            [--skip-baseline] [--skip-overhead] [--json out.json]
    python scripts/bench.py --customers 10000 --orders 100000 ...   # any other size

Steps, each in its own subprocess so its wall time and peak RSS are its own:

1. Generate the data once per size (``segmentation.datagen``, Parquet, dirty rows on, seed
   42) into ``<cache-dir>/<size>/``; later runs reuse it (the generation time is shown).
2. dbt's fixed overhead: ``dbt parse --no-partial-parse`` (full parse of this project) and
   ``dbt ls`` (start-up plus reading the parsed manifest), on the same vars.
3. ``dbt build`` (in the target path parsed in step 2, so dbt's partial parsing applies
   as in every build after a user's first; with --skip-overhead it parses in full) (every
   seed, model - SQL and Python -, snapshot, data test and unit test)
   into a fresh DuckDB file and target path under ``<cache-dir>/<size>/run/``, configured
   only through vars: ``orders_input.file`` and ``customers_input.file`` point at the
   Parquet files. Peak RSS comes from ``wait4`` on the dbt process; per-node timings from
   ``target/run_results.json``, grouped into stages by folder.
4. ``scripts/notebook_baseline.py`` on the same orders file, with the as-of date the build
   used, so both sides compute recency against the same day.

Prints a table and writes every figure to ``<cache-dir>/<size>/run/bench.json``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
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
#: Models that turn order lines into per-customer R, F and M (the "RFM aggregation").
RFM_AGGREGATION_MODELS = ("int_order_lines_checked", "int_orders_aggregated",
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
            "order_lines_checked": one("select count(*) from int_order_lines_checked"),
            "orders_aggregated": one("select count(*) from int_orders_aggregated"),
            "classified_customers": one("select count(*) from customer_clusters where segment_status = 'classified'"),
            "k": one("select k from cluster_models order by model_version desc limit 1"),
            "silhouette": one("select silhouette from cluster_models order by model_version desc limit 1"),
            "as_of_date": str(one("select as_of_date from int_as_of_date")),
        }


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
    return "\n".join(lines)


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
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/bench.py", description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="100k", help=f"one of {', '.join(SIZES)} (default 100k)")
    ap.add_argument("--customers", type=int, default=None, help="custom size: customers")
    ap.add_argument("--orders", type=int, default=None, help="custom size: order rows")
    ap.add_argument("--cache-dir", default=str(PROJECT_DIR / ".bench"),
                    help="generated data and run outputs go to <cache-dir>/<size>/")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (dbt profile)")
    ap.add_argument("--skip-baseline", action="store_true", help="do not run the notebook baseline")
    ap.add_argument("--skip-overhead", action="store_true", help="do not time dbt parse / dbt ls")
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
    extra_env = dict(item.split("=", 1) for item in a.env)

    base = Path(a.cache_dir).resolve() / size
    work = base / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result: dict = {"size": size, "threads": a.threads, "machine": machine(),
                    "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "load_before": load_average(), "env": extra_env,
                    "baseline_memory_gib": a.baseline_memory_gib}

    print(f"bench {size}: data ...", flush=True)
    data = ensure_data(base, customers, orders)
    result["data"] = data
    vars_yaml = json.dumps({"orders_input": {"file": data["orders_path"]},
                            "customers_input": {"file": data["customers_path"]}})
    env = dbt_env(work / "bench.duckdb", a.threads, extra_env)

    if not a.skip_overhead:
        print(f"bench {size}: dbt parse / dbt ls ...", flush=True)
        # The build below reuses this target path, so it starts from the parsed project
        # (dbt's partial parsing), as every build after a user's first one does; the full
        # parse is timed here, on its own.
        target = work / "target"
        parse = run_measured(dbt_command("parse", "--no-partial-parse", vars_yaml=vars_yaml, target=target),
                             work / "dbt_parse.log", env)
        _check("dbt parse", parse)
        ls = run_measured(dbt_command("ls", "--quiet", vars_yaml=vars_yaml, target=target),
                          work / "dbt_ls.log", env)
        _check("dbt ls", ls)
        result["overhead"] = {"parse": parse, "ls": ls}

    print(f"bench {size}: dbt build ...", flush=True)
    target = work / "target"
    build = run_measured(dbt_command("build", vars_yaml=vars_yaml, target=target),
                         work / "dbt_build.log", env)
    _check("dbt build", build)
    stages, by_name, nodes = stage_timings(target)
    rfm_seconds = sum(by_name.get(m, 0.0) for m in RFM_AGGREGATION_MODELS)
    build.update({
        "stages": stages,
        "nodes": nodes,
        "dbt_elapsed_seconds": json.loads((target / "run_results.json").read_text())["elapsed_time"],
        "rfm_aggregation": {"models": list(RFM_AGGREGATION_MODELS), "seconds": round(rfm_seconds, 3),
                            "order_rows": data["orders_rows"],
                            "rows_per_second": data["orders_rows"] / rfm_seconds if rfm_seconds else None},
        "figures": built_figures(work / "bench.duckdb"),
    })
    result["build"] = build

    if not a.skip_baseline:
        print(f"bench {size}: notebook baseline ...", flush=True)
        out = work / "baseline.json"
        bl = run_measured([PYTHON, str(PROJECT_DIR / "scripts" / "notebook_baseline.py"),
                           "--orders", data["orders_path"],
                           "--as-of-date", build["figures"]["as_of_date"], "--json", str(out)],
                          work / "baseline.log",
                          memory_limit_bytes=int(a.baseline_memory_gib * 2**30))
        if bl["returncode"] == 0:
            inner = json.loads(out.read_text())
            bl.update({"steps": inner["steps"], "customers": inner["customers"],
                       "chosen_k": inner["chosen_k"], "inner_seconds": inner["seconds"]})
            result["baseline"] = bl
            result["ratio"] = round(build["seconds"] / bl["seconds"], 3)
        else:
            # Not fatal: at 5M/100M the notebook approach may not fit in memory at all;
            # that is a result too. The build's figures stand on their own.
            last = Path(bl["log"]).read_text(errors="replace").strip().splitlines()[-1:] or [""]
            result["baseline_failed"] = {**bl, "last_line": last[0][:300]}

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
