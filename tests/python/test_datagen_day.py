"""Tests for the appended day of orders (segmentation.datagen_day), the input of the
incremental benchmark: same bytes for the same arguments, the documented parts in their
exact numbers, and ids that agree with the base data."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from segmentation import datagen as dg
from segmentation import datagen_day as dd

BASE = {"customers": 2000, "orders": 40000}  # 0.3% of 40k = 120 day rows


def _md5(path: str | Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    return dg.generate(BASE["customers"], BASE["orders"], seed=42, out_dir=out, fmt="parquet", dirty=True)


@pytest.fixture(scope="module")
def day(base, tmp_path_factory):
    return dd.generate_day(base["orders_path"], base["customers_path"], tmp_path_factory.mktemp("day"), seed=42)


@pytest.fixture()
def con(base, day):
    with duckdb.connect() as connection:
        connection.execute(f"create view base_orders as select * from read_parquet('{base['orders_path']}')")
        connection.execute(f"create view base_customers as select * from read_parquet('{base['customers_path']}')")
        connection.execute(f"create view day_orders as select * from read_parquet('{day['orders_path']}')")
        connection.execute(f"create view day_customers as select * from read_parquet('{day['customers_path']}')")
        yield connection


def _one(con, sql):
    return con.execute(sql).fetchone()[0]


def test_part_counts_follow_the_share_and_add_up():
    # 0.3% of 100k rows = 300: 2% new customers, 5% late orders, 5% late lines, 3% old refunds.
    assert dd.day_part_counts(100_000) == {
        "on_time": 253, "duplicate_row": 1, "new_customer": 6, "late_order": 15, "late_line": 15,
        "old_refund": 9, "missing_customer_id": 1}
    # 20M rows: 60,000 rows, of which 10% late (orders and lines) and 3% refunds of old orders.
    parts = dd.day_part_counts(20_000_000)
    assert sum(parts.values()) == 60_000
    assert parts["late_order"] + parts["late_line"] == 6_000 and parts["old_refund"] == 1_800
    # small bases get MIN_DAY_LINES rows, every part at least one
    small = dd.day_part_counts(1_000)
    assert sum(small.values()) == dd.MIN_DAY_LINES and min(small.values()) == 1
    with pytest.raises(ValueError, match="share"):
        dd.day_part_counts(1_000, share=0)


def test_same_arguments_give_byte_identical_files(base, day, tmp_path):
    again = dd.generate_day(base["orders_path"], base["customers_path"], tmp_path / "again", seed=42, threads=1)
    assert _md5(again["orders_path"]) == _md5(day["orders_path"])
    assert _md5(again["customers_path"]) == _md5(day["customers_path"])
    other = dd.generate_day(base["orders_path"], base["customers_path"], tmp_path / "other", seed=43)
    assert _md5(other["orders_path"]) != _md5(day["orders_path"])
    assert Path(day["orders_path"]).name == "orders-2026-11-01.parquet"


def test_the_day_follows_the_last_order_date_and_has_every_part(day, con):
    assert day["last_date"] == dg.DEFAULT_END_DATE.isoformat() and day["day"] == "2026-11-01"
    parts = dd.day_part_counts(day["base_rows"])
    assert day["parts"] == parts and sum(parts.values()) == 120 == day["rows"]
    assert _one(con, "select count(*) from day_orders") == 120
    assert [tuple(r) for r in con.execute(
        "select column_name, column_type from (describe day_orders)").fetchall()] == [
        tuple(r) for r in con.execute("select column_name, column_type from (describe base_orders)").fetchall()]
    assert [tuple(r) for r in con.execute(
        "select column_name, column_type from (describe day_customers)").fetchall()] == [
        tuple(r) for r in con.execute("select column_name, column_type from (describe base_customers)").fetchall()]
    # one missing customer id, one verbatim duplicate on adjacent lines
    assert _one(con, "select count(*) from day_orders where customer_id is null") == 1
    assert _one(con, "select count(*) - (select count(*) from (select distinct * from day_orders)) "
                     "from day_orders") == 1


def test_late_lines_and_refunds_carry_their_base_order(day, con):
    last = dt.date.fromisoformat(day["last_date"])
    existing = con.execute("""
        select d.status, d.amount, b.amount as base_amount, d.ordered_at, b.ordered_at as base_ordered_at,
               d.customer_id = b.customer_id as same_customer, d.quantity = b.quantity as same_quantity
        from day_orders as d join base_orders as b using (order_id)
    """).df()
    parts = day["parts"]
    assert len(existing) == parts["late_line"] + parts["old_refund"]
    assert existing["same_customer"].all()
    late_lines = existing[existing["status"] == "completed"]
    refunds = existing[existing["status"] == "refunded"]
    assert len(late_lines) == parts["late_line"] and len(refunds) == parts["old_refund"]
    # a late line: the order's own time, inside the last LATE_DAYS days, a new positive amount
    assert (late_lines["ordered_at"] == late_lines["base_ordered_at"]).all()
    assert (late_lines["ordered_at"].dt.date >= last - dt.timedelta(days=dd.LATE_DAYS - 1)).all()
    assert (late_lines["amount"] > 0).all()
    # a refund: today, minus the old purchase, same quantity, 10 to 90 days old
    assert (refunds["amount"] == -refunds["base_amount"]).all() and refunds["same_quantity"].all()
    assert (refunds["ordered_at"].dt.date.astype(str) == day["day"]).all()
    age = (last - refunds["base_ordered_at"].dt.date).map(lambda d: d.days)
    assert age.between(*dd.REFUND_AGE_DAYS).all()


def test_new_ids_continue_the_base_numbering(base, day, con):
    parts = day["parts"]
    base_max = _one(con, "select max(order_id) from base_orders")
    new = con.execute("select distinct order_id from day_orders where order_id not in "
                      "(select order_id from base_orders) order by 1").fetchall()
    new_ids = [r[0] for r in new]
    n_new = parts["on_time"] + parts["new_customer"] + parts["late_order"] + parts["missing_customer_id"]
    assert len(new_ids) == n_new
    first = int(base_max[1:]) + 1
    assert new_ids == [f"O{n:0{len(base_max) - 1}d}" for n in range(first, first + n_new)]
    # numbered in time order
    times = [r[0] for r in con.execute("select min(ordered_at) from day_orders where order_id in "
                                       f"({', '.join(repr(i) for i in new_ids)}) group by order_id order by order_id")
             .fetchall()]
    assert times == sorted(times)
    # late orders: new ids dated in the last LATE_DAYS days of the base, by customers signed up by then
    last = dt.date.fromisoformat(day["last_date"])
    late = con.execute(f"""
        select d.ordered_at, c.signup_date from day_orders as d join base_customers as c using (customer_id)
        where d.order_id > '{base_max}' and cast(d.ordered_at as date) < DATE '{day['day']}'
    """).fetchall()
    window_start = last - dt.timedelta(days=dd.LATE_DAYS - 1)
    assert len(late) == parts["late_order"]
    assert all(window_start <= t.date() <= last and s <= window_start for t, s in late)


def test_new_customers_are_in_the_customers_file_of_the_day(base, day, con):
    n = day["parts"]["new_customer"]
    assert day["new_customers"] == n == _one(con, "select count(*) from day_customers")
    assert _one(con, "select count(*) from day_customers where customer_id in "
                     "(select customer_id from base_customers)") == 0
    assert _one(con, f"select count(*) from day_customers where signup_date = DATE '{day['day']}'") == n
    assert [r[0] for r in con.execute("select customer_id from day_customers order by 1").fetchall()] == [
        dg.format_customer_id(BASE["customers"] + i, BASE["customers"]) for i in range(1, n + 1)]
    # every other customer of the day is a customer of the base (no orphan ids added)
    assert _one(con, """
        select count(*) from day_orders where customer_id is not null
            and customer_id not in (select customer_id from base_customers)
            and customer_id not in (select customer_id from day_customers)""") == 0
    assert _one(con, "select count(*) from day_orders where customer_id in "
                     "(select customer_id from day_customers)") == n
