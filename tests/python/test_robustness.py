"""Bad input, hostile configuration, reruns and interruptions: nothing is lost silently.

Each bad-input case builds a small hand-made data set through `dbt build` and asserts one
of two outcomes - a clear error naming the problem, or the documented treatment (README,
"Data quality") - and, either way, that every incoming customer is accounted for.
"""
from __future__ import annotations

import csv
from decimal import Decimal
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from dbt_harness import PROJECT_DIR, DbtProject

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
    project, result = build_case(scratch, "hostile_mapping", base_customers(), base_orders(), select=("+customer_segments",))
    assert result.success
    orders_file = str(scratch / "hostile_mapping" / "orders.csv")
    bad = project.dbt("build", "--select", "stg_orders", vars={"orders_input": {
        "file": orders_file, "columns": {"order_id": HOSTILE}}})
    assert not bad.success
    assert f"maps order_id to the column '{HOSTILE}'" in project.messages(bad)
    bad = project.dbt("build", "--select", "int_customers_clustering_input", vars={
        "orders_input": {"file": orders_file}, "cluster_features": [HOSTILE]})
    assert not bad.success
    assert "is not a column of the clustering input" in project.messages(bad)
    assert project.scalar("select count(*) from customer_features") == 12


@pytest.mark.parametrize("overrides,message", [
    ({"n_clusters": 0}, "n_clusters"),
    ({"cluster_scaler": "zscore"}, "scaler"),
    ({"rfm_bins": 12}, "rfm_bins must be an integer from 2 to 9"),
    ({"rfm_bins": 4}, "var rfm_recency_edges_days must be a list of rfm_bins - 1 = 3 increasing numbers"),
    ({"rfm_recency_edges_days": [30, 20, 180, 365]}, "var rfm_recency_edges_days must be strictly increasing"),
    ({"rfm_frequency_method": "ranks"}, "var rfm_frequency_method must be 'quantiles' or 'edges', got: ranks"),
    ({"cluster_log_features": ["gross_revenue"]}, "log_features (var cluster_log_features) must be a subset of features"),
    ({"as_of_date": "31/12/2025"}, "as_of_date must be a date written YYYY-MM-DD"),
    ({"n_cluster": 3}, "Unknown var(s): n_cluster"),
    ({"clustering_mode": "predict"}, "clustering_mode must be 'train' or 'score'"),
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
