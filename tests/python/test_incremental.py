"""Issue 13: incremental daily builds of the order-line state (int_order_lines_grouped).

One small hand-made orders file is built several times in sequence (each build reads the
file as it is then): a first full build; late lines inside the lookback window, a refund
line for an old order, a new day and a new customer folded in incrementally (and the same
result as a full build of the final file); an upstream change older than the window
stopping the build with a message naming `--full-refresh`; the build after that failure
rebuilding the state from every line (write-audit-publish drops it); an as-of date in the
past on the incremental path. Partial builds (`+data_quality_report`): never published,
read from the build schema. The full-vs-incremental identity of every published mart on
the demo data is the second half of this module.
"""
from __future__ import annotations

import csv
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dbt_harness import BUILD_SCHEMA, PROJECT_DIR, DbtProject
from test_write_audit_publish import table_checksums

COLUMNS = ["order_id", "customer_id", "ordered_at", "amount"]
SELECT = ("build", "--exclude-resource-type", "unit_test", "--select", "+data_quality_report",
          "+int_customers_clv_inputs")

BASE = [
    ("O1", "C1", "2025-01-02 10:00:00", "100"),
    ("O2", "C1", "2025-01-10 10:00:00", "50"),
    ("O2", "C1", "2025-01-10 10:00:00", "50"),      # exact duplicate
    ("O3", "C2", "2025-01-05 10:00:00", "40"),
    ("O3", "C2", "2025-01-05 11:00:00", "40"),
    ("O4", "C3", "2025-01-18 10:00:00", "30"),
    ("O5", "C4", "2025-01-20 10:00:00", "20"),
    ("O9", "", "2025-01-15 10:00:00", "7"),          # no customer id
]
APPENDED = [
    ("O6", "C1", "2025-01-21 09:00:00", "60"),      # the new day
    ("O1", "C1", "2025-01-21 12:00:00", "-100"),    # refund line for the old order O1
    ("O7", "C2", "2025-01-18 10:00:00", "25"),      # late line inside the lookback window
    ("O4", "C3", "2025-01-19 10:00:00", "5"),       # late second line of C3's order O4
    ("O8", "C5", "2025-01-21 10:00:00", "10"),      # a new customer
]


def write_orders(path: Path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def features(project: DbtProject) -> dict:
    frame = project.query("select customer_id, frequency, monetary, gross_revenue, refunded_amount, recency_days, "
                          "cast(as_of_date as varchar) as as_of from customer_features order by 1", schema=BUILD_SCHEMA)
    def money(value) -> Decimal:
        return Decimal(str(value)).normalize()

    return {row.customer_id: (int(row.frequency), money(row.monetary), money(row.gross_revenue),
                              money(row.refunded_amount),
                              None if pd.isna(row.recency_days) else int(row.recency_days), row.as_of)
            for row in frame.itertuples()}


def line_report(project: DbtProject) -> dict:
    frame = project.query("select check_name, rows_affected from data_quality_report "
                          "where checked_input = 'order_lines' and rows_affected > 0", schema=BUILD_SCHEMA)
    return dict(zip(frame["check_name"], frame["rows_affected"].astype(int), strict=True))


def outcome(project: DbtProject) -> tuple:
    """What a build computed from the lines, for comparing two builds exactly."""
    tables = [project.query(f"select * from {name} order by all", schema=BUILD_SCHEMA).to_csv(index=False)
              for name in ("customer_features", "data_quality_report", "int_orders_aggregated",
                           "int_order_lines_excluded", "int_customers_clv_inputs", "int_customers_orders_summarized",
                           "int_customers_purchase_days", "int_order_customers", "int_customers_unioned")]
    return tuple(tables)


def log_of(project: DbtProject) -> str:
    return (project.target_path / "logs" / "dbt.log").read_text()


def fresh_full_build(folder: Path, name: str, orders: Path, extra: dict | None = None) -> DbtProject:
    project = DbtProject(PROJECT_DIR, database=folder / f"{name}.duckdb", target_path=folder / f"target-{name}")
    # The reference build skips the data tests (the sequence runs them): it is only compared.
    result = project.dbt(*SELECT[:3], "test", *SELECT[3:],
                         vars={"orders_input": {"file": str(orders)}, "customers_input": {"enabled": False},
                               **(extra or {})})
    assert result.success, project.failure_summary(result)
    return project


@pytest.fixture(scope="module")
def sequence(tmp_path_factory):
    """The builds in order; each step's project, result and log, read by the tests below."""
    folder = tmp_path_factory.mktemp("incremental")
    orders = folder / "orders.csv"
    vars_ = {"orders_input": {"file": str(orders)}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=folder / "state.duckdb", target_path=folder / "target")
    steps = {}

    def build(step: str, rows, *extra_args: str, extra_vars: dict | None = None):
        write_orders(orders, rows)
        shutil.rmtree(project.target_path / "logs", ignore_errors=True)
        result = project.dbt(*SELECT, *extra_args, vars={**vars_, **(extra_vars or {})})
        steps[step] = {"result": result, "log": log_of(project),
                       "outcome": outcome(project) if result.success else None,
                       "features": features(project) if result.success else None,
                       "lines": line_report(project) if result.success else None}
        return result

    assert build("first", BASE).success
    assert build("appended", BASE + APPENDED).success
    steps["appended_full"] = outcome(fresh_full_build(folder, "appended_full", orders))
    # Upstream, a line of 2025-01-05 is deleted and the amount of a 2025-01-02 line changed:
    # both older than the window (watermark 2025-01-21 - 3 days).
    changed = [row for row in BASE + APPENDED if row != ("O3", "C2", "2025-01-05 11:00:00", "40")]
    changed = [("O1", "C1", "2025-01-02 10:00:00", "90") if row[:3] == ("O1", "C1", "2025-01-02 10:00:00") else row
               for row in changed]
    assert not build("changed_upstream", changed).success
    assert build("after_failure", changed).success
    past = {"as_of_date": "2025-01-10"}
    assert build("past_as_of", changed, extra_vars=past).success
    steps["past_as_of_full"] = outcome(fresh_full_build(folder, "past_full", orders, past))
    return project, steps


def test_first_build_reads_every_line(sequence):
    _, steps = sequence
    first = steps["first"]
    assert first["features"] == {
        "C1": (2, Decimal(150), Decimal(150), Decimal(0), 10, "2025-01-20"),
        "C2": (1, Decimal(80), Decimal(80), Decimal(0), 15, "2025-01-20"),
        "C3": (1, Decimal(30), Decimal(30), Decimal(0), 2, "2025-01-20"),
        "C4": (1, Decimal(20), Decimal(20), Decimal(0), 0, "2025-01-20"),
    }
    assert first["lines"] == {"missing_customer_id": 1, "exact_duplicate_row": 1}


def test_late_lines_refund_of_an_old_order_and_a_new_day_are_folded_in(sequence):
    _, steps = sequence
    appended = steps["appended"]
    assert "int_order_lines_grouped: lines from 2025-01-17 read again (watermark 2025-01-20, lookback 3 days)" \
        in appended["log"]
    assert appended["features"] == {
        # O1's refund line (dated the new day) nets the old order to zero: no longer a purchase
        "C1": (2, Decimal(110), Decimal(110), Decimal(0), 0, "2025-01-21"),
        # the late line of 2025-01-18 (inside the window) is a second purchase
        "C2": (2, Decimal(105), Decimal(105), Decimal(0), 3, "2025-01-21"),
        # the late second line of O4 (another day) is summed into the order of 2025-01-18
        "C3": (1, Decimal(35), Decimal(35), Decimal(0), 3, "2025-01-21"),
        "C4": (1, Decimal(20), Decimal(20), Decimal(0), 1, "2025-01-21"),
        "C5": (1, Decimal(10), Decimal(10), Decimal(0), 0, "2025-01-21"),
    }
    assert appended["lines"] == {"missing_customer_id": 1, "exact_duplicate_row": 1}


def test_incremental_build_equals_a_full_build_of_the_same_file(sequence):
    _, steps = sequence
    assert steps["appended"]["outcome"] == steps["appended_full"]


def test_upstream_change_older_than_the_window_stops_the_build_naming_full_refresh(sequence):
    project, steps = sequence
    message = DbtProject.messages(steps["changed_upstream"]["result"])
    assert "The orders input changed on 2 day(s) before the incremental window (lines from 2025-01-18 on" in message
    assert "2025-01-02 (1 lines folded in, 1 in the input now)" in message        # the changed amount
    assert "2025-01-05 (2 lines folded in, 1 in the input now)" in message        # the deleted line
    assert "run `dbt build --full-refresh`" in message


def test_the_build_after_a_failed_one_rebuilds_the_state_from_every_line(sequence):
    _, steps = sequence
    after = steps["after_failure"]
    assert "int_order_lines_grouped (dropped: rebuilt from every line)" in after["log"]
    assert "read again" not in after["log"]          # not incremental: the table was dropped
    assert after["features"]["C1"] == (2, Decimal(100), Decimal(110), Decimal(10), 0, "2025-01-21")  # O1: 90 - 100
    assert after["features"]["C2"] == (2, Decimal(65), Decimal(65), Decimal(0), 3, "2025-01-21")


def test_an_as_of_date_in_the_past_stays_incremental_and_correct(sequence):
    _, steps = sequence
    past = steps["past_as_of"]
    assert "int_order_lines_grouped: lines from 2025-01-18 read again" in past["log"]
    assert past["features"] == {
        "C1": (2, Decimal(140), Decimal(140), Decimal(0), 0, "2025-01-10"),
        "C2": (1, Decimal(40), Decimal(40), Decimal(0), 5, "2025-01-10"),
    }
    # every line after 2025-01-10 (the refund line of O1 too) is listed, the id check first
    assert past["lines"] == {"after_as_of_date": 7, "missing_customer_id": 1, "exact_duplicate_row": 1}
    assert past["outcome"] == steps["past_as_of_full"]


def test_only_the_touched_orders_and_customers_are_derived_again(sequence):
    project, steps = sequence
    # The project's state is the last step's (past as-of date 2025-01-10, window from
    # 2025-01-18 on): the keys of the stored rows read again, of the rows read in and of the
    # rows dated between the stored as-of date (2025-01-21) and 2025-01-10.
    touched = project.query("select customer_id, order_id from int_order_keys_touched order by all",
                            schema=BUILD_SCHEMA)
    # O2 (2025-01-10) counts at both as-of dates, so it is kept; O9 has no customer id.
    assert [tuple(None if pd.isna(v) else v for v in row) for row in touched.to_numpy()] == [
        ("C1", "O1"), ("C1", "O6"), ("C2", "O7"), ("C3", "O4"), ("C4", "O5"), ("C5", "O8"), (None, "O9")]
    assert "int_orders_aggregated: the orders of int_order_keys_touched derived again" in steps["past_as_of"]["log"]
    assert "int_customers_purchase_days: the customers of int_order_keys_touched derived again" \
        in steps["past_as_of"]["log"]
    window = project.query("select * from int_order_lines_window", schema=BUILD_SCHEMA).iloc[0]
    assert (bool(window.is_full_read), str(window.reread_from_date)[:10], str(window.previous_as_of_date)[:10]) \
        == (False, "2025-01-18", "2025-01-21")


def test_an_order_deleted_upstream_inside_the_window_is_gone(tmp_path):
    """O4 (C3's only order, 2025-01-18) is inside the window of the second build (lines from
    2025-01-17 on) and deleted upstream: no guard fires, and C3 has no order left (its key
    was kept by int_order_keys_reread before the rows were deleted)."""
    orders = tmp_path / "orders.csv"
    vars_ = {"orders_input": {"file": str(orders)}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    write_orders(orders, BASE)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    write_orders(orders, [row for row in BASE if row[0] != "O4"])
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    assert "lines from 2025-01-17 read again" in log_of(project)
    assert project.scalar("select count(*) from int_orders_aggregated where order_id = 'O4'", schema=BUILD_SCHEMA) == 0
    # without a customers input, customers come from the orders: C3 is no longer one
    assert set(features(project)) == {"C1", "C2", "C4"}
    assert project.scalar("select count(*) from int_customers_orders_summarized where customer_id = 'C3'",
                          schema=BUILD_SCHEMA) == 0
    assert outcome(project) == outcome(fresh_full_build(tmp_path, "full", orders))


def test_a_partial_build_of_the_line_state_drops_the_state_derived_from_it(tmp_path):
    """`--select int_order_lines_grouped` folds in a new day without the order and customer
    rows: they are dropped, so the next build derives them from every stored row."""
    orders = tmp_path / "orders.csv"
    vars_ = {"orders_input": {"file": str(orders)}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    write_orders(orders, BASE)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    write_orders(orders, BASE + APPENDED)
    shutil.rmtree(project.target_path / "logs", ignore_errors=True)
    project.dbt("build", "--exclude-resource-type", "unit_test", "--select", "+int_order_lines_grouped",
                vars=vars_, expect_success=True)
    log = log_of(project)
    for name in ("int_orders_aggregated", "int_customers_orders_summarized", "int_customers_purchase_days",
                 "int_order_customers"):
        assert f"incremental state: {name} dropped (not selected" in log
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    assert outcome(project) == outcome(fresh_full_build(tmp_path, "full", orders))
    assert features(project)["C1"] == (2, Decimal(110), Decimal(110), Decimal(0), 0, "2025-01-21")


def file_days(project: DbtProject) -> dict:
    """int_order_input_file_days per file name: (lines, amount) summed over its days."""
    frame = project.query("select file_name, sum(line_count) as lines, sum(amount) as amount "
                          "from int_order_input_file_days group by 1", schema=BUILD_SCHEMA)
    return {Path(row.file_name).name: (int(row.lines), Decimal(str(row.amount)).normalize())
            for row in frame.itertuples()}


def test_the_guard_reads_only_new_and_changed_files_and_still_stops_an_old_change(tmp_path):
    """The orders input as a glob of three files. The first incremental build reads every
    file once for the guard; a rerun reads none of them (each unchanged and last modified
    over an hour before it was read); a file touched a minute ago is read again; a changed
    amount in an old file is read and stops the build naming --full-refresh, as before."""
    folder = tmp_path / "orders"
    folder.mkdir()
    vars_ = {"orders_input": {"file": str(folder / "orders-*.csv")}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    two_hours_ago = time.time() - 7200

    def write(name: str, rows, modified: float = two_hours_ago) -> None:
        write_orders(folder / name, rows)
        os.utime(folder / name, (modified, modified))

    def build(*args: str):
        shutil.rmtree(project.target_path / "logs", ignore_errors=True)
        return project.dbt(*SELECT, *args, vars=vars_)

    write("orders-1.csv", BASE[:5])          # 2025-01-02 .. 2025-01-10
    write("orders-2.csv", BASE[5:])          # 2025-01-15 .. 2025-01-20
    assert build().success
    assert file_days(project) == {}          # a full build guards nothing
    write("orders-3.csv", APPENDED)
    assert build().success
    assert "int_order_input_file_days: 3 of 3 orders input file(s) read, 0 unchanged since read" in log_of(project)
    assert file_days(project) == {"orders-1.csv": (5, Decimal(280)), "orders-2.csv": (3, Decimal(57)),
                                  "orders-3.csv": (5, Decimal(0))}
    assert outcome(project) == outcome(fresh_full_build(tmp_path, "full", folder / "orders-*.csv"))

    assert build().success
    assert "int_order_input_file_days: 0 of 3 orders input file(s) read, 3 unchanged since read" in log_of(project)
    assert file_days(project)["orders-1.csv"] == (5, Decimal(280))

    os.utime(folder / "orders-3.csv", None)   # modified now: read again, and by the next build too
    assert build().success
    assert "int_order_input_file_days: 1 of 3 orders input file(s) read, 2 unchanged since read" in log_of(project)
    assert build().success
    assert "int_order_input_file_days: 1 of 3 orders input file(s) read, 2 unchanged since read" in log_of(project)

    # O1's amount changed upstream in the old file (before the window, lines from 2025-01-18 on)
    write("orders-1.csv", [("O1", "C1", "2025-01-02 10:00:00", "90")] + BASE[1:5], two_hours_ago + 60)
    failed = build()
    assert not failed.success
    # orders-1 changed; orders-3 was read a minute after it was touched: read again too
    assert "int_order_input_file_days: 2 of 3 orders input file(s) read, 1 unchanged since read" in log_of(project)
    message = DbtProject.messages(failed)
    assert "The orders input changed on 1 day(s) before the incremental window (lines from 2025-01-18 on" in message
    assert "2025-01-02 (1 lines folded in, 1 in the input now)" in message


def test_a_file_arriving_after_the_files_were_listed_makes_the_guard_read_every_line(tmp_path):
    """The figures per file are listed first; a file that arrives before the guard runs is
    not in them. The guard then reads every line, and a line of the new file older than the
    window still stops the build."""
    folder = tmp_path / "orders"
    folder.mkdir()
    vars_ = {"orders_input": {"file": str(folder / "orders-*.csv")}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    write_orders(folder / "orders-1.csv", BASE)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    # this build lists one file (and reads it for the guard's figures) ...
    project.dbt("build", "--select", "int_order_input_file_days", vars=vars_, expect_success=True)
    assert set(file_days(project)) == {"orders-1.csv"}
    # ... then a file arrives with a line of 2025-01-03, before the window (from 2025-01-17 on)
    write_orders(folder / "orders-2.csv", [("O20", "C9", "2025-01-03 10:00:00", "5")])
    shutil.rmtree(project.target_path / "logs", ignore_errors=True)
    failed = project.dbt(*SELECT, "--exclude", "int_order_input_file_days", vars=vars_)
    assert not failed.success
    assert "the orders input files changed while the build listed them; the guard reads every line" in log_of(project)
    assert "2025-01-03 (0 lines folded in, 1 in the input now)" in DbtProject.messages(failed)


def test_file_names_with_quotes_and_braces_are_listed_and_read_as_data(tmp_path):
    """The folder of the glob carries a quote, double quotes, Jinja braces and a semicolon:
    the listing, the file-name filter and the reader's file-name option keep them as data."""
    folder = tmp_path / """it's "orders" {{ x }}; drop"""
    folder.mkdir()
    vars_ = {"orders_input": {"file": str(folder / "orders-*.csv")}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    write_orders(folder / "orders-1.csv", BASE)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    write_orders(folder / "orders-2.csv", APPENDED)
    shutil.rmtree(project.target_path / "logs", ignore_errors=True)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    assert "int_order_input_file_days: 2 of 2 orders input file(s) read" in log_of(project)
    assert file_days(project) == {"orders-1.csv": (8, Decimal(337)), "orders-2.csv": (5, Decimal(0))}
    names = project.query("select distinct source_file_name from stg_orders", schema=BUILD_SCHEMA)
    assert sorted(names["source_file_name"]) == [str(folder / "orders-1.csv"), str(folder / "orders-2.csv")]
    assert outcome(project) == outcome(fresh_full_build(tmp_path, "full", folder / "orders-*.csv"))


def test_a_deleted_old_file_stops_the_build_naming_full_refresh(tmp_path):
    folder = tmp_path / "orders"
    folder.mkdir()
    vars_ = {"orders_input": {"file": str(folder / "orders-*.csv")}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    old = time.time() - 7200
    for name, rows in (("orders-1.csv", BASE[:5]), ("orders-2.csv", BASE[5:]), ("orders-3.csv", APPENDED)):
        write_orders(folder / name, rows)
        os.utime(folder / name, (old, old))
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    project.dbt(*SELECT, vars=vars_, expect_success=True)     # the guard's figures of the three files
    (folder / "orders-1.csv").unlink()
    failed = project.dbt(*SELECT, vars=vars_)
    assert not failed.success
    message = DbtProject.messages(failed)
    assert "2025-01-02 (1 lines folded in, 0 in the input now)" in message
    assert "2025-01-10 (2 lines folded in, 0 in the input now)" in message
    assert "run `dbt build --full-refresh`" in message


def compiled_sql(result, name: str) -> str:
    return next(node.node.compiled_code for node in result.result.results if node.node.name == name)


def write_typed_orders(path: Path, rows) -> None:
    """The rows as Parquet with typed columns (ordered_at TIMESTAMP, amount DECIMAL), the
    layout whose slice is read with the time filter pushed into the reader; '' is null."""
    frame = pd.DataFrame(rows, columns=COLUMNS).replace({"": None})
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"copy (select order_id, customer_id, cast(ordered_at as timestamp) as ordered_at, "
                    f"cast(amount as decimal(12, 2)) as amount from frame) to '{path}' (format parquet)")


def test_a_typed_input_reads_its_slice_through_the_time_filter_and_equals_a_full_build(tmp_path):
    """A Parquet input whose ordered_at is a TIMESTAMP: the incremental read is the two
    selects the reader can prune (order_lines_slice_select), and takes exactly the lines of
    the slice - the undated line and the line before min_order_date again, a line at
    midnight of the cutoff day, not the line one second before it (kept as stored)."""
    orders = tmp_path / "orders.parquet"
    vars_ = {"orders_input": {"file": str(orders)}, "customers_input": {"enabled": False},
             "min_order_date": "2020-01-01"}
    base = BASE + [
        ("O10", "C6", "2025-01-16 23:59:59", "11"),     # the second before the cutoff day 2025-01-17
        ("O11", "C6", "2025-01-17 00:00:00", "13"),     # midnight of the cutoff day: read again
        ("O12", "C7", "", "17"),                        # undated: read again by every build
        ("O13", "C7", "2019-12-31 10:00:00", "19"),     # before min_order_date: read again
    ]
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    write_typed_orders(orders, base)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    write_typed_orders(orders, base + APPENDED)
    result = project.dbt(*SELECT, vars=vars_, expect_success=True)
    assert "int_order_lines_grouped: lines from 2025-01-17 read again" in log_of(project)
    read = compiled_sql(result, "int_order_lines_grouped")
    assert "union all" in read and "where ordered_at is null" in read
    # the rows read in are those of the slice: the stored row of O10 (2025-01-16) was kept
    assert project.scalar("select count(*) from int_order_lines_grouped where order_id = 'O10'",
                          schema=BUILD_SCHEMA) == 1
    assert line_report(project) == {"missing_customer_id": 1, "exact_duplicate_row": 1, "unparseable_ordered_at": 1,
                                    "before_min_order_date": 1}
    full = fresh_full_build(tmp_path, "full", orders, {"min_order_date": "2020-01-01"})
    assert outcome(project) == outcome(full)
    assert features(project)["C6"][:2] == (2, Decimal(24))


def failed_tests(result) -> set[str]:
    return {node.node.name for node in result.result.results if str(node.status).lower() == "fail"}


def test_after_an_incremental_build_the_state_tests_read_the_rows_derived_again(tmp_path):
    """After the incremental build of BASE + APPENDED (lines from 2025-01-17 read again;
    touched orders O1, O4, O5, O6, O7, O8), the generic tests of the order and line state
    read only the rows that build derived again (meta incremental_test_scope): a duplicate
    planted for the untouched order O3, or a bad row dated before the window, passes them;
    the same faults on the touched order O4 or a row dated inside the window fail them.
    After a full build (--full-refresh) every row is tested again."""
    orders = tmp_path / "orders.csv"
    vars_ = {"orders_input": {"file": str(orders)}, "customers_input": {"enabled": False}}
    project = DbtProject(PROJECT_DIR, database=tmp_path / "state.duckdb", target_path=tmp_path / "target")
    write_orders(orders, BASE)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    write_orders(orders, BASE + APPENDED)
    project.dbt(*SELECT, vars=vars_, expect_success=True)
    test_args = ("test", "--select", "int_orders_aggregated", "int_order_lines_grouped")
    unique = "unique_combination_of_columns_int_orders_aggregated_customer_id__order_id"
    line_range = "accepted_range_int_order_lines_grouped_line_count__1"

    def plant(sql: str) -> None:
        with duckdb.connect(str(project.database)) as con:
            con.execute(f"set search_path = '{BUILD_SCHEMA}'")
            con.execute(sql)

    def copy_row(table: str, where: str, changes: str = "") -> str:
        return f"insert into {table} select * {changes} from {table} where {where} limit 1"

    plant(copy_row("int_orders_aggregated", "order_id = 'O3'"))
    plant(copy_row("int_order_lines_grouped", "order_id = 'O1' and order_date = '2025-01-02'",
                   "replace (0 as line_count)"))
    untouched = project.dbt(*test_args, vars=vars_)
    assert untouched.success, project.failure_summary(untouched)
    compiled = compiled_sql(untouched, unique)
    assert "dbt_incremental_scope" in compiled and "int_order_keys_touched" in compiled

    plant(copy_row("int_orders_aggregated", "order_id = 'O4'"))
    plant(copy_row("int_order_lines_grouped", "order_id = 'O6'", "replace (0 as line_count)"))
    touched = project.dbt(*test_args, vars=vars_)
    assert not touched.success
    assert {unique, line_range} <= failed_tests(touched)
    # the duplicate of O3 is not among the failures: 2 rows = O4 and its copy only
    failures = {node.node.name: node.failures for node in touched.result.results}
    assert failures[unique] == 1 and failures[line_range] == 1

    # a full refresh rebuilds the state (the planted rows are gone) and tests every row
    project.dbt(*SELECT, "--full-refresh", vars=vars_, expect_success=True)
    plant(copy_row("int_orders_aggregated", "order_id = 'O3'"))
    full = project.dbt(*test_args, vars=vars_)
    assert failed_tests(full) == {unique}
    assert "dbt_incremental_scope" not in compiled_sql(full, unique)


# --- Full and incremental builds give identical public marts (demo data) -------------------

FULL_BUILD = ("build", "--exclude-resource-type", "unit_test")
LATE_CUSTOMER_DAYS = ("2026-09-28 15:00:00", "2026-09-29 15:00:00")


def demo_orders() -> pd.DataFrame:
    return pd.read_csv(PROJECT_DIR / "seeds/demo/demo_orders.csv", dtype=str, keep_default_na=False)


def appended_orders(orders: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The demo orders plus late lines (dated inside the window before the first build's
    watermark 2026-09-30) and refund lines for old orders (dated in October), and the
    customer of the first late line: one with no order dated after 2026-09-27, so its last
    order date must become that late line's date."""
    dated = orders[orders["ordered_at"] > "2026-09-27"]
    earlier = orders[(orders["ordered_at"] < "2026-09-01") & (orders["status"] == "completed")]
    # plain ids only (the demo plants ' C0000007 ' and '12.0'-style forms of some ids)
    quiet = sorted(c for c in set(earlier["customer_id"]) - set(dated["customer_id"].str.strip())
                   if c.startswith("C") and c.strip() == c)
    late = pd.DataFrame({
        "order_id": [f"LATE{n:03d}" for n in range(20)], "customer_id": quiet[:20],
        "ordered_at": [LATE_CUSTOMER_DAYS[n % 2] for n in range(20)], "amount": "35.50", "quantity": "1",
        "status": "completed"})
    # refunds for other customers than the late lines', so each case has its own outcome
    old = orders[(orders["ordered_at"] < "2026-03-01") & (orders["status"] == "completed")
                 & (orders["customer_id"] != "") & ~orders["customer_id"].isin(quiet[:20])
                 ].drop_duplicates("order_id").head(15)
    refunds = old.assign(ordered_at="2026-10-15 12:00:00", amount="-" + old["amount"], quantity="1",
                         status="refunded")
    return pd.concat([orders, late, refunds], ignore_index=True), quiet[0]


@pytest.fixture(scope="module")
def full_and_incremental(tmp_path_factory):
    """A first build on the demo orders before 2026-10-01; then, on the final orders (the
    rest of the demo plus late and refund lines), an incremental build and, from a copy of
    the first build's database, a `--full-refresh` build."""
    folder = tmp_path_factory.mktemp("full_and_incremental")
    orders = demo_orders()
    final, late_customer = appended_orders(orders)
    orders_csv = folder / "orders.csv"
    customers_csv = folder / "customers.csv"
    shutil.copy(PROJECT_DIR / "seeds/demo/demo_customers.csv", customers_csv)
    vars_ = {"orders_input": {"file": str(orders_csv)}, "customers_input": {"file": str(customers_csv)}}
    incremental = DbtProject(PROJECT_DIR, database=folder / "incremental.duckdb", target_path=folder / "t-inc")
    orders[orders["ordered_at"] < "2026-10-01"].to_csv(orders_csv, index=False)
    incremental.dbt(*FULL_BUILD, vars=vars_, expect_success=True)
    before = incremental.query("select frequency, monetary from customer_features "
                               f"where customer_id = '{late_customer}'")
    full = DbtProject(PROJECT_DIR, database=folder / "full.duckdb", target_path=folder / "t-full")
    shutil.copy(incremental.database, full.database)
    final.to_csv(orders_csv, index=False)
    shutil.rmtree(incremental.target_path / "logs", ignore_errors=True)
    incremental.dbt(*FULL_BUILD, vars=vars_, expect_success=True)
    full.dbt(*FULL_BUILD, "--full-refresh", vars=vars_, expect_success=True)
    return incremental, full, late_customer, before


def test_full_refresh_and_incremental_builds_publish_identical_marts(full_and_incremental):
    incremental, full, _, _ = full_and_incremental
    assert "int_order_lines_grouped: lines from 2026-09-27 read again" in log_of(incremental)
    incremental_sums = table_checksums(incremental.database, without_run_columns=True)
    assert len(incremental_sums) == 23
    assert incremental_sums == table_checksums(full.database, without_run_columns=True)
    # the appended refunds were folded in: 15 refund lines of old orders
    refunds = incremental.scalar("select count(*) from int_orders_aggregated where order_id in "
                                 "(select order_id from int_order_lines_grouped where order_date = '2026-10-15' "
                                 "and amount < 0)", schema=BUILD_SCHEMA)
    assert refunds == 15


def test_a_line_arriving_after_its_customers_snapshot(full_and_incremental):
    incremental, _, customer, before = full_and_incremental
    after = incremental.query(f"select frequency, monetary, cast(last_order_date as varchar) as last "
                              f"from customer_features where customer_id = '{customer}'")
    assert int(after["frequency"][0]) == int(before["frequency"][0]) + 1
    assert Decimal(str(after["monetary"][0])) == Decimal(str(before["monetary"][0])) + Decimal("35.50")
    assert after["last"][0] == LATE_CUSTOMER_DAYS[0][:10]
    # The snapshot keeps what was known at 2026-09-30 (history is not rewritten); the late
    # line shows from the next as-of date on.
    snapshot = incremental.query(f"select cast(dbt_valid_from as date) as valid_from from customer_segments_snapshot "
                                 f"where customer_id = '{customer}' order by 1")
    assert str(snapshot["valid_from"][0])[:10] == "2026-09-30"
