"""One generated day of orders on top of a data set: the input of a daily incremental build.

Usage::

    python -m segmentation.datagen_day --orders .bench/1m/orders.parquet \\
        --customers .bench/1m/customers.parquet --out .bench/1m/run/input [--seed 42] [--share 0.003]

or from Python: ``generate_day(orders_path, customers_path, out_dir, seed, share)``.

It reads the base orders and customers (Parquet or CSV as written by ``segmentation.datagen``;
a glob works too) and writes two new files, ``orders-<day>.parquet`` and
``customers-<day>.parquet``, next to which the base files can sit under one glob, so the
input vars do not change from one day to the next (``orders_input.file: input/orders-*.parquet``).

The day
-------
``day`` is the day after the latest order date of the base that is not in the future
(``last_date``; rows dated after today, such as datagen's planted 2031 row, are ignored).
The day brings ``n_lines = max(MIN_DAY_LINES, round(share * base rows))`` order rows
(``share`` 0.003 = 0.3% by default), in these parts (``DAY_PARTS``; every part has at least
one row, the on-time purchases take the rest):

* ``on_time``         purchases dated ``day`` by existing customers (any customer of the
                      customers input, drawn without replacement; ~3.5% cancelled);
* ``new_customer``    one purchase dated ``day`` by each new customer (``DAY_SHARES``: 2% of
                      the lines); the new customers are numbered after the base's highest
                      customer id and written to the customers file of the day, signed up on
                      ``day``;
* ``late_order``      late-arriving purchases (new order ids) dated in the last
                      ``LATE_DAYS`` (3) days of the base, ``last_date - 2 .. last_date``, by
                      existing customers who signed up before that window (5%);
* ``late_line``       a late second line of an existing single-line completed purchase of
                      that window: same order id, customer and time, a new positive amount (5%);
* ``old_refund``      a full refund, dated ``day`` and carrying the order id, customer and
                      quantity of a single-line completed purchase dated ``REFUND_AGE_DAYS``
                      (10 to 90) days before ``last_date``: amount = minus the purchase, status
                      ``refunded``, so the old order nets to zero and becomes a cancellation (3%);
* ``missing_customer_id`` one purchase dated ``day`` without a customer id (1 row);
* ``duplicate_row``   a verbatim copy of the first on-time purchase, on the next line (1 row).

New order ids continue the base's numbering (``O`` + the same width) in time order; the
late lines and refunds reuse their order's id. Every draw is datagen's hash draw keyed by
the row, the seed and the day, and the rows are written sorted by (time, order id, part,
row), so the same base, seed and share give byte-identical files whatever the thread count.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shutil
import sys
import time
from pathlib import Path

import duckdb

from segmentation.datagen import (
    CANCEL_RATE,
    DEFAULT_MEMORY_LIMIT,
    GEOGRAPHY,
    _copy_options,
    _rand,
    _setup,
    connect_generator,
)

DEFAULT_SHARE = 0.003
MIN_DAY_LINES = 100
#: Share of the day's lines per part (at least one row each); on-time purchases take the rest.
DAY_SHARES = {"new_customer": 0.02, "late_order": 0.05, "late_line": 0.05, "old_refund": 0.03}
DAY_FIXED = {"missing_customer_id": 1, "duplicate_row": 1}
#: Order of the parts in the file at equal (time, order id): a copy follows its original.
DAY_PARTS = ("on_time", "duplicate_row", "new_customer", "late_order", "late_line", "old_refund",
             "missing_customer_id")
LATE_DAYS = 3
REFUND_AGE_DAYS = (10, 90)


def day_part_counts(base_rows: int, share: float = DEFAULT_SHARE) -> dict[str, int]:
    """Rows per part of the day for a base of ``base_rows`` order rows (they add up to n_lines)."""
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1 (a share of the base's rows), got {share!r}")
    n_lines = max(MIN_DAY_LINES, round(share * base_rows))
    counts = {part: max(1, round(rate * n_lines)) for part, rate in DAY_SHARES.items()}
    counts.update(DAY_FIXED)
    counts["on_time"] = n_lines - sum(counts.values())
    return {part: counts[part] for part in DAY_PARTS}


def _scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _reader(path: str) -> str:
    reader = "read_csv" if ".csv" in str(path).lower() else "read_parquet"
    return f"{reader}({_literal(path)})"


def generate_day(orders_path: str | Path, customers_path: str | Path, out_dir: str | Path,
                 seed: int = 42, share: float = DEFAULT_SHARE, threads: int | None = None,
                 memory_limit: str | None = DEFAULT_MEMORY_LIMIT) -> dict:
    """Write ``out_dir/orders-<day>.parquet`` and ``out_dir/customers-<day>.parquet``.

    Parameters
    ----------
    orders_path, customers_path : path or glob
        The base data (``segmentation.datagen``'s schema: ``O``/``C``-numbered ids).
    out_dir : path
        Where the two files of the day are written (created if missing).
    seed : int
        Seed of every draw, with the day.
    share : float
        The day's rows as a share of the base's rows (at least ``MIN_DAY_LINES``).

    Returns
    -------
    dict
        ``day``, ``last_date``, ``orders_path``, ``customers_path``, ``base_rows``,
        ``rows`` (order rows written), ``parts`` (rows per part), ``new_customers``,
        ``statuses`` (rows per status), ``first_order_number`` / ``last_order_number``
        (of the new order ids) and ``seconds``.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spill_dir, con = connect_generator("datagen_day_spill_", threads, memory_limit)
    try:
        con.execute("set enable_progress_bar = false")  # a session option, not a connect() one
        _setup(con, seed)
        orders, customers = _reader(str(orders_path)), _reader(str(customers_path))
        base_rows = _scalar(con, f"select count(*) from {orders}")
        last_date = _scalar(con, f"select max(cast(ordered_at as date)) from {orders} "
                                 "where cast(ordered_at as date) <= current_date")
        if last_date is None:
            raise ValueError(f"{orders_path}: no order dated today or earlier to follow")
        max_order_id = _scalar(con, f"select max(order_id) from {orders} where order_id similar to 'O[0-9]+'")
        max_customer_id = _scalar(con, f"select max(customer_id) from {customers} "
                                       "where customer_id similar to 'C[0-9]+'")
        if max_order_id is None or max_customer_id is None:
            raise ValueError("the base must number its ids as segmentation.datagen does (O00000001, C0000001)")
        order_width, customer_width = len(max_order_id) - 1, len(max_customer_id) - 1
        first_order_number = int(max_order_id[1:]) + 1
        first_customer_number = int(max_customer_id[1:]) + 1
        day = last_date + dt.timedelta(days=1)
        day_key = (day - dt.date(1970, 1, 1)).days
        parts = day_part_counts(base_rows, share)
        if first_customer_number + parts["new_customer"] >= 10 ** customer_width - 2:
            raise ValueError("no room for new customer ids below datagen's orphan ids; widen the ids")

        def draw(key: str, salt: str) -> str:
            return _rand(f"{key}, {day_key}::BIGINT", seed, "day_" + salt)

        def amount(key: str, salt: str) -> str:
            # datagen's dirty-row amounts: lognormal around 40.00, at least 1.00
            return (f"greatest(1.0, round(exp({math.log(40.0)} + 0.6 * std_normal("
                    f"{draw(key, salt + '_a')}, {draw(key, salt + '_b')})), 2))::DECIMAL(12,2)")

        day_start = f"TIMESTAMP '{day.isoformat()} 00:00:00'"
        late_start = f"TIMESTAMP '{(last_date - dt.timedelta(days=LATE_DAYS - 1)).isoformat()} 00:00:00'"
        late_seconds = LATE_DAYS * 86400
        refund_from = last_date - dt.timedelta(days=REFUND_AGE_DAYS[1])
        refund_to = last_date - dt.timedelta(days=REFUND_AGE_DAYS[0])
        regular = f"customer_id in (select customer_id from {customers})"
        # Single-line completed purchases in a date range, by regular customers, drawn.
        def purchases_between(lo: dt.date, hi: dt.date, salt: str, n: int) -> str:
            return f"""
                select order_id, customer_id, ordered_at, amount, quantity
                from {orders}
                where cast(ordered_at as date) between DATE '{lo}' and DATE '{hi}'
                    and status = 'completed' and amount > 0 and {regular}
                qualify count(*) over (partition by order_id) = 1
                order by {draw('hash(order_id)', salt)}, order_id
                limit {n}"""

        def customers_drawn(salt: str, n: int, signed_up_by: dt.date) -> str:
            return f"""
                select customer_id, row_number() over (order by {draw('hash(customer_id)', salt)}, customer_id) as j
                from {customers}
                where coalesce(cast(signup_date as date), DATE '{signed_up_by}') <= DATE '{signed_up_by}'
                order by {draw('hash(customer_id)', salt)}, customer_id
                limit {n}"""

        def status(key: str, salt: str) -> str:
            return f"case when {draw(key, salt)} < {CANCEL_RATE} then 'cancelled' else 'completed' end"

        new_customer_ids = (f"'C' || lpad(({first_customer_number} + range)::VARCHAR, {customer_width}, '0')")
        con.execute(f"""
            create temp table day_rows as
            with on_time as (
                select 'on_time' as part, j, null::VARCHAR as order_id, customer_id,
                    {day_start} + to_seconds(floor({draw('j', 'on_time_t')} * 86400)::BIGINT) as ordered_at,
                    {amount('j', 'on_time_amount')} as amount,
                    (1 + floor({draw('j', 'on_time_qty')} * 3))::INTEGER as quantity,
                    {status('j', 'on_time_status')} as status
                from ({customers_drawn('on_time', parts['on_time'], day)})
            ), new_customer as (
                select 'new_customer' as part, range + 1 as j, null::VARCHAR as order_id,
                    {new_customer_ids} as customer_id,
                    {day_start} + to_seconds(floor({draw('range', 'new_t')} * 86400)::BIGINT) as ordered_at,
                    {amount('range', 'new_amount')} as amount,
                    (1 + floor({draw('range', 'new_qty')} * 3))::INTEGER as quantity,
                    {status('range', 'new_status')} as status
                from range({parts['new_customer']})
            ), late_order as (
                select 'late_order' as part, j, null::VARCHAR as order_id, customer_id,
                    {late_start} + to_seconds(floor({draw('j', 'late_t')} * {late_seconds})::BIGINT) as ordered_at,
                    {amount('j', 'late_amount')} as amount,
                    (1 + floor({draw('j', 'late_qty')} * 3))::INTEGER as quantity,
                    {status('j', 'late_status')} as status
                from ({customers_drawn('late_order', parts['late_order'],
                                       last_date - dt.timedelta(days=LATE_DAYS - 1))})
            ), late_line as (
                select 'late_line' as part, row_number() over (order by order_id) as j, order_id, customer_id,
                    cast(ordered_at as TIMESTAMP) as ordered_at,
                    {amount('hash(order_id)', 'late_line_amount')} as amount,
                    1 as quantity, 'completed' as status
                from ({purchases_between(last_date - dt.timedelta(days=LATE_DAYS - 1), last_date,
                                         'late_line', parts['late_line'])})
            ), old_refund as (
                select 'old_refund' as part, row_number() over (order by order_id) as j, order_id, customer_id,
                    {day_start} + to_seconds(floor({draw('hash(order_id)', 'refund_t')} * 86400)::BIGINT)
                        as ordered_at,
                    -cast(amount as DECIMAL(12,2)) as amount, cast(quantity as INTEGER) as quantity,
                    'refunded' as status
                from ({purchases_between(refund_from, refund_to, 'old_refund', parts['old_refund'])})
            ), missing_customer_id as (
                select 'missing_customer_id' as part, 1 as j, null::VARCHAR as order_id,
                    null::VARCHAR as customer_id,
                    {day_start} + to_seconds(floor({draw('0', 'missing_t')} * 86400)::BIGINT) as ordered_at,
                    {amount('0', 'missing_amount')} as amount, 1 as quantity, 'completed' as status
            )
            select * from on_time
            union all select * from new_customer
            union all select * from late_order
            union all select * from late_line
            union all select * from old_refund
            union all select * from missing_customer_id
        """)
        got = dict(con.execute("select part, count(*) from day_rows group by 1").fetchall())
        for part in ("late_line", "old_refund", "on_time", "late_order"):
            if got.get(part, 0) != parts[part]:
                raise ValueError(f"the base has too few candidates for the day's {part} rows "
                                 f"({got.get(part, 0)} of {parts[part]}); generate more orders")
        # New order ids in time order; the duplicate copies the first on-time purchase.
        part_rank = "case part " + " ".join(f"when '{p}' then {i}" for i, p in enumerate(DAY_PARTS)) + " end"
        con.execute(f"""
            create temp table day_numbered as
            with numbered as (
                select * exclude (order_id),
                    coalesce(order_id, 'O' || lpad(({first_order_number - 1} + row_number() over (
                        partition by order_id is null order by ordered_at, {part_rank}, j))::VARCHAR,
                        {order_width}, '0')) as order_id
                from day_rows
            )
            select * from numbered
            union all
            select * replace ('duplicate_row' as part)
            from numbered
            where part = 'on_time' and j = 1
        """)
        orders_out = out / f"orders-{day.isoformat()}.parquet"
        customers_out = out / f"customers-{day.isoformat()}.parquet"
        opts = _copy_options("parquet")
        n_rows = con.execute(f"""
            copy (
                select order_id, customer_id, ordered_at, amount, quantity, status
                from day_numbered
                order by ordered_at, order_id, {part_rank}, j
            ) to '{orders_out}' ({opts})""").fetchone()[0]
        con.execute("create temp table day_geo as select * from (values "
                    + ", ".join(f"({i}, {_literal(c)}, {_literal(r)}, {_literal(city)})"
                                for i, (c, r, city, _) in enumerate(GEOGRAPHY))
                    + ") t(geo_index, country, region, city)")
        n_customers = con.execute(f"""
            copy (
                select {new_customer_ids} as customer_id,
                    DATE '{day}' as signup_date,
                    DATE '{day}' - (365.25 * (18 + 50 * {draw('range', 'new_age')}))::INTEGER as birth_date,
                    case when {draw('range', 'new_gender')} < 0.5 then 'F' else 'M' end as gender,
                    g.country, g.region, g.city,
                    {draw('range', 'new_consent')} < 0.6 as marketing_consent
                from range({parts['new_customer']})
                join day_geo as g on g.geo_index = floor({draw('range', 'new_geo')} * {len(GEOGRAPHY)})
                order by range
            ) to '{customers_out}' ({opts})""").fetchone()[0]
        statuses = dict(con.execute("select status, count(*) from day_numbered group by 1 order by 1").fetchall())
        last_number = int(_scalar(con, "select max(order_id) from day_numbered where part in "
                                       "('on_time', 'new_customer', 'late_order', 'missing_customer_id')")[1:])
    finally:
        con.close()
        shutil.rmtree(spill_dir, ignore_errors=True)
    if n_rows != sum(parts.values()) or n_customers != parts["new_customer"]:
        raise AssertionError(f"day rows {n_rows} / customers {n_customers} do not match {parts}")
    return {
        "day": day.isoformat(), "last_date": last_date.isoformat(), "seed": seed, "share": share,
        "orders_path": str(orders_out), "customers_path": str(customers_out),
        "base_rows": int(base_rows), "rows": int(n_rows), "parts": parts,
        "new_customers": int(n_customers), "statuses": statuses,
        "first_order_number": first_order_number, "last_order_number": last_number,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m segmentation.datagen_day", description=__doc__.split("\n")[0])
    ap.add_argument("--orders", required=True, help="base orders file (or glob)")
    ap.add_argument("--customers", required=True, help="base customers file (or glob)")
    ap.add_argument("--out", required=True, help="folder for orders-<day>.parquet and customers-<day>.parquet")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--share", type=float, default=DEFAULT_SHARE,
                    help=f"the day's rows as a share of the base's (default {DEFAULT_SHARE})")
    a = ap.parse_args(argv)
    try:
        r = generate_day(a.orders, a.customers, a.out, seed=a.seed, share=a.share)
    except ValueError as exc:
        print(f"datagen_day: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
