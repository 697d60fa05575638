"""Tests for the synthetic data generator (segmentation.datagen).

Everything is generated at small sizes into pytest temp dirs and inspected with DuckDB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import duckdb
import pytest

from segmentation import datagen as dg

START = dg.DEFAULT_START_DATE
END = dg.DEFAULT_END_DATE
N_CUSTOMERS = 2000
N_ORDERS = 16000
REPO_ROOT = Path(__file__).resolve().parents[2]


def _sql(query: str):
    con = duckdb.connect()
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _scalar(query: str):
    return _sql(query)[0][0]


def _md5(path: str | Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    return dg.generate(N_CUSTOMERS, N_ORDERS, seed=42, out_dir=out, fmt="csv", dirty=False,
                       include_persona=True)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    out = tmp_path_factory.mktemp("dirty")
    return dg.generate(N_CUSTOMERS, N_ORDERS, seed=42, out_dir=out, fmt="csv", dirty=True)


def _o(r):  # orders relation
    return f"read_csv('{r['orders_path']}')"


def _c(r):
    return f"read_csv('{r['customers_path']}')"


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_arguments_give_byte_identical_files(tmp_path, fmt):
    kw = dict(customers=500, orders=4000, seed=7, fmt=fmt, dirty=True)
    a = dg.generate(out_dir=tmp_path / "a", **kw)
    b = dg.generate(out_dir=tmp_path / "b", threads=1, **kw)  # parallelism must not matter
    assert _md5(a["customers_path"]) == _md5(b["customers_path"])
    assert _md5(a["orders_path"]) == _md5(b["orders_path"])
    c = dg.generate(out_dir=tmp_path / "c", **{**kw, "seed": 8})
    assert _md5(a["customers_path"]) != _md5(c["customers_path"])
    assert _md5(a["orders_path"]) != _md5(c["orders_path"])


def test_random_draws_are_not_correlated_across_purposes(clean):
    # Regression: hash(i, seed, 'salt') makes draws with different salts ~0.88 correlated,
    # which tied e.g. signup date to the persona.  Within a persona the signup dates must spread.
    rows = _sql(
        f"""select persona, date_diff('day', min(signup_date), max(signup_date))
            from {_c(clean)} group by 1"""
    )
    spans = dict(rows)
    window = (END - START).days
    assert spans["champion"] > 0.4 * window
    assert spans["never_ordered"] > 0.8 * window


# --------------------------------------------------------------------------- schema


def test_csv_columns_in_contract_order(dirty):
    with open(dirty["customers_path"]) as f:
        assert tuple(f.readline().strip().split(",")) == dg.CUSTOMER_COLUMNS
    with open(dirty["orders_path"]) as f:
        assert tuple(f.readline().strip().split(",")) == dg.ORDER_COLUMNS


def test_persona_column_only_on_request(clean, dirty):
    with open(clean["customers_path"]) as f:
        assert f.readline().strip().split(",") == [*dg.CUSTOMER_COLUMNS, "persona"]
    assert "persona" not in open(dirty["customers_path"]).readline()


def test_parquet_types_and_same_content_as_csv(tmp_path, dirty):
    pq = dg.generate(N_CUSTOMERS, N_ORDERS, seed=42, out_dir=tmp_path, fmt="parquet", dirty=True)
    assert pq["orders_path"].endswith("orders.parquet")
    cust_types = dict(_sql(f"select column_name, column_type from (describe '{pq['customers_path']}')"))
    assert list(cust_types) == list(dg.CUSTOMER_COLUMNS)
    assert cust_types["signup_date"] == "DATE" and cust_types["birth_date"] == "DATE"
    assert cust_types["marketing_consent"] == "BOOLEAN"
    ord_types = dict(_sql(f"select column_name, column_type from (describe '{pq['orders_path']}')"))
    assert list(ord_types) == list(dg.ORDER_COLUMNS)
    assert ord_types["ordered_at"] == "TIMESTAMP"
    assert ord_types["amount"] == "DECIMAL(12,2)"
    assert ord_types["quantity"] == "INTEGER"
    for parquet_rel, csv_rel in ((f"'{pq['customers_path']}'", _c(dirty)),
                                 (f"'{pq['orders_path']}'", _o(dirty))):
        diff = _scalar(
            f"""select count(*) from (
                  (select * from {parquet_rel} except all select * from {csv_rel})
                  union all
                  (select * from {csv_rel} except all select * from {parquet_rel}))"""
        )
        assert diff == 0, parquet_rel


def test_id_and_value_formats(dirty):
    assert _scalar(f"select count(*) from {_c(dirty)} where not regexp_full_match(customer_id, 'C[0-9]{{7}}')") == 0
    assert _scalar(f"select count(*) from {_o(dirty)} where not regexp_full_match(order_id, 'O[0-9]{{8}}')") == 0
    ts_pattern = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    lines = Path(dirty["orders_path"]).read_text().splitlines()[1:]
    assert all(len(line.split(",")) == 6 for line in lines)
    assert all(re.fullmatch(ts_pattern, line.split(",")[2]) for line in lines)
    assert all(re.fullmatch(r"-?\d+\.\d{2}", line.split(",")[3]) for line in lines)
    assert _sql(f"select distinct status from {_o(dirty)} order by 1") == [
        ("cancelled",), ("completed",), ("refunded",)]
    assert _sql(f"select distinct gender from {_c(dirty)} order by 1") == [
        ("F",), ("M",), ("X",), (None,)]
    assert _sql(f"select distinct marketing_consent from {_c(dirty)} order by 1") == [
        (False,), (True,)]


def test_ids_sorted_and_chronological(clean):
    ids = [line.split(",", 1)[0] for line in Path(clean["orders_path"]).read_text().splitlines()[1:]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # order ids increase with time in the clean file
    assert _scalar(
        f"""select count(*) from (select ordered_at, lag(ordered_at) over (order by order_id) prev
            from {_o(clean)}) where ordered_at < prev"""
    ) == 0
    cids = [r[0] for r in _sql(f"select customer_id from {_c(clean)}")]
    assert cids == [f"C{i:07d}" for i in range(1, N_CUSTOMERS + 1)]


def test_geography_is_the_fixed_set_and_skewed_to_uk(clean):
    allowed = {(g[0], g[1], g[2]) for g in dg.GEOGRAPHY}
    seen = set(_sql(f"select distinct country, region, city from {_c(clean)}"))
    assert seen <= allowed
    shares = dict(_sql(f"select country, count(*) / {N_CUSTOMERS} from {_c(clean)} group by 1"))
    assert shares["United Kingdom"] == max(shares.values())
    assert 0.45 < shares["United Kingdom"] < 0.6
    assert set(shares) == {"United Kingdom", "United States", "Germany", "France", "Netherlands", "Spain"}
    regions = {r for (c, r) in _sql(f"select distinct country, region from {_c(clean)}") if c == "United Kingdom"}
    assert regions == {"England", "Scotland", "Wales"}


def test_missing_demographics_rates(clean):
    birth_missing, gender_missing = _sql(
        f"select avg((birth_date is null)::int), avg((gender is null)::int) from {_c(clean)}")[0]
    assert 0.015 < birth_missing < 0.05
    assert 0.008 < gender_missing < 0.035


# --------------------------------------------------------------------------- row counts


@pytest.mark.parametrize("customers,orders", [(500, 4000), (2000, 16000), (1000, 30000)])
def test_order_total_close_to_target(tmp_path, customers, orders):
    r = dg.generate(customers, orders, seed=3, out_dir=tmp_path)
    assert r["customers_rows"] == customers
    assert r["customers_rows"] == _scalar(f"select count(*) from {_c(r)}")
    assert r["orders_rows"] == _scalar(f"select count(*) from {_o(r)}")
    assert abs(r["orders_rows"] - orders) <= 0.05 * orders


def test_dirty_file_is_clean_file_plus_exactly_the_dirty_rows(clean, dirty):
    cols = "customer_id, ordered_at, amount, quantity, status"
    extra = _sql(f"select {cols} from {_o(dirty)} except all select {cols} from {_o(clean)}")
    missing = _sql(f"select {cols} from {_o(clean)} except all select {cols} from {_o(dirty)}")
    assert missing == []
    assert len(extra) == dg.DIRTY_EXTRA_ROWS == sum(dg.DIRTY_ROW_COUNTS.values())
    assert dirty["orders_rows"] == clean["orders_rows"] + dg.DIRTY_EXTRA_ROWS
    # customers are identical apart from the debug column
    assert _sql(f"select * exclude (persona) from {_c(clean)} except all select * from {_c(dirty)}") == []


# --------------------------------------------------------------------------- dirty rows


def test_dirty_row_counts_match_the_constant(dirty):
    o, c = _o(dirty), _c(dirty)
    counts = dg.DIRTY_ROW_COUNTS
    assert _scalar(f"select count(*) from {o} where customer_id is null") == counts["empty_customer_id"]
    assert _scalar(f"select count(*) - count(distinct order_id) from {o}") == counts["duplicate_rows"]
    distinct_rows = f"select count(*) from (select distinct * from {o})"
    assert _scalar(f"select count(*) - ({distinct_rows}) from {o}") == counts["duplicate_rows"]
    future = _sql(f"select ordered_at, customer_id from {o} where ordered_at >= date '{END + dt.timedelta(days=1)}'")
    assert len(future) == counts["future_dated"]
    assert future[0][0] == dg.future_timestamp(END) == dt.datetime(2031, 1, 1, 12)
    orphans = _sql(f"""select customer_id from {o} where customer_id is not null
                       and trim(customer_id) not in (select customer_id from {c}) order by 1""")
    assert [x[0] for x in orphans] == list(dg.orphan_customer_ids(N_CUSTOMERS)) == ["C9999998", "C9999999"]
    assert len(orphans) == counts["orphan_customer"]
    assert _scalar(f"select count(*) from {o} where amount = 0") == counts["zero_amount"]
    padded = _sql(f"select customer_id from {o} where customer_id <> trim(customer_id)")
    assert [p[0] for p in padded] == [dg.padded_customer_id(N_CUSTOMERS)] == ["  C0000007 "]
    assert len(padded) == counts["padded_customer_id"]
    # the padded id really appears with its spaces in the CSV text
    assert ",  C0000007 ," in Path(dirty["orders_path"]).read_text()
    info = dirty["dirty_rows"]
    assert info["counts"] == counts
    assert _scalar(f"select count(*) from {o} where customer_id = '{info['future_customer_id']}' "
                   "and ordered_at = '2031-01-01 12:00:00'") == 1
    assert _scalar(f"select count(*) from {o} where customer_id = '{info['zero_amount_customer_id']}' "
                   "and amount = 0") == 1


def test_clean_file_has_none_of_the_dirty_patterns(clean):
    o, c = _o(clean), _c(clean)
    assert _scalar(f"select count(*) from {o} where customer_id is null or customer_id <> trim(customer_id)") == 0
    assert _scalar(f"select count(*) - count(distinct order_id) from {o}") == 0
    assert _scalar(f"select count(*) from {o} where amount = 0") == 0
    assert _scalar(f"select count(*) from {o} where customer_id not in (select customer_id from {c})") == 0
    assert "dirty_rows" not in clean


def test_dirty_rows_of_existing_customers_are_after_signup(dirty):
    # every order whose (trimmed) customer exists is on/after that customer's signup date
    assert _scalar(
        f"""select count(*) from {_o(dirty)} o join {_c(dirty)} c on trim(o.customer_id) = c.customer_id
            where o.ordered_at::date < c.signup_date"""
    ) == 0


# --------------------------------------------------------------------------- integrity


def test_every_non_dirty_order_has_a_customer(dirty):
    non_dirty = f"""select * from {_o(dirty)} where customer_id is not null
                    and customer_id = trim(customer_id)
                    and customer_id not in ({", ".join(f"'{x}'" for x in dg.orphan_customer_ids(N_CUSTOMERS))})"""
    missing = _scalar(f"select count(*) from ({non_dirty}) "
                      f"where customer_id not in (select customer_id from {_c(dirty)})")
    assert missing == 0
    assert _scalar(f"select count(*) from ({non_dirty})") == dirty["orders_rows"] - (
        dg.DIRTY_ROW_COUNTS["empty_customer_id"] + dg.DIRTY_ROW_COUNTS["orphan_customer"]
        + dg.DIRTY_ROW_COUNTS["padded_customer_id"])


def test_customers_without_orders_exist(dirty, clean):
    for r in (dirty, clean):
        no_orders = _scalar(f"select count(*) from {_c(r)} where customer_id not in "
                            f"(select trim(customer_id) from {_o(r)} where customer_id is not null)")
        assert 0.05 * N_CUSTOMERS < no_orders < 0.15 * N_CUSTOMERS
    # ... and they are exactly the never_ordered persona
    rows = _sql(f"""select persona, count(o.customer_id) > 0 as has_orders, count(distinct c.customer_id)
                    from {_c(clean)} c left join {_o(clean)} o using (customer_id) group by all""")
    for persona, has_orders, _ in rows:
        assert has_orders == (persona != "never_ordered"), persona


def test_refunds_cancellations_and_amount_signs(clean):
    o = _o(clean)
    assert _scalar(f"select count(*) from {o} where status = 'refunded' and amount >= 0") == 0
    assert _scalar(f"select count(*) from {o} where status <> 'refunded' and amount <= 0") == 0
    assert _scalar(f"select count(*) from {o} where quantity < 1") == 0
    shares = dict(_sql(f"select status, count(*) / sum(count(*)) over () from {o} group by 1"))
    assert 0.025 < shares["cancelled"] < 0.05
    assert 0.008 < shares["refunded"] < 0.025
    # each refund mirrors an earlier completed purchase of the same customer (1-30 days before)
    unmatched = _scalar(
        f"""select count(*) from {o} r where r.status = 'refunded' and not exists (
                select 1 from {o} p where p.customer_id = r.customer_id and p.status = 'completed'
                  and p.amount = -r.amount and p.quantity = r.quantity
                  and p.ordered_at < r.ordered_at
                  and r.ordered_at <= p.ordered_at + interval 31 day)"""
    )
    assert unmatched == 0


def test_dates_within_range_except_the_planted_future_row(dirty):
    o, c = _o(dirty), _c(dirty)
    end_excl = END + dt.timedelta(days=1)
    outside = _scalar(f"select count(*) from {o} where ordered_at < date '{START}' or ordered_at >= date '{end_excl}'")
    assert outside == dg.DIRTY_ROW_COUNTS["future_dated"]
    assert _scalar(f"select count(*) from {c} where signup_date < date '{START}' or signup_date > date '{END}'") == 0
    assert _scalar(f"select count(*) from {c} where birth_date >= signup_date - interval 18 year") == 0


def test_custom_date_window_is_respected(tmp_path):
    r = dg.generate(300, 3000, seed=1, out_dir=tmp_path, start_date="2025-01-01", end_date="2025-12-31")
    lo, hi = _sql(f"select min(ordered_at), max(ordered_at) from {_o(r)}")[0]
    assert lo >= dt.datetime(2025, 1, 1) and hi < dt.datetime(2026, 1, 1)
    lo, hi = _sql(f"select min(signup_date), max(signup_date) from {_c(r)}")[0]
    assert lo >= dt.date(2025, 1, 1) and hi <= dt.date(2025, 12, 31)


def test_signup_before_first_order(clean):
    assert _scalar(
        f"""select count(*) from {_c(clean)} c join
              (select customer_id, min(ordered_at) first_at from {_o(clean)} group by 1) o using (customer_id)
            where o.first_at::date < c.signup_date"""
    ) == 0


# --------------------------------------------------------------------------- planted structure


@pytest.fixture(scope="module")
def persona_stats(clean):
    rows = _sql(
        f"""with p as (select * from {_o(clean)} where status <> 'refunded')
            select c.persona, count(distinct c.customer_id) as customers,
                   count(p.order_id) / count(distinct c.customer_id) as orders_per_customer,
                   avg(p.amount) as mean_amount,
                   median(date_diff('day', last_at, date '{END}')) as median_recency,
                   avg(date_diff('day', c.birth_date, date '{START}') / 365.25) as mean_age,
                   max(p.ordered_at) as latest, min(c.signup_date) as first_signup,
                   max(n) as max_orders, min(n) as min_orders
            from {_c(clean)} c
            left join p using (customer_id)
            left join (select customer_id, max(ordered_at) as last_at, count(*) n from p group by 1) l
                using (customer_id)
            group by 1"""
    )
    names = ["customers", "orders_per_customer", "mean_amount", "median_recency", "mean_age",
             "latest", "first_signup", "max_orders", "min_orders"]
    return {r[0]: dict(zip(names, r[1:])) for r in rows}


def test_persona_shares(persona_stats):
    assert set(persona_stats) == set(dg.PERSONA_NAMES)
    for p in dg.PERSONAS:
        share = persona_stats[p.name]["customers"] / N_CUSTOMERS
        assert abs(share - p.share) < 0.03, p.name


def test_personas_differ_in_basket_frequency_recency_and_age(persona_stats):
    s = persona_stats
    amt = {k: v["mean_amount"] for k, v in s.items() if k != "never_ordered"}
    assert amt["big_ticket"] > 2 * amt["champion"]
    assert amt["champion"] > amt["loyal"] > amt["bargain_hunter"]
    assert amt["bargain_hunter"] < 0.5 * min(v for k, v in amt.items() if k != "bargain_hunter")
    freq = {k: v["orders_per_customer"] for k, v in s.items()}
    assert freq["champion"] > freq["bargain_hunter"] > freq["loyal"] > freq["lapsed"] > freq["big_ticket"]
    assert freq["never_ordered"] == 0
    rec = {k: v["median_recency"] for k, v in s.items() if k != "never_ordered"}
    assert rec["champion"] < 30 and rec["lapsed"] > 365
    assert rec["champion"] < rec["loyal"] < rec["lapsed"]
    assert s["bargain_hunter"]["mean_age"] + 8 < s["champion"]["mean_age"]


def test_lapsed_and_new_personas(persona_stats):
    half = START + dt.timedelta(days=((END - START).days + 1) // 2)
    assert persona_stats["lapsed"]["latest"] < dt.datetime.combine(half, dt.time())
    new = persona_stats["new"]
    assert new["first_signup"] >= END - dt.timedelta(days=90)
    assert new["min_orders"] == 1 and new["max_orders"] == 2


def test_spend_distribution_is_multimodal_without_persona(dirty):
    # without the debug column: per-customer average basket spans more than an order of magnitude
    p10, p50, p90 = _sql(
        f"""select quantile_cont(aov, [0.1, 0.5, 0.9]) from (
              select customer_id, avg(amount) aov from {_o(dirty)}
              where status = 'completed' and customer_id is not null group by 1)"""
    )[0][0]
    assert p90 / p10 > 8
    assert p10 < 20 < p50 < 80 < p90


# --------------------------------------------------------------------------- CLI / demo


def test_cli_writes_files_and_prints_summary(tmp_path, capsys):
    rc = dg.main(["--customers", "300", "--orders", "2000", "--seed", "5", "--format", "parquet",
                  "--out", str(tmp_path), "--dirty"])
    assert rc == 0
    assert (tmp_path / "customers.parquet").exists() and (tmp_path / "orders.parquet").exists()
    out = capsys.readouterr().out.strip()
    assert out.startswith("datagen: 300 customers, ") and " orders " in out and out.endswith("s")
    assert len(out.splitlines()) == 1


def test_cli_demo_matches_committed_seeds(tmp_path, capsys):
    assert dg.main(["--demo", "--out", str(tmp_path)]) == 0
    for name in ("demo_customers.csv", "demo_orders.csv"):
        fresh = tmp_path / name
        committed = REPO_ROOT / "seeds" / "demo" / name
        assert fresh.exists()
        assert committed.exists(), f"{committed} missing: run python -m segmentation.datagen --demo"
        assert _md5(fresh) == _md5(committed), (
            f"{committed} is stale: regenerate with python -m segmentation.datagen --demo")
    n_cust = _scalar(f"select count(*) from '{tmp_path / 'demo_customers.csv'}'")
    n_ord = _scalar(f"select count(*) from '{tmp_path / 'demo_orders.csv'}'")
    assert n_cust == dg.DEMO["customers"] == 2000
    assert abs(n_ord - dg.DEMO["orders"]) <= 0.05 * dg.DEMO["orders"]
    assert _scalar(f"select count(*) from '{tmp_path / 'demo_orders.csv'}' where customer_id is null") == 3


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        dg.generate(100, 100, out_dir=tmp_path, fmt="json")
    with pytest.raises(ValueError):
        dg.generate(5, 100, out_dir=tmp_path, dirty=True)
    with pytest.raises(ValueError):
        dg.generate(100, 100, out_dir=tmp_path, start_date="2025-01-01", end_date="2025-02-01")
    with pytest.raises(SystemExit):
        dg.main(["--customers", "10"])
