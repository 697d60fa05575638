"""Bad input, hostile configuration, reruns and interruptions: nothing is lost silently.

Each bad-input case builds a small hand-made data set through `dbt build` and asserts one
of two outcomes - a clear error naming the problem, or the documented treatment (README,
"Data quality") - and, either way, that every incoming customer is accounted for.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from dbt_harness import BUILD_SCHEMA, PROJECT_DIR, DbtProject

CUSTOMER_COLUMNS = ["customer_id", "signup_date", "birth_date", "gender", "country", "region",
                    "city", "marketing_consent"]
ORDER_COLUMNS = ["order_id", "customer_id", "ordered_at", "amount", "quantity", "status"]


def base_customers(n: int = 12) -> list[dict]:
    return [{"customer_id": f"K{i:02d}", "signup_date": "2024-01-15", "birth_date": f"{1960 + 3 * i}-05-20",
             "gender": "FM"[i % 2], "country": "United Kingdom", "region": "England", "city": "Leeds",
             "marketing_consent": "true"} for i in range(1, n + 1)]


def base_orders(n: int = 12) -> list[dict]:
    """Customer i buys i times, the last purchase i*7 days before 2025-12-31."""
    rows, order = [], 0
    for i in range(1, n + 1):
        for j in range(i):
            order += 1
            day = pd.Timestamp("2025-12-31") - pd.Timedelta(days=i * 7 + j * 13)
            rows.append({"order_id": f"X{order:04d}", "customer_id": f"K{i:02d}",
                         "ordered_at": f"{day:%Y-%m-%d} 10:00:00", "amount": f"{10 * i + j:.2f}",
                         "quantity": "1", "status": "completed"})
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One target path for the module, so dbt can reuse its parse across cases."""
    return tmp_path_factory.mktemp("robustness")


def build_case(scratch: Path, name: str, customers: list[dict] | None, orders: list[dict],
               extra_vars: dict | None = None, select: tuple[str, ...] = ()):
    folder = scratch / name
    folder.mkdir()
    vars_ = {"orders_input": {"file": str(write_csv(folder / "orders.csv", ORDER_COLUMNS, orders))}}
    if customers is None:
        vars_["customers_input"] = {"enabled": False}
    else:
        vars_["customers_input"] = {"file": str(write_csv(folder / "customers.csv", CUSTOMER_COLUMNS, customers))}
    vars_.update(extra_vars or {})
    project = DbtProject(PROJECT_DIR, database=folder / "case.duckdb", target_path=scratch / "target")
    args = ["build", "--exclude-resource-type", "unit_test"]
    if select:
        args += ["--select", *select]
    return project, project.dbt(*args, vars=vars_)


def incoming_ids(customers: list[dict] | None, orders: list[dict]) -> set[str]:
    ids = {(r.get("customer_id") or "").strip() for r in (customers or []) + orders}
    return {i for i in ids if i}


def assert_accounted(project: DbtProject, expected_ids: set[str]) -> pd.DataFrame:
    """Every incoming customer is segmented, unclassified with a reason, or excluded with a reason."""
    universe = project.query("select customer_id, exclusion_reason from int_customers_unioned")
    segments = project.query("select * from customer_segments")
    assert set(universe["customer_id"]) == expected_ids
    included = set(universe.loc[universe["exclusion_reason"].isna(), "customer_id"])
    assert set(segments["customer_id"]) == included and segments["customer_id"].is_unique
    assert segments["business_segment"].notna().all() and segments["rfm_segment"].notna().all()
    unclassified = segments[segments["cluster_status"] == "unclassified"]
    assert unclassified["cluster_unclassified_reason"].notna().all()
    assert segments.loc[segments["cluster_status"] == "classified", "cluster_id"].notna().all()
    return segments


def report(project: DbtProject) -> pd.Series:
    return project.query("select check_name, rows_affected from data_quality_report").set_index(
        "check_name")["rows_affected"]


# --- the bad-input matrix ---------------------------------------------------------------

def test_null_customer_id_is_counted_not_attributed(scratch):
    orders = base_orders() + [{"order_id": "N1", "customer_id": "", "ordered_at": "2025-12-01 09:00:00",
                               "amount": "55.00", "quantity": "1", "status": "completed"}]
    project, result = build_case(scratch, "null_id", base_customers(), orders)
    assert result.success, project.failure_summary(result)
    assert report(project)["missing_customer_id"] == 1
    assert_accounted(project, incoming_ids(base_customers(), orders))


def test_negative_zero_and_oversized_refunds(scratch):
    orders = base_orders() + [
        {"order_id": "R1", "customer_id": "K03", "ordered_at": "2025-12-20 09:00:00", "amount": "-20.00"},
        {"order_id": "Z1", "customer_id": "K04", "ordered_at": "2025-12-20 09:00:00", "amount": "0"},
        {"order_id": "R2", "customer_id": "K01", "ordered_at": "2025-12-30 09:00:00", "amount": "-500.00"},
    ]
    project, result = build_case(scratch, "refunds", base_customers(), orders)
    assert result.success, project.failure_summary(result)
    features = project.query("select * from customer_features").set_index("customer_id")
    # K03 bought 30 + 31 + 32 = 93 and got 20 back; K01 bought 10 and got 500 back.
    assert float(features.loc["K03", "monetary"]) == 73.0
    assert features.loc["K03", "cancellation_count"] == 1 and features.loc["K03", "frequency"] == 3
    assert float(features.loc["K01", "monetary"]) == -490.0
    assert features.loc["K04", "frequency"] == 4  # the zero order is not a purchase
    checks = report(project)
    assert checks["refund_orders"] == 2 and checks["zero_amount_orders"] == 1
    assert checks["negative_net_monetary"] == 1
    segments = assert_accounted(project, incoming_ids(base_customers(), orders))
    assert segments.set_index("customer_id").loc["K01", "cluster_status"] == "classified"


def test_duplicate_order_ids_with_different_amounts_are_lines_of_one_order(scratch):
    orders = base_orders() + [
        {"order_id": "D1", "customer_id": "K02", "ordered_at": "2025-12-28 09:00:00", "amount": "5.00"},
        {"order_id": "D1", "customer_id": "K02", "ordered_at": "2025-12-28 09:00:00", "amount": "7.50"},
        {"order_id": "D1", "customer_id": "K02", "ordered_at": "2025-12-28 09:00:00", "amount": "7.50"},
    ]
    project, result = build_case(scratch, "dup_ids", base_customers(), orders)
    assert result.success, project.failure_summary(result)
    features = project.query("select * from customer_features").set_index("customer_id")
    # K02 had 20 + 21; D1 adds one order of 5 + 7.5 (the exact duplicate line is dropped).
    assert features.loc["K02", "frequency"] == 3 and float(features.loc["K02", "monetary"]) == 53.5
    assert report(project)["exact_duplicate_row"] == 1
    assert_accounted(project, incoming_ids(base_customers(), orders))


def test_future_and_unparseable_dates(scratch):
    orders = base_orders() + [
        {"order_id": "F1", "customer_id": "K05", "ordered_at": "2099-01-01 00:00:00", "amount": "99.00"},
        {"order_id": "U1", "customer_id": "K06", "ordered_at": "31/02/2025 25:61", "amount": "11.00"},
        {"order_id": "U2", "customer_id": "NEW1", "ordered_at": "yesterday", "amount": "11.00"},
        {"order_id": "F2", "customer_id": "NEW2", "ordered_at": "2099-01-01 00:00:00", "amount": "11.00"},
    ]
    project, result = build_case(scratch, "dates", base_customers(), orders)
    assert result.success, project.failure_summary(result)
    assert str(project.scalar("select as_of_date from int_as_of_date"))[:10] == "2025-12-24"
    checks = report(project)
    assert checks["after_as_of_date"] == 2 and checks["unparseable_ordered_at"] == 2
    assert checks["only_orders_after_as_of_date"] == 1  # NEW2 is not a customer yet
    segments = assert_accounted(project, incoming_ids(base_customers(), orders))
    assert "NEW2" not in set(segments["customer_id"]) and "NEW1" in set(segments["customer_id"])


def test_empty_orders_table(scratch):
    project, result = build_case(scratch, "empty_orders", base_customers(), [])
    assert result.success, project.failure_summary(result)
    segments = assert_accounted(project, incoming_ids(base_customers(), []))
    assert (segments["rfm_segment"] == "No Purchases").all()
    # No orders: recency is all null and frequency/monetary constant, so those features are
    # dropped (and recorded); the customers are clustered on what is left (tenure, age).
    dropped = project.scalar("select dropped_features_json from cluster_models")
    assert all(name in dropped for name in ("recency_days", "frequency", "monetary"))
    # (every base customer signed up the same day, so tenure is constant too)
    assert "tenure_days" in dropped
    assert set(project.query("select feature_name from cluster_preprocessing")["feature_name"]) == {"age"}
    assert project.scalar("select as_of_date_source from int_as_of_date") == "build date (no dated orders)"


@pytest.mark.parametrize("n_customers", [1, 3])
def test_one_and_few_customers(scratch, n_customers):
    customers, orders = base_customers(n_customers), base_orders(n_customers)
    project, result = build_case(scratch, f"tiny_{n_customers}", customers, orders)
    assert result.success, project.failure_summary(result)
    segments = assert_accounted(project, incoming_ids(customers, orders))
    if n_customers == 1:
        assert (segments["cluster_status"] == "unclassified").all()
        assert segments["cluster_unclassified_reason"].str.contains("too few").all()


def test_more_clusters_than_customers_is_a_clear_error(scratch):
    customers, orders = base_customers(5), base_orders(5)
    project, result = build_case(scratch, "k_too_big", customers, orders, {"n_clusters": 8})
    assert not result.success
    assert "n_clusters" in project.messages(result)


def test_constant_and_all_null_feature_columns_are_dropped_with_a_note(scratch):
    customers = [dict(c, birth_date="") for c in base_customers()]
    folder = scratch / "survey"
    folder.mkdir()
    survey = pd.DataFrame({"id": [f"K{i:02d}" for i in range(1, 13)], "score": [float(i % 4) for i in range(12)],
                           "constant": [7.0] * 12, "empty": [None] * 12, "spend": [10.0 * i for i in range(12)]})
    survey.to_csv(folder / "survey.csv", index=False)
    project, result = build_case(scratch, "columns", customers, base_orders(), {
        "clustering_input": {"file": str(folder / "survey.csv"), "id_column": "id"},
        "cluster_features": ["score", "constant", "empty", "spend"], "cluster_optional_features": [],
        "cluster_log_features": []})
    assert result.success, project.failure_summary(result)
    dropped = project.scalar("select dropped_features_json from cluster_models")
    assert "constant" in dropped and "empty" in dropped
    features = set(project.query("select feature_name from cluster_preprocessing")["feature_name"])
    assert features == {"score", "spend"}
    assert project.scalar("select count(*) from customer_features where age is not null") == 0
    assert_accounted(project, incoming_ids(customers, base_orders()))


def test_extreme_outlier_amount(scratch):
    orders = base_orders() + [{"order_id": "BIG", "customer_id": "K07", "ordered_at": "2025-12-01 09:00:00",
                               "amount": "1000000000000.00"}]
    project, result = build_case(scratch, "outlier", base_customers(), orders)
    assert result.success, project.failure_summary(result)
    monetary = project.scalar("select cast(monetary as varchar) from customer_features where customer_id = 'K07'")
    assert Decimal(monetary) == Decimal("1000000000000") + sum(70 + j for j in range(7))
    segments = assert_accounted(project, incoming_ids(base_customers(), orders))
    assert segments.set_index("customer_id").loc["K07", "cluster_status"] == "classified"


def test_unicode_and_very_long_ids_survive_unchanged(scratch):
    long_id = "Ü" + "x" * 300 + "✓"
    customers = base_customers() + [{"customer_id": "Zoë-東京", "signup_date": "2024-02-01"},
                                     {"customer_id": long_id, "signup_date": "2024-02-01"}]
    orders = base_orders() + [
        {"order_id": "ü1", "customer_id": "Zoë-東京", "ordered_at": "2025-12-01 09:00:00", "amount": "12.00"},
        {"order_id": "ü2", "customer_id": long_id, "ordered_at": "2025-11-01 09:00:00", "amount": "13.00"},
    ]
    project, result = build_case(scratch, "unicode", customers, orders)
    assert result.success, project.failure_summary(result)
    segments = assert_accounted(project, incoming_ids(customers, orders))
    assert {"Zoë-東京", long_id} <= set(segments["customer_id"])


def test_customer_in_orders_missing_from_customers(scratch):
    orders = base_orders() + [{"order_id": "O1", "customer_id": "GHOST", "ordered_at": "2025-12-01 09:00:00",
                               "amount": "12.00"}]
    project, result = build_case(scratch, "ghost", base_customers(), orders)
    assert result.success, project.failure_summary(result)
    assert report(project)["customers_only_in_orders"] == 1
    features = project.query("select * from customer_features where customer_id = 'GHOST'")
    assert len(features) == 1 and not features.loc[0, "is_in_customers_input"]
    assert pd.isna(features.loc[0, "country"])
    assert_accounted(project, incoming_ids(base_customers(), orders))


def test_mapped_column_missing_from_the_file(scratch):
    folder = scratch / "bad_mapping"
    folder.mkdir()
    orders_file = write_csv(folder / "orders.csv", ORDER_COLUMNS, base_orders())
    project = DbtProject(PROJECT_DIR, database=folder / "case.duckdb", target_path=scratch / "target")
    result = project.dbt("build", "--select", "stg_orders", vars={
        "orders_input": {"file": str(orders_file), "columns": {"amount": "Amount_EUR"}}})
    assert not result.success
    message = project.messages(result)
    assert "maps amount to the column 'Amount_EUR'" in message
    assert "order_id, customer_id, ordered_at, amount, quantity, status" in message


# --- hostile configuration ------------------------------------------------------------

HOSTILE = "'; drop table customer_features; --"


def test_hostile_column_mapping_and_feature_name(scratch):
    project, result = build_case(scratch, "hostile_mapping", base_customers(), base_orders(),
                                 select=("+customer_segments",))
    assert result.success
    orders_file = str(scratch / "hostile_mapping" / "orders.csv")
    bad = project.dbt("build", "--select", "stg_orders", vars={"orders_input": {
        "file": orders_file, "columns": {"order_id": HOSTILE}}})
    assert not bad.success
    assert f"maps order_id to the column '{HOSTILE}'" in project.messages(bad)
    bad = project.dbt("build", "--select", "int_customers_clustering_input", vars={
        "orders_input": {"file": orders_file}, "cluster_features": [HOSTILE],
        "cluster_optional_features": [], "cluster_log_features": []})
    assert not bad.success
    assert "is not a column of the clustering input" in project.messages(bad)
    assert project.scalar("select count(*) from customer_features") == 12


@pytest.mark.parametrize("overrides,message", [
    ({"n_clusters": 0}, "n_clusters"),
    ({"cluster_scaler": "zscore"}, "scaler"),
    ({"rfm_bins": 12}, "rfm_bins must be an integer from 2 to 9"),
    ({"rfm_bins": 4}, "var rfm_recency_edges_days must be a list of rfm_bins - 1 = 3 increasing numbers"),
    ({"rfm_recency_edges_days": [30, 20, 180, 365]}, "var rfm_recency_edges_days must be strictly increasing"),
    ({"rfm_frequency_method": "ranks"}, 'var rfm_frequency_method must be one of quantiles, edges, got: "ranks"'),
    ({"cluster_log_features": ["gross_revenue"]},
     "var cluster_log_features must list features of cluster_features; not one: [\"gross_revenue\"]"),
    ({"as_of_date": "31/12/2025"}, "as_of_date must be a date written YYYY-MM-DD"),
    ({"n_cluster": 3}, "Unknown var(s): n_cluster"),
    ({"clustering_mode": "predict"}, 'var clustering_mode must be one of train, score, got: "predict"'),
])
def test_out_of_range_settings_fail_with_a_message(scratch, overrides, message):
    name = "settings_" + hashlib.md5(repr(overrides).encode()).hexdigest()[:8]
    project, result = build_case(scratch, name, base_customers(), base_orders(), overrides)
    assert not result.success
    assert message in project.messages(result)


def test_training_sample_larger_than_the_data_uses_everyone(scratch):
    project, result = build_case(scratch, "big_sample", base_customers(), base_orders(),
                                 {"training_sample_size": 10_000_000})
    assert result.success, project.failure_summary(result)
    assert project.scalar("select n_training_sample from cluster_models") == 12


def test_known_vars_list_matches_dbt_project():
    declared = set(yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"])
    macro = (PROJECT_DIR / "macros/config/validate_vars.sql").read_text()
    listed = set(re.findall(r"'([a-z_]+)'", macro.split("set known = [")[1].split("]")[0]))
    assert declared == listed


# --- time, ids and file readers (issue 11) ----------------------------------------------

def _order(order_id, customer_id, ordered_at, amount="20.00"):
    return {"order_id": order_id, "customer_id": customer_id, "ordered_at": ordered_at,
            "amount": amount, "quantity": "1", "status": "completed"}


@pytest.fixture(scope="module")
def dated_case(scratch):
    """One build for the time and id findings: they touch different lines and customers."""
    customers = base_customers() + [
        {"customer_id": "BAD_BIRTH", "signup_date": "2024-01-15", "birth_date": "31/02/1990"},
        {"customer_id": "BAD_SIGNUP", "signup_date": "soon", "birth_date": "1980-01-01"},
    ]
    orders = base_orders() + [
        _order("TZ1", "K03", "2025-12-01T23:30:00-05:00"),    # 04:30 UTC on 2 December
        _order("TZ2", "K03", "2025-12-02 10:15:00+0530"),     # 04:45 UTC
        _order("TZ3", "K03", "2025-12-02T09:00:00Z"),
        _order("OLD1", "K04", "0001-01-01 00:00:00"),
        _order("OLD2", "K04", "1900-05-01"),
        _order("OLD3", "OLDONLY", "0044-03-15 (BC)"),
        _order("OLD4", "K04", "epoch"),
        _order("ID1", "12", "2025-11-01 10:00:00"),
        _order("ID2", "12.0", "2025-11-02 10:00:00"),
        _order("ID3", "12.00", "2025-11-03 10:00:00"),
        _order("BB1", "BAD_BIRTH", "2025-11-03 10:00:00"),
        _order("BS1", "BAD_SIGNUP", "2025-11-03 10:00:00"),
    ]
    project, result = build_case(scratch, "dated", customers, orders)
    assert result.success, project.failure_summary(result)
    return project, customers, orders


def test_timestamps_with_offsets_are_read_as_utc(dated_case):
    project, _, _ = dated_case
    lines = project.query("select order_id, cast(ordered_at as varchar) as at from int_order_lines_checked "
                          "where order_id like 'TZ%' order by 1")
    assert lines["at"].tolist() == ["2025-12-02 04:30:00", "2025-12-02 04:45:00", "2025-12-02 09:00:00"]


def test_order_dates_before_min_order_date_are_excluded_and_counted(dated_case):
    project, customers, orders = dated_case
    reasons = project.query("select order_id, exclusion_reason from int_order_lines_checked "
                            "where order_id like 'OLD%' order by 1").set_index("order_id")["exclusion_reason"]
    # year 1, 1900 and a BC date are before the floor; the word 'epoch' is not a date at all
    assert reasons.to_dict() == {"OLD1": "before_min_order_date", "OLD2": "before_min_order_date",
                                 "OLD3": "before_min_order_date", "OLD4": "unparseable_ordered_at"}
    checks = report(project)
    assert checks["before_min_order_date"] == 3 and checks["unparseable_ordered_at"] == 1
    # K04's tenure comes from its real orders and signup date, not from year 1
    assert project.scalar("select max(tenure_days) from customer_features") == (
        pd.Timestamp("2025-12-24") - pd.Timestamp("2024-01-15")).days
    # OLDONLY has no order that counts: it is a customer without purchases, not lost
    assert project.scalar("select has_purchases from customer_features where customer_id = 'OLDONLY'") is False


def test_min_order_date_is_validated(scratch):
    project, result = build_case(scratch, "bad_floor", base_customers(), base_orders(),
                                 {"min_order_date": "1.1.1970"}, select=("stg_orders",))
    assert not result.success
    assert "var min_order_date must be a date written YYYY-MM-DD" in project.messages(result)


def test_unreadable_customer_dates_are_counted_and_named(dated_case):
    project, _, _ = dated_case
    checks = report(project)
    assert checks["unreadable_birth_date"] == 1 and checks["unreadable_signup_date"] == 1
    reasons = project.query("select customer_id, cluster_status, cluster_unclassified_reason from customer_segments "
                            "where customer_id in ('BAD_BIRTH', 'BAD_SIGNUP') order by 1")
    reasons = reasons.astype(object).where(reasons.notna(), None)
    assert reasons.to_dict("records") == [
        {"customer_id": "BAD_BIRTH", "cluster_status": "unclassified", "cluster_unclassified_reason": "unreadable age"},
        # tenure falls back to the first order, so BAD_SIGNUP is still classified
        {"customer_id": "BAD_SIGNUP", "cluster_status": "classified", "cluster_unclassified_reason": None},
    ]
    assert project.scalar("select tenure_days from customer_features where customer_id = 'BAD_SIGNUP'") == 51


def test_ids_merged_by_normalisation_are_counted(dated_case):
    project, customers, orders = dated_case
    checks = report(project)
    # '12', '12.0' and '12.00' are one customer with three orders; two forms were merged
    assert checks["customer_ids_merged_in_orders"] == 2
    assert checks["customer_ids_merged_in_customers_input"] == 0
    assert project.scalar("select frequency from customer_features where customer_id = '12'") == 3
    universe = set(project.query("select customer_id from int_customers_unioned")["customer_id"])
    merged = {"12.0", "12.00"}
    assert universe == incoming_ids(customers, orders) - merged


def test_ids_kept_apart_when_normalisation_is_off(scratch):
    orders = base_orders() + [_order("ID1", "12", "2025-11-01 10:00:00"), _order("ID2", "12.0", "2025-11-02 10:00:00")]
    project, result = build_case(scratch, "ids_apart", base_customers(), orders, {
        "orders_input": {"file": str(scratch / "ids_apart" / "orders.csv"), "normalize_ids": False}},
        select=("+int_customers_unioned",))
    assert result.success, project.failure_summary(result)
    universe = set(project.query("select customer_id from int_customers_unioned")["customer_id"])
    assert {"12", "12.0"} <= universe and len(universe) == 14


def test_results_do_not_depend_on_the_machine_time_zone(scratch):
    """A Parquet TIMESTAMP WITH TIME ZONE column and CSV offsets, built under two TZ values."""
    folder = scratch / "tz"
    folder.mkdir()
    parquet = folder / "orders.parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"""copy (
            select order_id, customer_id, cast(ordered_at as timestamptz) as ordered_at, amount, status
            from (values
                ('P1', 'A', '2025-06-30 22:00:00+00', 10.0, 'completed'),
                ('P2', 'A', '2025-06-01 12:00:00+00', 15.0, 'completed'),
                ('P3', 'B', '2025-06-30 16:30:00+00', 20.0, 'completed'),
                ('P4', 'C', '2025-05-31 23:59:00+00', 5.0, 'completed')
            ) as t(order_id, customer_id, ordered_at, amount, status)
        ) to '{parquet}' (format parquet)""")
    vars_ = {"orders_input": {"file": str(parquet)}, "customers_input": {"enabled": False}}
    outcomes = {}
    for zone in ("UTC", "Asia/Tokyo"):
        database = folder / f"{zone.replace('/', '_')}.duckdb"
        env = {**os.environ, "TZ": zone, "SEGMENTATION_DUCKDB_PATH": str(database),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        done = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "build", "--select", "+customer_features",
             "--indirect-selection", "cautious",
             "--exclude-resource-type", "unit_test", "--project-dir", str(PROJECT_DIR),
             "--profiles-dir", str(PROJECT_DIR), "--target-path", str(folder / f"target_{zone[:3]}"),
             "--vars", yaml.safe_dump(vars_, default_flow_style=True, width=10**6)],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:]
        with duckdb.connect(str(database), read_only=True) as con:
            con.execute(f"set search_path = '{BUILD_SCHEMA}'")  # a partial build: never published
            outcomes[zone] = (
                con.sql("select cast(as_of_date as varchar) from int_as_of_date").fetchall(),
                # What the build stored (the checks are a view, read in this process).
                con.sql("select order_id, cast(ordered_at as varchar), cast(order_date as varchar) "
                        "from int_order_lines_grouped order by 1").fetchall(),
                con.sql("select customer_id, recency_days, tenure_days, frequency from customer_features "
                        "order by 1").fetchall(),
            )
    assert outcomes["UTC"] == outcomes["Asia/Tokyo"]
    assert outcomes["UTC"][0] == [("2025-06-30",)]
    assert outcomes["UTC"][1][0] == ("P1", "2025-06-30 22:00:00", "2025-06-30")
    assert outcomes["UTC"][2] == [("A", 0, 29, 2), ("B", 0, 0, 1), ("C", 30, 30, 1)]


def test_latin1_file_and_european_number_format(scratch):
    folder = scratch / "readers"
    folder.mkdir()
    customers = folder / "customers.csv"
    customers.write_bytes("customer_id,city,signup_date\nK01,Köln,2024-01-15\nK02,München,2024-01-15\n"
                          .encode("latin-1"))
    orders = folder / "orders.csv"
    orders.write_text("order_id;customer_id;ordered_at;amount\n"
                      "E1;K01;2025-12-01 10:00:00;12,50\nE2;K01;2025-12-02 10:00:00;1.234,56\n"
                      "E3;K02;2025-12-03 10:00:00;-3,10\n", encoding="utf-8")
    project = DbtProject(PROJECT_DIR, database=folder / "case.duckdb", target_path=scratch / "target")
    result = project.dbt("build", "--select", "+customer_features", "--exclude-resource-type", "unit_test", vars={
        "orders_input": {"file": str(orders), "delimiter": ";", "decimal_separator": ","},
        "customers_input": {"file": str(customers), "encoding": "latin-1"}})
    assert result.success, project.failure_summary(result)
    # One line per order here, so each stored order row holds one line's amount.
    amounts = project.query("select order_id, amount from int_order_lines_grouped order by 1")
    assert [Decimal(str(a)) for a in amounts["amount"]] == [Decimal("12.5"), Decimal("1234.56"), Decimal("-3.1")]
    cities = project.query("select customer_id, city, monetary from customer_features order by 1")
    assert cities["city"].tolist() == ["Köln", "München"]
    monetary = [Decimal(str(m)).quantize(Decimal("0.01")) for m in cities["monetary"]]
    assert monetary == [Decimal("1247.06"), Decimal("-3.10")]


def test_mixed_line_endings_read_with_a_reader_option(scratch):
    folder = scratch / "line_endings"
    folder.mkdir()
    orders = folder / "orders.csv"
    orders.write_bytes(b"order_id,customer_id,ordered_at,amount,status\r\n"
                       b"M1,K01,2025-12-01 10:00:00,10.00,completed\n"
                       b"M2,K02,2025-12-02 10:00:00,20.00,completed\r\n"
                       b"M3,K03,2025-12-03 10:00:00,30.00,cancelled\n")
    project = DbtProject(PROJECT_DIR, database=folder / "case.duckdb", target_path=scratch / "target")
    result = project.dbt("build", "--select", "stg_orders", vars={
        "orders_input": {"file": str(orders), "read_options": {"strict_mode": False}},
        "customers_input": {"enabled": False}})
    assert result.success, project.failure_summary(result)
    lines = project.query("select order_id, customer_id, amount, order_status, is_flagged_cancelled "
                          "from stg_orders order by 1")
    assert lines["order_status"].tolist() == ["completed", "completed", "cancelled"]
    assert lines["is_flagged_cancelled"].tolist() == [False, False, True]
    assert [float(a) for a in lines["amount"]] == [10.0, 20.0, 30.0]


@pytest.mark.parametrize("read_options,message", [
    ({"ignore_errors": True}, "orders_input.read_options: 'ignore_errors' is not an accepted read_csv option"),
    ({"skip": "1; drop table x"}, "var orders_input.read_options.skip must be a whole number from 0"),
])
def test_reader_options_are_whitelisted(scratch, read_options, message):
    name = "reader_" + hashlib.md5(repr(read_options).encode()).hexdigest()[:8]
    folder = scratch / name
    folder.mkdir()
    orders = write_csv(folder / "orders.csv", ORDER_COLUMNS, base_orders())
    project = DbtProject(PROJECT_DIR, database=folder / "case.duckdb", target_path=scratch / "target")
    result = project.dbt("build", "--select", "stg_orders", vars={
        "orders_input": {"file": str(orders), "read_options": read_options}})
    assert not result.success
    assert message in project.messages(result)


def test_a_wholly_unreadable_file_fails_naming_the_reason_and_setting(scratch):
    """A European file read without its settings: every amount is unparseable."""
    orders = [{**row, "amount": row["amount"].replace(".", ",")} for row in base_orders()]
    project, result = build_case(scratch, "all_excluded", base_customers(), orders, select=("+int_orders_aggregated",))
    assert not result.success
    message = project.messages(result)
    assert "Every line of the orders input is excluded. Main reason: unparseable_amount (78 lines)" in message
    assert "orders_input.decimal_separator" in message


@pytest.mark.parametrize("share,succeeds", [(None, False), (0.7, True)])
def test_more_than_max_excluded_line_share_fails(scratch, share, succeeds):
    orders = base_orders()  # 78 lines; 47 of them (60%) made unreadable
    orders = [{**row, "ordered_at": "n/a"} if i < 47 else row for i, row in enumerate(orders)]
    extra = {} if share is None else {"max_excluded_line_share": share}
    project, result = build_case(scratch, f"share_{share}", base_customers(), orders, extra,
                                 select=("+int_orders_aggregated",))
    assert result.success == succeeds, project.failure_summary(result)
    if not succeeds:
        assert ("47 of 78 lines of the orders input are excluded (60.3%, more than var "
                "max_excluded_line_share = 0.5). Main reason: unparseable_ordered_at (47 lines). "
                "Check orders_input.timestamp_format") in project.messages(result)
