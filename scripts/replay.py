"""Replay the segment history: rebuild the segments at a series of past as-of dates, in order.

Every step builds the project *as of* one date (var ``as_of_date``: orders after it are
ignored, customers not yet known are left out), then writes the snapshot
``customer_segments_snapshot`` and the history tables ``segment_size_history`` and
``segment_transitions`` for that date. The dates are the first of every month from
``--from`` to ``--to``; the history must grow in date order, so they run oldest first.

Usage (from the project directory, or through ``make replay``)::

    python scripts/replay.py --from 2025-01-01 --to 2026-10-01
    python scripts/replay.py --from 2025-01-01 --to 2026-10-01 --reset --clustering train

Clustering (``--clustering``):

``score`` (default)
    Train (or reuse) one cluster model at the last date, then score every step with it
    (``clustering_mode: score``). One fixed lens: every cluster move in the replayed
    history is a change in the customer's behaviour.
``train``
    Train at every step (``clustering_mode: train``), as a monthly production run would.
    A step whose data changed gets a new model version; cluster moves across it are
    reported as ``move_cause = 'retrain'`` in ``segment_transitions``.

dbt runs in this process (``dbtRunner``), with the usual profile: set
``SEGMENTATION_DUCKDB_PATH`` to build into another DuckDB file.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
CLUSTERING_CHOICES = ("score", "train")
# What one step builds: the segments and everything upstream (no seeds: loaded once before
# the first step), the snapshot and the two history tables. No tests: they run once at the end.
STEP_SELECTION = ("+customer_segments", "int_customer_segments_tracked", "customer_segments_snapshot",
                  "segment_size_history", "segment_transitions")
HISTORY_SELECTION = ("int_customer_segments_tracked", "customer_segments_snapshot",
                     "segment_size_history", "segment_transitions")


def month_starts(first: str | dt.date, last: str | dt.date) -> list[dt.date]:
    """The first day of every month from ``first`` to ``last`` (both included), oldest first.

    Parameters
    ----------
    first, last : str or datetime.date
        Dates written ``YYYY-MM-DD`` (or dates). A ``first`` that is not the first of a month
        starts at the first of the following month.

    Returns
    -------
    list of datetime.date
        Non-empty.

    Raises
    ------
    ValueError
        When a date cannot be read, ``first`` is after ``last``, or no first of a month lies
        between them.
    """
    start, end = _as_date(first, "first"), _as_date(last, "last")
    if start > end:
        raise ValueError(f"the first date {start} is after the last date {end}")
    year, month = start.year, start.month
    if start.day != 1:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    dates = []
    while (current := dt.date(year, month, 1)) <= end:
        dates.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not dates:
        raise ValueError(f"no first of a month lies between {start} and {end}")
    return dates


def _as_date(value: str | dt.date, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} date must be written YYYY-MM-DD, got {value!r}") from None


class DbtStepError(RuntimeError):
    """A dbt invocation of the replay failed; the message says which step and why."""


def replay(dates: Sequence[dt.date], *, clustering: str = "score", base_vars: dict[str, Any] | None = None,
           reset: bool = False, project_dir: Path = PROJECT_DIR, target_path: Path | None = None,
           run_tests: bool = True, invoke: Callable[[list[str]], Any] | None = None,
           echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Rebuild segments, snapshot and history at every date of ``dates``, in order.

    Parameters
    ----------
    dates : sequence of datetime.date
        The as-of dates, strictly increasing.
    clustering : {'score', 'train'}
        'score' trains one model at the last date and scores every step with it; 'train'
        retrains at every step whose data changed.
    base_vars : dict, optional
        The user's vars (for example an input configuration); ``as_of_date`` and
        ``clustering_mode`` are set by the replay.
    reset : bool
        Drop the snapshot and history tables first (``dbt run-operation reset_history``).
    project_dir, target_path : Path
        The dbt project, and where dbt writes its artifacts (default ``$DBT_TARGET_PATH``,
        else ``<project>/target``).
    run_tests : bool
        After the last step, run a full ``dbt build`` at the last date: every test, the history
        tests among them, and the publish of the replayed history to what BI reads (without it
        the history stays in the build schema). The drift tests then report on the last date.
    invoke : callable, optional
        Runs one dbt command (a list of arguments) and returns a ``dbtRunnerResult``; the
        default runs dbt in this process.
    echo : callable
        Where progress lines go.

    Returns
    -------
    dict
        ``dates`` (the dates replayed), ``seconds`` (total wall time), ``step_seconds``
        (per date) and ``test_results`` (``(test name, status, failures)`` of the final tests).

    Raises
    ------
    ValueError
        On an unknown ``clustering``, no dates or dates out of order.
    DbtStepError
        When a dbt command fails (the history then holds the steps before it).
    """
    if clustering not in CLUSTERING_CHOICES:
        raise ValueError(f"clustering must be one of {CLUSTERING_CHOICES}, got {clustering!r}")
    dates = list(dates)
    if not dates:
        raise ValueError("dates is empty: give at least one as-of date")
    if any(later <= earlier for earlier, later in zip(dates, dates[1:])):
        raise ValueError(f"dates must be strictly increasing (history is built oldest first), got {dates}")
    project_dir = Path(project_dir)
    target_path = Path(target_path or os.environ.get("DBT_TARGET_PATH") or project_dir / "target")
    invoke = invoke or _in_process_runner(project_dir, target_path)
    base_vars = {key: value for key, value in (base_vars or {}).items()
                 if key not in ("as_of_date", "clustering_mode")}

    def run(label: str, args: list[str], step_vars: dict[str, Any]) -> Any:
        result = invoke(args + ["--vars", _vars_text({**base_vars, **step_vars})])
        if not result.success:
            raise DbtStepError(f"{label} failed:\n{_failure_summary(result)}")
        return result

    started = time.perf_counter()
    if reset:
        run("reset", ["run-operation", "reset_history"], {})
        echo("history dropped (snapshot and models/history)")
    step_vars = {"as_of_date": dates[0].isoformat(), "clustering_mode": clustering}
    latest = _latest_history_date(run, step_vars)
    if latest is not None and latest > dates[0]:
        # Checked before anything is built (in particular before a cluster model is trained).
        raise DbtStepError(f"the history already holds the as-of date {latest}, after the first replayed date "
                           f"{dates[0]}; history is built in date order. Replay from a later date, or rebuild "
                           "it from the start with --reset (make replay ... RESET=1).")
    run("seeds", ["seed", "--select", "+customer_segments,resource_type:seed"], {})
    if clustering == "score":
        last = dates[-1].isoformat()
        run(f"training the cluster model at {last}", ["run", "--select", "+cluster_models"],
            {"as_of_date": last, "clustering_mode": "train"})
        echo(f"cluster model trained (or reused) at {last}; every step is scored with it")

    step_seconds: dict[str, float] = {}
    for as_of_date in dates:
        step_started = time.perf_counter()
        run(f"step {as_of_date}",
            ["build", "--select", *STEP_SELECTION, "--exclude-resource-type", "seed", "test", "unit_test"],
            {"as_of_date": as_of_date.isoformat(), "clustering_mode": clustering})
        step_seconds[as_of_date.isoformat()] = seconds = time.perf_counter() - step_started
        echo(f"{as_of_date}  built  ({seconds:.1f} s)")

    _check_history_dates(run, dates, {"as_of_date": dates[-1].isoformat(), "clustering_mode": clustering})

    test_results: list[tuple[str, str, int]] = []
    if run_tests:
        # The steps are partial builds: they write the build schema only (write-audit-publish).
        # One full build at the last date then tests everything and, when every model and
        # error-severity test passes, publishes the replayed history to what BI reads. A
        # failing test is reported, not raised: the history stays in the build schema.
        result = invoke(["build", "--exclude-resource-type", "unit_test", "--vars",
                         _vars_text({**base_vars, "as_of_date": dates[-1].isoformat(),
                                     "clustering_mode": clustering})])
        history_ids = {f".{name}" for name in HISTORY_SELECTION}
        for node in getattr(result.result, "results", None) or []:
            if node.node.resource_type != "test":
                continue  # models, seeds and the project hooks
            parents = getattr(getattr(node.node, "depends_on", None), "nodes", None) or []
            if not any(parent.endswith(suffix) for parent in parents for suffix in history_ids):
                continue  # the history tests are the ones reported
            test_results.append((node.node.name, str(node.status), int(getattr(node, "failures", 0) or 0)))
        flagged = [row for row in test_results if row[1].lower() not in ("pass", "success")]
        echo(f"history tests at {dates[-1]}: {len(test_results) - len(flagged)} passed, "
             f"{len(flagged)} flagged")
        for name, status, failures in flagged:
            echo(f"  {status.upper():5} {name} ({failures} rows)")
        if result.exception is not None:
            echo(f"  tests could not run: {result.exception}")
        echo("published the replayed history" if result.success else
             "NOT published: the final build failed; the replayed history stays in the build schema")
    total = time.perf_counter() - started
    echo(f"replayed {len(dates)} as-of dates ({dates[0]} .. {dates[-1]}) in {total:.0f} s")
    return {"dates": dates, "seconds": total, "step_seconds": step_seconds, "test_results": test_results}


def _latest_history_date(run: Callable[..., Any], step_vars: dict[str, Any]) -> dt.date | None:
    """The latest as-of date in segment_size_history, or None when there is no history yet."""
    query = ("{%- set relation = load_relation(ref('segment_size_history')) -%}"
             "{%- if relation is not none -%}"
             "select cast(max(as_of_date) as {{ dbt.type_string() }}) as latest from {{ relation }}"
             "{%- else -%}"
             "select cast(null as {{ dbt.type_string() }}) as latest"
             "{%- endif -%}")
    result = run("reading the history", ["show", "--inline", query, "--output", "json", "--log-level", "none"],
                 step_vars)
    latest = result.result.results[0].agate_table.rows[0][0]
    return None if latest is None else dt.date.fromisoformat(str(latest)[:10])


def _check_history_dates(run: Callable[..., Any], dates: Sequence[dt.date], step_vars: dict[str, Any]) -> None:
    """Every replayed date is in segment_size_history (each step's as_of_date took effect)."""
    wanted = ", ".join(f"'{as_of_date.isoformat()}'" for as_of_date in dates)
    query = ("select count(distinct as_of_date) as found from {{ ref('segment_size_history') }} "
             f"where cast(as_of_date as {{{{ dbt.type_string() }}}}) in ({wanted})")
    result = run("checking the history",
                 ["show", "--inline", query, "--output", "json", "--log-level", "none"], step_vars)
    found = int(result.result.results[0].agate_table.rows[0][0])
    if found != len(dates):
        raise DbtStepError(f"segment_size_history holds {found} of the {len(dates)} replayed as-of dates: "
                           "a step did not build at its own date")


def _vars_text(values: dict[str, Any]) -> str:
    return yaml.safe_dump(values, default_flow_style=True, width=10**6).strip()


def _in_process_runner(project_dir: Path, target_path: Path) -> Callable[[list[str]], Any]:
    """Run dbt in this process, parsing the project once per set of vars other than as_of_date.

    A change of vars makes dbt parse the whole project again (about 3 s on the demo, more
    than the step itself). The vars of the steps differ only in ``as_of_date``, which the
    models read when they are compiled at run time, not at parse time; so the manifest parsed
    for the first step is handed to the next ones. ``replay`` checks at the end that every
    step's as-of date reached the history.
    """
    from dbt.cli.main import dbtRunner

    profiles_dir = os.environ.get("DBT_PROFILES_DIR", str(project_dir))
    common = ["--project-dir", str(project_dir), "--profiles-dir", profiles_dir,
              "--target-path", str(target_path), "--quiet"]
    manifests: dict[str, Any] = {}

    def invoke(args: list[str]):
        vars_text = args[args.index("--vars") + 1] if "--vars" in args else "{}"
        parse_key = _vars_text({key: value for key, value in (yaml.safe_load(vars_text) or {}).items()
                                if key != "as_of_date"})
        if parse_key not in manifests:
            parsed = dbtRunner().invoke(["parse", "--vars", vars_text] + common)
            if not parsed.success:
                return parsed
            manifests[parse_key] = parsed.result
        return dbtRunner(manifest=manifests[parse_key]).invoke(args + common)

    return invoke


def _failure_summary(result) -> str:
    lines = []
    if result.exception is not None:
        lines.append(str(result.exception))
    for node in getattr(result.result, "results", None) or []:
        if str(node.status).lower() not in ("success", "pass", "warn"):
            lines.append(f"{node.node.unique_id}: {node.status}: {node.message}")
    return "\n".join(lines) or "dbt reported a failure (see logs/dbt.log)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Rebuild segments, snapshot and history at the first of every month, oldest first.")
    parser.add_argument("--from", dest="first", required=True, help="first as-of date, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, help="last as-of date, YYYY-MM-DD")
    parser.add_argument("--clustering", choices=CLUSTERING_CHOICES, default="score",
                        help="score: one model trained at the last date (default); train: retrain per step")
    parser.add_argument("--vars-file", type=Path, help="YAML file of vars (your input configuration)")
    parser.add_argument("--reset", action="store_true", help="drop the snapshot and history tables first")
    parser.add_argument("--no-tests", action="store_true", help="skip the history tests after the last step")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    parser.add_argument("--target-path", type=Path,
                        help="dbt target path (default $DBT_TARGET_PATH, else <project>/target)")
    options = parser.parse_args(argv)
    try:
        dates = month_starts(options.first, options.last)
        base_vars = yaml.safe_load(options.vars_file.read_text()) if options.vars_file else {}
        if not isinstance(base_vars, dict):
            raise ValueError(f"--vars-file must hold a mapping of vars, got {type(base_vars).__name__}")
        replay(dates, clustering=options.clustering, base_vars=base_vars, reset=options.reset,
               project_dir=options.project_dir, target_path=options.target_path,
               run_tests=not options.no_tests)
    except (ValueError, OSError, DbtStepError) as error:
        print(f"replay: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
