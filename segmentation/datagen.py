"""Deterministic synthetic customers/orders generator (all row work happens in DuckDB SQL).

Usage::

    python -m segmentation.datagen --customers 1000000 --orders 20000000 --seed 42 \\
        --format parquet --out /tmp/bench [--dirty/--no-dirty] \\
        [--start-date 2024-11-01 --end-date 2026-10-31]
    python -m segmentation.datagen --demo        # seeds/demo/demo_{customers,orders}.csv

or from Python: ``generate(customers, orders, seed, out_dir, fmt, dirty, start_date, end_date)``.

Determinism
-----------
No ``random()`` is used.  Every random draw is
``u(hash(xor(hash(key..., seed), SALT)))``: DuckDB's ``hash()`` of the row key and the seed,
xor-ed with a 64-bit constant derived from a per-purpose salt name, hashed again, top 53 bits
mapped to [0, 1).  (The obvious ``hash(key, seed, 'salt')`` is NOT usable: DuckDB combines
multi-argument hashes with a final xor, so draws with different salts come out strongly
correlated -- about 0.88 -- and e.g. the persona draw would fix the signup date.)  Order
counts are allocated with exact integer arithmetic and output rows are sorted by id, so the
same arguments give byte-identical files whatever the thread count or memory limit (with the
same DuckDB version; ``hash()`` is not guaranteed stable across DuckDB releases).

Scale
-----
Customers (one row each) are a small temp table.  Orders are produced by ``unnest(range(n))``
per customer, sorted once by time (DuckDB spills the sort to a private temp dir beyond
``memory_limit``, default 2GB) into a scratch Parquet file, then numbered from its
``file_row_number`` while streaming into the output, so order ids follow ``ordered_at``
without a second sort.  1M customers / 20M orders to Parquet takes ~20 s on 2 cores.

Schema
------
customers: customer_id (``C0000001``), signup_date (date), birth_date (date, ~3% empty),
gender (F/M/X, ~2% empty), country, region, city, marketing_consent (true/false).
With ``include_persona=True`` / ``--with-persona`` a trailing debug column ``persona`` is added.

orders: order_id (``O00000001``), customer_id, ordered_at (timestamp, second precision),
amount (DECIMAL(12,2), negative for refunds), quantity (int), status
(completed / cancelled / refunded).  Order ids increase with ``ordered_at``.

Planted structure (hidden persona per customer; see ``PERSONAS``)
------------------------------------------------------------------
Shares 10/20/10/20/20/10/10 %:

* champions       -- orders all through the window, skewed to recent, many orders, high spend
* loyal           -- steady, mid spend, may stop up to ~45 days before the end
* big_ticket      -- few orders, very high basket
* bargain_hunter  -- many small baskets, younger
* lapsed          -- signed up early, active only in the first half of the window (= the first
                     year with the default two-year window), then stopped
* new             -- signed up in the last 90 days of the window, exactly 1-2 orders
* never_ordered   -- exists only in customers, zero orders

Amounts are lognormal per persona (Box-Muller on two hash uniforms), floored at 1.00.
Ordering personas get at least one order; the rest of the ``--orders`` budget is spread over
champions/loyal/big_ticket/bargain_hunter/lapsed in proportion to a per-persona weight times a
per-customer multiplier in [0.5, 1.5].  ``--orders`` is a target for the *total* number of
order rows (purchases + refund rows); it is met to within a fraction of a percent unless it is
smaller than the minimum (one order per ordering customer), in which case the minimum wins.

About 3.5% of purchases are ``cancelled`` (amount stays positive).  About 1.5% of all rows are
refunds: a separate row with its own order_id, status ``refunded``, amount = minus the original
purchase amount, same (positive) quantity, dated 1-30 days after a completed purchase of the
same customer and never after the end date.  Signup date <= the customer's first order date.
All dates are inside [start_date, end_date] except the one planted future row.

Dirty rows (``dirty=True`` / ``--dirty``; on for ``--demo``; counts in ``DIRTY_ROW_COUNTS``)
-------------------------------------------------------------------------------------------
All dirty rows are extra order rows (customers are never dirty, apart from the natural empty
birth_date / gender values described above):

* ``empty_customer_id``  3 orders whose customer_id is NULL (an empty field in CSV).
* ``duplicate_rows``     5 purchase rows (each the first purchase of a different customer)
                         appear twice, verbatim (same order_id too), on adjacent lines, so
                         the file has 5 more rows than distinct order_ids.
* ``future_dated``       1 order dated ``YYYY-01-01 12:00:00`` where YYYY = end year + 5
                         (2031-01-01 12:00:00 for the default window); it has the highest
                         order_id.
* ``orphan_customer``    2 orders (one each) for ``C9999998`` and ``C9999999``, which do not
                         exist in customers (see ``orphan_customer_ids``).
* ``zero_amount``        1 completed order with amount 0.00.
* ``padded_customer_id`` 1 order whose customer_id is ``'  C0000007 '`` (2 spaces before, 1
                         after); trimmed, it matches a real customer.

All planted dirty rows except the duplicates have status ``completed`` and quantity 1.  The
future/zero-amount rows and the duplicated purchases belong to existing customers that have
orders.  Dirty mode needs at least 10 customers and 7 customers with orders.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

DEFAULT_START_DATE = dt.date(2024, 11, 1)
DEFAULT_END_DATE = dt.date(2026, 10, 31)
# DuckDB memory cap; the big sort spills to a private temp dir beyond it (peak RSS stays
# around this figure plus ~0.5 GB).
DEFAULT_MEMORY_LIMIT = "2GB"
MIN_WINDOW_DAYS = 180

CUSTOMER_COLUMNS = (
    "customer_id",
    "signup_date",
    "birth_date",
    "gender",
    "country",
    "region",
    "city",
    "marketing_consent",
)
ORDER_COLUMNS = ("order_id", "customer_id", "ordered_at", "amount", "quantity", "status")
ORDER_STATUSES = ("completed", "cancelled", "refunded")

CANCEL_RATE = 0.035  # share of purchases that are cancelled
REFUND_RATE = 0.015  # share of all order rows that are refund rows
MISSING_BIRTH_DATE_RATE = 0.03
MISSING_GENDER_RATE = 0.02

DIRTY_ROW_COUNTS = {
    "empty_customer_id": 3,
    "duplicate_rows": 5,
    "future_dated": 1,
    "orphan_customer": 2,
    "zero_amount": 1,
    "padded_customer_id": 1,
}
DIRTY_EXTRA_ROWS = sum(DIRTY_ROW_COUNTS.values())  # rows added on top of the clean orders
PADDED_CUSTOMER_INDEX = 7  # '  C0000007 '

DEMO = {
    "customers": 2000,
    "orders": 16000,
    "fmt": "csv",
    "dirty": True,
    "out_dir": Path(__file__).resolve().parent.parent / "seeds" / "demo",
    "customers_name": "demo_customers",
    "orders_name": "demo_orders",
}


@dataclass(frozen=True)
class Persona:
    name: str
    share: float  # share of customers
    weight: int  # relative share of the scalable order budget (per customer)
    recency_exp: float  # order time = lo + (hi - lo) * u ** recency_exp; < 1 skews recent
    median_amount: float
    sigma: float  # lognormal sigma of the amount
    max_quantity: int
    age_mean: float
    age_sd: float
    consent_rate: float


PERSONAS = (
    Persona("champion", 0.10, 300, 0.6, 85.0, 0.45, 4, 46, 10, 0.75),
    Persona("loyal", 0.20, 120, 1.0, 45.0, 0.40, 3, 42, 11, 0.65),
    Persona("big_ticket", 0.10, 25, 1.0, 320.0, 0.50, 2, 48, 11, 0.50),
    Persona("bargain_hunter", 0.20, 200, 0.85, 14.0, 0.45, 5, 29, 7, 0.55),
    Persona("lapsed", 0.20, 60, 1.0, 38.0, 0.55, 3, 38, 12, 0.35),
    Persona("new", 0.10, 0, 1.0, 40.0, 0.60, 3, 33, 10, 0.60),
    Persona("never_ordered", 0.10, 0, 1.0, 40.0, 0.60, 1, 36, 12, 0.30),
)
PERSONA_NAMES = tuple(p.name for p in PERSONAS)

# (country, region, city, weight per mille); sums to 1000, skewed to the UK.
GEOGRAPHY = (
    ("United Kingdom", "England", "London", 200),
    ("United Kingdom", "England", "Manchester", 70),
    ("United Kingdom", "England", "Birmingham", 60),
    ("United Kingdom", "England", "Leeds", 40),
    ("United Kingdom", "England", "Bristol", 35),
    ("United Kingdom", "Scotland", "Edinburgh", 40),
    ("United Kingdom", "Scotland", "Glasgow", 35),
    ("United Kingdom", "Wales", "Cardiff", 25),
    ("United Kingdom", "Wales", "Swansea", 15),
    ("United States", "California", "Los Angeles", 35),
    ("United States", "California", "San Francisco", 25),
    ("United States", "New York", "New York City", 40),
    ("United States", "Texas", "Austin", 30),
    ("Germany", "Berlin", "Berlin", 45),
    ("Germany", "Bavaria", "Munich", 35),
    ("Germany", "Hamburg", "Hamburg", 30),
    ("France", "Île-de-France", "Paris", 50),
    ("France", "Auvergne-Rhône-Alpes", "Lyon", 25),
    ("France", "Provence-Alpes-Côte d'Azur", "Marseille", 15),
    ("Netherlands", "North Holland", "Amsterdam", 45),
    ("Netherlands", "South Holland", "Rotterdam", 30),
    ("Spain", "Community of Madrid", "Madrid", 40),
    ("Spain", "Catalonia", "Barcelona", 35),
)
assert sum(g[3] for g in GEOGRAPHY) == 1000
assert abs(sum(p.share for p in PERSONAS) - 1.0) < 1e-9


def customer_id_width(customers: int) -> int:
    """Digits after the 'C'; 7 unless there are so many customers that the orphan ids would clash."""
    return max(7, len(str(customers + 2)))


def format_customer_id(index: int, customers: int) -> str:
    return "C" + str(index).zfill(customer_id_width(customers))


def orphan_customer_ids(customers: int) -> tuple[str, str]:
    """The two customer ids used by dirty orphan orders (C9999998, C9999999 by default)."""
    top = 10 ** customer_id_width(customers)
    return ("C" + str(top - 2), "C" + str(top - 1))


def padded_customer_id(customers: int) -> str:
    return "  " + format_customer_id(PADDED_CUSTOMER_INDEX, customers) + " "


def future_timestamp(end_date: dt.date) -> dt.datetime:
    return dt.datetime(end_date.year + 5, 1, 1, 12, 0, 0)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _salt(name: str) -> int:
    """Stable 64-bit constant for a salt name (independent of PYTHONHASHSEED)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _rand(key_sql: str, seed: int, salt: str) -> str:
    """SQL for a deterministic uniform [0, 1) draw keyed by ``key_sql`` (comma-separated BIGINTs)."""
    return f"u(hash(xor(hash({key_sql}, {int(seed)}::BIGINT), {_salt(salt)}::UBIGINT)))"


def _persona_case(threshold_expr: str) -> str:
    """SQL CASE mapping a uniform draw to a persona index by cumulative share."""
    parts, cum = [], 0.0
    for pid, persona in enumerate(PERSONAS[:-1]):
        cum += persona.share
        parts.append(f"WHEN {threshold_expr} < {cum!r} THEN {pid}")
    return "CASE " + " ".join(parts) + f" ELSE {len(PERSONAS) - 1} END"


def connect_generator(spill_prefix: str, threads: int | None, memory_limit: str | None):
    """An in-memory DuckDB for the generators: insertion order kept (deterministic bytes),
    spilling to a fresh temporary folder (returned, for the caller to remove)."""
    spill_dir = tempfile.mkdtemp(prefix=spill_prefix)
    config = {"preserve_insertion_order": True, "temp_directory": spill_dir}
    if threads:
        config["threads"] = int(threads)
    if memory_limit:
        config["memory_limit"] = memory_limit
    return spill_dir, duckdb.connect(":memory:", config=config)


def _setup(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    # u(x): top 53 bits of a UBIGINT hash -> [0, 1)
    con.execute("CREATE OR REPLACE MACRO u(x) AS ((x >> 11)::DOUBLE / 9007199254740992.0)")
    # standard normal from two uniforms (Box-Muller); 1 - a is in (0, 1]
    con.execute(
        "CREATE OR REPLACE MACRO std_normal(a, b) AS "
        "(sqrt(-2.0 * ln(1.0 - a)) * cos(2.0 * pi() * b))"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE personas (pid INTEGER, name VARCHAR, weight BIGINT, "
        "recency_exp DOUBLE, mu DOUBLE, sigma DOUBLE, max_quantity INTEGER, age_mean DOUBLE, "
        "age_sd DOUBLE, consent_rate DOUBLE)"
    )
    con.executemany(
        "INSERT INTO personas VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (i, p.name, p.weight, p.recency_exp, math.log(p.median_amount), p.sigma,
             p.max_quantity, p.age_mean, p.age_sd, p.consent_rate)
            for i, p in enumerate(PERSONAS)
        ],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE geo_raw (country VARCHAR, region VARCHAR, city VARCHAR, "
        "lo INTEGER, hi INTEGER)"
    )
    rows, lo = [], 0
    for country, region, city, weight in GEOGRAPHY:
        rows.append((country, region, city, lo, lo + weight))
        lo += weight
    con.executemany("INSERT INTO geo_raw VALUES (?, ?, ?, ?, ?)", rows)
    # one row per per-mille bucket -> equality (hash) join instead of a range join
    con.execute(
        "CREATE OR REPLACE TEMP TABLE geo AS "
        "SELECT b AS bucket, country, region, city FROM geo_raw, range(lo, hi) t(b)"
    )


def _build_customers(
    con: duckdb.DuckDBPyConnection,
    customers: int,
    base_orders: int,
    seed: int,
    start: dt.date,
    window_days: int,
) -> None:
    """Materialise the (small) customer table, including each customer's order count."""
    D = window_days
    width = customer_id_width(customers)
    def h(salt):
        return _rand("i", seed, salt)

    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cust_raw AS
        WITH b AS (
            SELECT i, {_persona_case(h('persona'))} AS pid
            FROM range(1, {customers + 1}) t(i)
        )
        SELECT
            b.i,
            b.pid,
            'C' || lpad(b.i::VARCHAR, {width}, '0') AS customer_id,
            -- signup day offset from start_date, by persona
            (CASE b.pid
                WHEN 0 THEN floor({h('signup')} * {0.55 * D})
                WHEN 1 THEN floor({h('signup')} * {0.60 * D})
                WHEN 2 THEN floor({h('signup')} * {0.70 * D})
                WHEN 3 THEN floor({h('signup')} * {0.60 * D})
                WHEN 4 THEN floor({h('signup')} * {0.20 * D})
                WHEN 5 THEN {D - 90} + floor({h('signup')} * 85)
                ELSE floor({h('signup')} * {D})
            END)::INTEGER AS signup_day,
            DATE '{start.isoformat()}' + signup_day AS signup_date,
            -- end of the active window, in (fractional) days from start_date
            (CASE b.pid
                WHEN 1 THEN {D} - 45.0 * {h('active_end')}
                WHEN 3 THEN {D} - 20.0 * {h('active_end')}
                WHEN 4 THEN {0.25 * D} + {0.25 * D} * {h('active_end')}
                ELSE {float(D)}
            END) AS active_end,
            CASE WHEN {h('birth_missing')} < {MISSING_BIRTH_DATE_RATE} THEN NULL
                 ELSE DATE '{start.isoformat()}' - (365.25 * least(90.0, greatest(18.0,
                        p.age_mean + p.age_sd * std_normal({h('age_a')}, {h('age_b')}))))::INTEGER
            END AS birth_date,
            CASE WHEN {h('gender')} < {MISSING_GENDER_RATE} THEN NULL
                 WHEN {h('gender')} < 0.04 THEN 'X'
                 WHEN {h('gender')} < 0.52 THEN 'F'
                 ELSE 'M' END AS gender,
            g.country, g.region, g.city,
            {h('consent')} < p.consent_rate AS marketing_consent,
            -- orders every ordering customer gets regardless of the budget
            (CASE b.pid WHEN 6 THEN 0 WHEN 5 THEN 1 + ({h('new_n')} < 0.5)::INTEGER ELSE 1 END)::BIGINT
                AS base_n,
            -- integer claim on the rest of the budget: persona weight x multiplier in [0.5, 1.5]
            p.weight * (500 + floor({h('mult')} * 1001))::BIGINT AS claim,
            p.name AS persona, p.recency_exp, p.mu, p.sigma, p.max_quantity,
            false AS dup_customer  -- set for the customers whose first purchase is duplicated
        FROM b
        JOIN personas p USING (pid)
        JOIN geo g ON g.bucket = floor({h('geo')} * 1000)::BIGINT
        """
    )
    fixed, claims = con.execute("SELECT sum(base_n), sum(claim) FROM cust_raw").fetchone()
    fixed, claims = int(fixed or 0), int(claims or 0)
    extra = max(0, base_orders - fixed)
    if claims == 0:
        extra = 0
    # exact integer apportionment: customer i gets floor(C_i*E/S) - floor(C_{i-1}*E/S) extra
    # orders, where C_i is the running sum of claims -> the extras add up to E exactly.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cust AS
        WITH c AS (
            SELECT *, sum(claim) OVER (ORDER BY i ROWS UNBOUNDED PRECEDING)::HUGEINT AS cum
            FROM cust_raw
        )
        SELECT * EXCLUDE (cum, claim, base_n),
            base_n + CASE WHEN {claims} = 0 THEN 0 ELSE
                (cum * {extra} // {max(claims, 1)} - (cum - claim) * {extra} // {max(claims, 1)})
            END::BIGINT AS n_orders
        FROM c
        """
    )
    con.execute("DROP TABLE cust_raw")


def _orders_sorted_query(
    customers: int,
    seed: int,
    start: dt.date,
    end: dt.date,
    window_days: int,
    dirty: dict | None,
) -> str:
    """All order rows (purchases, refunds, dirty rows) in chronological order, without ids."""
    D = window_days
    end_sec = D * 86400  # exclusive upper bound, seconds from start_date 00:00:00
    start_epoch = int(dt.datetime.combine(start, dt.time()).replace(tzinfo=dt.UTC).timestamp())
    def ho(salt):
        return _rand("i, k", seed, salt)

    # refund probability per completed purchase so that refund rows are ~REFUND_RATE of all rows
    p_refund = REFUND_RATE / (1.0 - REFUND_RATE) / (1.0 - CANCEL_RATE)
    dirty_sql = ""
    if dirty:
        # sort keys i > customers keep dirty rows distinct from generated ones
        rows = []
        j = 0

        def add(cust_sql: str, sec_sql: str, amount_sql: str) -> None:
            nonlocal j
            j += 1
            i_key = customers + 100 + j
            rows.append(
                f"SELECT {i_key}::BIGINT AS i, 0::BIGINT AS k, 0 AS kind, ({sec_sql})::BIGINT AS sec, "
                f"{cust_sql}::VARCHAR AS customer_id, ({amount_sql})::DECIMAL(12,2) AS amount, "
                f"1 AS quantity, 'completed' AS status"
            )

        def rand_sec(tag: str, from_day: int = 0) -> str:
            # uniform in [from_day, end of window); from_day = the customer's signup day
            lo = from_day * 86400
            return f"{lo} + floor({_rand(str(j + 1), seed, 'dirty_t_' + tag)} * {end_sec - lo})"

        def rand_amount(tag: str) -> str:
            return (
                f"greatest(1.0, round(exp({math.log(40.0)} + 0.6 * std_normal("
                f"{_rand(str(j + 1), seed, 'dirty_a_' + tag)}, "
                f"{_rand(str(j + 1), seed, 'dirty_b_' + tag)})), 2))"
            )

        for _ in range(DIRTY_ROW_COUNTS["empty_customer_id"]):
            add("NULL", rand_sec("empty"), rand_amount("empty"))
        fut = future_timestamp(end)
        fut_sec = int((fut - dt.datetime.combine(start, dt.time())).total_seconds())
        assert DIRTY_ROW_COUNTS["future_dated"] == 1
        add(f"'{dirty['future_customer']}'", str(fut_sec), rand_amount("future"))
        orphans = orphan_customer_ids(customers)
        assert DIRTY_ROW_COUNTS["orphan_customer"] == len(orphans)
        for oid in orphans:
            add(f"'{oid}'", rand_sec("orphan"), rand_amount("orphan"))
        assert DIRTY_ROW_COUNTS["zero_amount"] == 1
        add(f"'{dirty['zero_customer']}'", rand_sec("zero", dirty["zero_signup_day"]), "0")
        assert DIRTY_ROW_COUNTS["padded_customer_id"] == 1
        add(f"'{padded_customer_id(customers)}'", rand_sec("padded", dirty["padded_signup_day"]),
            rand_amount("padded"))
        dirty_sql = "UNION ALL " + " UNION ALL ".join(rows)

    return f"""
    WITH base AS (
        SELECT i, customer_id, signup_day, active_end, recency_exp, mu, sigma, max_quantity,
               dup_customer,
               unnest(range(n_orders)) AS k
        FROM cust
        WHERE n_orders > 0
    ), purchases AS (
        SELECT i, k, customer_id,
            floor((signup_day + (active_end - signup_day) * pow({ho('t')}, recency_exp)) * 86400)::BIGINT
                AS sec,
            greatest(1.0, round(exp(mu + sigma * std_normal({ho('amt_a')}, {ho('amt_b')})), 2))
                ::DECIMAL(12,2) AS amount,
            (1 + floor({ho('qty')} * max_quantity))::INTEGER AS quantity,
            {ho('status')} < {CANCEL_RATE} AS cancelled,
            dup_customer AND k = 0 AS dup,
            {ho('refund')} AS u_refund,
            {ho('refund_delay')} AS u_delay
        FROM base
    ), flagged AS (
        SELECT *,
            NOT cancelled AND u_refund < {p_refund} AND sec <= {end_sec - 1 - 86400} AS refund
        FROM purchases
    ), expanded AS (
        -- kind 0 = the purchase, 1 = its refund, 2 = verbatim copy of a duplicated purchase
        SELECT *, unnest(CASE
            WHEN refund AND dup THEN [0, 1, 2]
            WHEN refund THEN [0, 1]
            WHEN dup THEN [0, 2]
            ELSE [0] END) AS kind
        FROM flagged
    ), all_rows AS (
        SELECT i, k, kind,
            CASE WHEN kind = 1
                 THEN sec + 86400 + floor(u_delay * (least({30 * 86400}, {end_sec - 1} - sec) - 86400))::BIGINT
                 ELSE sec
            END AS sec,
            customer_id,
            CASE WHEN kind = 1 THEN -amount ELSE amount END AS amount,
            quantity,
            CASE WHEN kind = 1 THEN 'refunded' WHEN cancelled THEN 'cancelled' ELSE 'completed' END
                AS status
        FROM expanded
        {dirty_sql}
    )
    -- (sec, i, k, kind) is unique, so the order is total; a copy (kind 2) sorts right after
    -- its original (kind 0), which has the same sec, i and k.
    SELECT
        make_timestamp(({start_epoch} + sec) * 1000000) AS ordered_at,
        customer_id, amount, quantity, status,
        kind = 2 AS is_copy
    FROM all_rows
    ORDER BY sec, i, k, kind
    """


def _copy_options(fmt: str) -> str:
    if fmt == "csv":
        return "FORMAT csv, HEADER true, DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S'"
    if fmt == "parquet":
        return "FORMAT parquet, COMPRESSION zstd"
    raise ValueError(f"unknown format {fmt!r} (expected 'csv' or 'parquet')")


def generate(
    customers: int,
    orders: int,
    seed: int = 42,
    out_dir: str | Path = "data/generated",
    fmt: str = "csv",
    dirty: bool = False,
    start_date: dt.date | str = DEFAULT_START_DATE,
    end_date: dt.date | str = DEFAULT_END_DATE,
    customers_name: str = "customers",
    orders_name: str = "orders",
    include_persona: bool = False,
    threads: int | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
) -> dict:
    """Generate customers and orders and write ``out_dir/<customers_name>.<fmt>`` and
    ``out_dir/<orders_name>.<fmt>``.  Returns paths, row counts, seconds and dirty-row values."""
    t0 = time.perf_counter()
    fmt = fmt.lower()
    _copy_options(fmt)  # validate early
    start, end = _as_date(start_date), _as_date(end_date)
    window_days = (end - start).days + 1
    if window_days < MIN_WINDOW_DAYS:
        raise ValueError(f"date window must span at least {MIN_WINDOW_DAYS} days")
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if orders < 0:
        raise ValueError("orders must be >= 0")
    if dirty and customers < max(10, PADDED_CUSTOMER_INDEX):
        raise ValueError("dirty mode needs at least 10 customers")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cust_path = out / f"{customers_name}.{fmt}"
    orders_path = out / f"{orders_name}.{fmt}"

    # purchases + refunds ~= orders; the handful of dirty rows is not budgeted
    base_orders = round(orders / (1.0 + REFUND_RATE / (1.0 - REFUND_RATE)))

    spill_dir, con = connect_generator("datagen_spill_", threads, memory_limit)
    try:
        _setup(con, seed)
        _build_customers(con, customers, base_orders, seed, start, window_days)

        dirty_info = None
        if dirty:
            # distinct customers with orders: one per duplicated purchase, + future + zero-amount
            n_dup = DIRTY_ROW_COUNTS["duplicate_rows"]
            picks = con.execute(
                f"SELECT i, customer_id, signup_day FROM cust WHERE n_orders > 0 "
                f"ORDER BY {_rand('i', seed, 'dirty_pick')}, i LIMIT {n_dup + 2}"
            ).fetchall()
            if len(picks) < n_dup + 2:
                raise ValueError(f"dirty mode needs at least {n_dup + 2} customers with orders")
            dirty_info = {
                "dup_idx": [p[0] for p in picks[:n_dup]],
                "duplicated_customers": [p[1] for p in picks[:n_dup]],
                "future_customer": picks[n_dup][1],
                "zero_customer": picks[n_dup + 1][1],
                "zero_signup_day": picks[n_dup + 1][2],
                "padded_signup_day": con.execute(
                    f"SELECT signup_day FROM cust WHERE i = {PADDED_CUSTOMER_INDEX}"
                ).fetchone()[0],
            }
            # a flag column rather than `i IN (...)` in the big query: the IN list made DuckDB
            # hold far more memory (out-of-memory at 20M orders with a 2GB limit)
            con.execute(
                "UPDATE cust SET dup_customer = true WHERE i IN ("
                + ", ".join(str(i) for i in dirty_info["dup_idx"]) + ")"
            )

        cols = ", ".join(CUSTOMER_COLUMNS) + (", persona" if include_persona else "")
        opts = _copy_options(fmt)
        n_cust = con.execute(
            f"COPY (SELECT {cols} FROM cust ORDER BY i) TO '{cust_path}' ({opts})"
        ).fetchone()[0]
        # Pass 1: generate and sort once (DuckDB's ORDER BY spills beyond memory_limit) into a
        # scratch Parquet file.  Pass 2 streams it back in file order and numbers the rows from
        # Parquet's file_row_number, so ids need no second sort.  A verbatim copy gets the id of
        # the row just before it: id = row number + 1 - (number of copies at or before it).
        sorted_path = Path(spill_dir) / "orders_sorted.parquet"
        query = _orders_sorted_query(customers, seed, start, end, window_days, dirty_info)
        n_sorted = con.execute(
            f"COPY ({query}) TO '{sorted_path}' (FORMAT parquet, COMPRESSION snappy)"
        ).fetchone()[0]
        scan = f"read_parquet('{sorted_path}', file_row_number = true)"
        copies = [r[0] for r in con.execute(
            f"SELECT file_row_number FROM {scan} WHERE is_copy ORDER BY 1").fetchall()]
        shift = " + ".join(f"(file_row_number >= {c})::BIGINT" for c in copies) or "0"
        order_width = max(8, len(str(n_sorted)))
        n_orders = con.execute(
            f"""COPY (
                SELECT 'O' || lpad((file_row_number + 1 - ({shift}))::VARCHAR, {order_width}, '0')
                           AS order_id,
                       customer_id, ordered_at, amount, quantity, status
                FROM {scan}
            ) TO '{orders_path}' ({opts})"""
        ).fetchone()[0]
    finally:
        con.close()
        shutil.rmtree(spill_dir, ignore_errors=True)

    result = {
        "customers_path": str(cust_path),
        "orders_path": str(orders_path),
        "customers_rows": int(n_cust),
        "orders_rows": int(n_orders),
        "orders_target": int(orders),
        "seed": seed,
        "format": fmt,
        "dirty": bool(dirty),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if dirty_info:
        result["dirty_rows"] = {
            "counts": dict(DIRTY_ROW_COUNTS),
            "orphan_customer_ids": list(orphan_customer_ids(customers)),
            "padded_customer_id": padded_customer_id(customers),
            "future_ordered_at": future_timestamp(end).isoformat(sep=" "),
            "future_customer_id": dirty_info["future_customer"],
            "zero_amount_customer_id": dirty_info["zero_customer"],
            "duplicated_customers": dirty_info["duplicated_customers"],
        }
    return result


def generate_demo(seed: int = 42, out_dir: str | Path | None = None) -> dict:
    """The committed demo seeds: 2000 customers, ~16k orders, CSV, dirty rows on."""
    kwargs = dict(DEMO)
    if out_dir is not None:
        kwargs["out_dir"] = out_dir
    return generate(seed=seed, **kwargs)


def generate_cohort_orders(customers: int = 3000, seed: int = 7, start_date: dt.date | str = "2024-01-01",
                           as_of_date: dt.date | str = "2025-07-01") -> pd.DataFrame:
    """A real-cohort-shaped order table (small, in memory, for tests of the naming).

    Shaped like the retail data set of issue 12: every customer makes a first purchase in
    the first quarter after ``start_date`` (so tenure at ``as_of_date`` spans only ~90 days),
    about 60% never buy again, the others buy again at a rate that differs per customer
    (a small group of regulars keeps buying up to the as-of date), so most of the base lapsed
    long ago. Amounts are log-normal. Deterministic: everything is drawn from
    ``numpy.random.default_rng(seed)`` in a fixed order (same numpy version, same rows).

    Parameters
    ----------
    customers : int
    seed : int
    start_date, as_of_date : date or ``YYYY-MM-DD``

    Returns
    -------
    pandas.DataFrame
        ``order_id, customer_id, ordered_at (datetime64), amount (float, > 0)``, sorted by
        ``ordered_at`` then ``customer_id``; every order is before ``as_of_date``.
    """
    start, end = _as_date(start_date), _as_date(as_of_date)
    span = (end - start).days
    if customers < 1 or span <= 120:
        raise ValueError("generate_cohort_orders needs customers >= 1 and as_of_date at least "
                         f"120 days after start_date, got {customers} and {span} days")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 90, size=customers)
    kind = rng.choice(3, size=customers, p=[0.6, 0.3, 0.1])  # one-time, occasional, regular
    rate = np.where(kind == 0, 0.0, np.where(kind == 1, 1 / 120, 1 / 20))  # repeat orders per day
    life = np.where(kind == 2, span, rng.integers(30, 200, size=customers))  # days they keep buying
    rows_c, rows_d = [np.arange(customers)], [first]
    for i in np.flatnonzero(kind > 0):
        last = min(span - 1, int(first[i] + life[i]))
        n = rng.poisson(rate[i] * max(last - int(first[i]), 0))
        if n:
            rows_c.append(np.full(n, i))
            rows_d.append(np.sort(rng.integers(int(first[i]) + 1, last + 1, size=n)))
    cust = np.concatenate(rows_c)
    day = np.concatenate(rows_d)
    amount = np.round(rng.lognormal(mean=3.5, sigma=0.7, size=len(cust)), 2) + 1.0
    frame = pd.DataFrame({
        "customer_id": [f"K{c:05d}" for c in cust],
        "ordered_at": pd.to_datetime(start) + pd.to_timedelta(day, unit="D"),
        "amount": amount,
    }).sort_values(["ordered_at", "customer_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "order_id", [f"Q{i:07d}" for i in range(len(frame))])
    return frame


def _summary(r: dict) -> str:
    return (
        f"datagen: {r['customers_rows']} customers, {r['orders_rows']} orders "
        f"(seed={r['seed']}, {r['format']}, dirty={'on' if r['dirty'] else 'off'}, "
        f"{r['start_date']}..{r['end_date']}) -> {Path(r['orders_path']).parent} "
        f"in {r['seconds']:.2f}s"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m segmentation.datagen",
        description="Deterministic synthetic customers/orders generator (DuckDB SQL).",
    )
    ap.add_argument("--customers", type=int, default=None, help="number of customers")
    ap.add_argument("--orders", type=int, default=None, help="target number of order rows")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default=None)
    ap.add_argument("--out", default=None, help="output directory")
    ap.add_argument("--dirty", action=argparse.BooleanOptionalAction, default=None,
                    help="add the documented dirty order rows (default: off, on for --demo)")
    ap.add_argument("--start-date", default=DEFAULT_START_DATE.isoformat())
    ap.add_argument("--end-date", default=DEFAULT_END_DATE.isoformat())
    ap.add_argument("--with-persona", action="store_true",
                    help="debug: add the hidden persona as a last customers column")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    ap.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT,
                    help=f"DuckDB memory_limit (default {DEFAULT_MEMORY_LIMIT}); spills beyond it")
    ap.add_argument("--demo", action="store_true",
                    help="write seeds/demo/demo_customers.csv and demo_orders.csv "
                         "(2000 customers, ~16000 orders, dirty rows on)")
    a = ap.parse_args(argv)

    if a.demo:
        kw = dict(DEMO)
        for key, val in (("customers", a.customers), ("orders", a.orders), ("fmt", a.fmt),
                         ("out_dir", a.out), ("dirty", a.dirty)):
            if val is not None:
                kw[key] = val
    else:
        if a.customers is None or a.orders is None or a.out is None:
            ap.error("--customers, --orders and --out are required (or use --demo)")
        kw = {"customers": a.customers, "orders": a.orders, "out_dir": a.out,
              "fmt": a.fmt or "csv", "dirty": bool(a.dirty)}
    try:
        r = generate(seed=a.seed, start_date=a.start_date, end_date=a.end_date,
                     include_persona=a.with_persona, threads=a.threads,
                     memory_limit=a.memory_limit, **kw)
    except ValueError as exc:
        print(f"datagen: error: {exc}", file=sys.stderr)
        return 2
    print(_summary(r))
    if r["orders_target"] and abs(r["orders_rows"] - r["orders_target"]) > 0.05 * r["orders_target"]:
        print(f"datagen: note: {r['orders_rows']} order rows vs target {r['orders_target']} "
              "(every ordering customer gets at least one order)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
