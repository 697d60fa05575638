"""The project installed as a dbt package in another dbt project (integration_tests/).

integration_tests/ is an analytics engineer's own project: its packages.yml installs this
repository with `local: ../`, its seeds have another column layout (line_ref, buyer,
purchased, units x price_each, state; client, joined_on, born, nation, newsletter) mapped by
vars under `customer_segmentation:`, and it replaces the package's business rules with its
own seed. The test copies the package and the host project to a scratch folder, runs
`dbt deps` and `dbt build` there, and checks hand-computed values in the host's schema.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dbt_harness import PROJECT_DIR, DbtProject

HOST = "integration_tests"
AS_OF = "2026-06-30"


def _host_copy(workdir: Path) -> DbtProject:
    """The package (only what dbt reads) with the host project inside it, as in the repo."""
    package = DbtProject.copy_of(PROJECT_DIR, workdir / "package")
    shutil.copytree(PROJECT_DIR / HOST, package.project_dir / HOST,
                    ignore=shutil.ignore_patterns("dbt_packages", "target", "logs",
                                                  "package-lock.yml", "*.duckdb"))
    host_dir = package.project_dir / HOST
    host = DbtProject(host_dir, database=workdir / "host.duckdb", target_path=workdir / "target")
    host.env["INTEGRATION_DUCKDB_PATH"] = str(host.database)
    return host


@pytest.fixture(scope="module")
def host_build(tmp_path_factory) -> DbtProject:
    host = _host_copy(tmp_path_factory.mktemp("integration_tests"))
    host.dbt("deps", expect_success=True)
    assert (host.project_dir / "dbt_packages" / "customer_segmentation").exists()
    result = host.dbt("build")
    assert result.success, host.failure_summary(result)
    return host


def test_every_package_node_builds_in_the_hosts_schema(host_build):
    def tables_in(schema: str) -> set[str]:
        return set(host_build.query(
            f"select table_name from information_schema.tables where table_schema = '{schema}'")["table_name"])

    published, built = tables_in("main"), tables_in("main_build")
    # What BI reads is published into the host's schema (write-audit-publish works in the host).
    for name in ("customer_features", "customer_segments", "cluster_models",
                 "customer_clusters", "cluster_assignments_sql", "segment_profiles",
                 "segment_cards", "segment_size_history", "segment_transitions",
                 "data_quality_report", "customer_segments_snapshot", "published_build"):
        assert name in published, name
    # Staging and the host's own seeds are built, in the build schema.
    tables = published | built
    for name in ("stg_orders", "shop_order_lines", "shop_clients"):
        assert name in tables, name
    # The demo inputs are off when installed as a package; the host's own rules replaced ours.
    assert "demo_orders" not in tables and "demo_customers" not in tables


def test_mapped_columns_give_the_hand_computed_features(host_build):
    features = host_build.query(
        "select customer_id, frequency, cast(monetary as double) as monetary, recency_days,"
        " tenure_days, age, age_band, country, has_marketing_consent, cancellation_count,"
        " cast(as_of_date as varchar) as as_of_date from customer_features order by customer_id")
    rows = {row.customer_id: row for row in features.itertuples()}
    # Every client of the host is a customer, the one without orders too.
    assert list(rows) == ["K1", "K2", "K3", "K4", "K5", "K6"]
    assert set(features["as_of_date"]) == {AS_OF}
    expected = {
        # id: (frequency, monetary, recency_days, tenure_days, cancellations)
        "K1": (3, 620.0, 10, 272, 0),   # A-100 is two lines (2 x 50 + 1 x 20), then 200, 300
        "K2": (1, 0.0, 135, 161, 1),    # 40 bought, 40 refunded (a negative line)
        "K3": (1, 100.0, 29, 46, 1),    # 4 x 25; the 30 order has state 'void' = cancelled
        "K4": (2, 3000.0, 179, 231, 0),
        "K5": (1, 15.0, 5, 29, 0),
    }
    for customer, (frequency, monetary, recency, tenure, cancellations) in expected.items():
        row = rows[customer]
        assert (row.frequency, row.monetary, row.recency_days, row.tenure_days,
                row.cancellation_count) == (frequency, monetary, recency, tenure, cancellations), customer
    assert rows["K6"].frequency == 0 and rows["K6"].monetary == 0.0
    assert rows["K1"].age == 46 and rows["K4"].age == 63 and str(rows["K3"].age) == "<NA>"
    assert rows["K4"].age_band == "55-64" and rows["K1"].country == "Denmark"
    assert [rows[k].has_marketing_consent for k in ("K1", "K2")] == [True, False]


def test_the_hosts_business_rules_replace_the_packages(host_build):
    segments = host_build.query(
        "select customer_id, business_segment, rfm_segment, cluster_status"
        " from customer_segments order by customer_id")
    assert dict(zip(segments["customer_id"], segments["business_segment"])) == {
        "K1": "Regular", "K2": "Occasional", "K3": "Nordic newcomer", "K4": "Big spender",
        "K5": "Nordic newcomer", "K6": "Never purchased"}
    assert dict(zip(segments["customer_id"], segments["rfm_segment"]))["K6"] == "No Purchases"
    # Every customer is either clustered or unclassified with a reason (K3 has no age, K6 no orders).
    reasons = host_build.query(
        "select customer_id, cluster_unclassified_reason from customer_segments"
        " where cluster_status = 'unclassified' order by customer_id")
    assert list(reasons["customer_id"]) == ["K3", "K6"]
    assert reasons["cluster_unclassified_reason"].notna().all()
    profiles = host_build.query(
        "select segmentation_type, sum(customers) as customers from segment_profiles group by 1")
    assert set(profiles["customers"]) == {6}


def test_data_quality_report_counts_the_hosts_refund_and_cancellation(host_build):
    counted = dict(host_build.query(
        "select check_name, rows_affected from data_quality_report")
        .itertuples(index=False, name=None))
    assert counted["refund_orders"] == 1 and counted["cancelled_orders"] == 1


def test_without_an_input_var_the_package_names_the_var_to_set(tmp_path):
    host = _host_copy(tmp_path)
    host.dbt("deps", expect_success=True)
    result = host.dbt("parse", vars={"orders_input": {}})
    assert not result.success
    message = host.messages(result)
    assert "var orders_input" in message and "demo data is off" in message


@pytest.mark.parametrize("orders_input, expected", [
    ({"ref": "shop_order_lines", "file": "data/orders.csv"},
     "var orders_input sets file and ref; set only one of table, file, ref or source"),
    ({"source": "shop"}, "var orders_input.source must be [source name, table name]"),
    ({"ref": ""}, "var orders_input.ref must be the name of a model or seed"),
])
def test_bad_ref_or_source_settings_name_the_var(demo_project, orders_input, expected):
    result = demo_project.dbt("parse", vars={"orders_input": orders_input})
    assert not result.success
    assert expected in demo_project.messages(result)
