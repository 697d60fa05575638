"""The MetricFlow semantic layer (models/marts/semantic/) answers with the marts' numbers.

`mf query` runs as a user would run it (a subprocess in the project directory, reading
target/semantic_manifest.json and profiles.yml) on the demo built at two as-of dates, and
every figure is compared with a direct SQL query on segment_profiles, segment_size_history,
segment_transitions and customer_features.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

MF = Path(sys.executable).with_name("mf")


def mf_query(project, tmp_path: Path, metrics: list[str], group_by: list[str],
             where: str | None = None) -> list[dict[str, str]]:
    out = tmp_path / f"{'_'.join(metrics)}__{'_'.join(group_by)}.csv".replace("/", "_")
    cmd = [str(MF), "query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by),
           "--csv", str(out), "--quiet"]
    if where:
        cmd += ["--where", where]
    env = {**os.environ, "DBT_PROFILES_DIR": str(project.project_dir),
           "SEGMENTATION_DUCKDB_PATH": str(project.database),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(cmd, cwd=project.project_dir, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and out.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _by(rows: list[dict[str, str]], key: str, value: str) -> dict[str, float]:
    return {row[key]: float(row[value]) for row in rows}


@pytest.fixture(scope="module")
def built(demo_history_build):
    return demo_history_build


def test_customers_net_revenue_and_aov_by_rfm_segment_equal_segment_profiles(built, tmp_path):
    rows = mf_query(built, tmp_path, ["customers", "net_revenue", "average_order_value"],
                    ["customer__rfm_segment"])
    profiles = built.query(
        "select segment, customers, revenue from segment_profiles where segmentation_type = 'rfm'")
    assert _by(rows, "customer__rfm_segment", "customers") == dict(
        zip(profiles["segment"], profiles["customers"].astype(float)))
    revenue = _by(rows, "customer__rfm_segment", "net_revenue")
    assert set(revenue) == set(profiles["segment"])
    for segment, expected in zip(profiles["segment"], profiles["revenue"]):
        assert revenue[segment] == pytest.approx(expected, rel=1e-9, abs=1e-6), segment
    # Average order value = net revenue / purchase orders of the segment's customers.
    orders = built.query(
        "select s.rfm_segment, sum(f.monetary) / nullif(sum(f.frequency), 0) as aov"
        " from customer_segments as s inner join customer_features as f using (customer_id)"
        " group by 1")
    aov = {row["customer__rfm_segment"]: row["average_order_value"] for row in rows}
    for segment, expected in zip(orders["rfm_segment"], orders["aov"]):
        if expected is None or expected != expected:  # No Purchases: no orders, no value
            assert aov[segment] in ("", "None", "nan"), segment
        else:
            assert float(aov[segment]) == pytest.approx(float(expected), rel=1e-9), segment


def test_revenue_share_and_segment_size_by_segment_equal_segment_profiles(built, tmp_path):
    rows = mf_query(built, tmp_path, ["segment_customers", "revenue_share"],
                    ["segment_profile__segmentation_type", "segment_profile__segment"])
    profiles = built.query("select segmentation_type, segment, customers, revenue_share"
                           " from segment_profiles")
    assert len(rows) == len(profiles) > 20
    got = {(r["segment_profile__segmentation_type"], r["segment_profile__segment"]):
           (float(r["segment_customers"]), float(r["revenue_share"])) for r in rows}
    for row in profiles.itertuples():
        customers, share = got[(row.segmentation_type, row.segment)]
        assert customers == row.customers
        assert share == pytest.approx(row.revenue_share, abs=1e-12)


def test_segment_size_over_time_equals_segment_size_history(built, tmp_path):
    rows = mf_query(built, tmp_path, ["segment_size_over_time"],
                    ["metric_time__day", "segment_size__segmentation_type", "segment_size__segment"])
    history = built.query("select cast(as_of_date as varchar) as as_of_date, segmentation_type,"
                          " segment, customers from segment_size_history")
    assert set(history["as_of_date"]) == {"2026-09-30", "2026-10-31"}
    got = {(r["metric_time__day"][:10], r["segment_size__segmentation_type"],
            r["segment_size__segment"]): float(r["segment_size_over_time"]) for r in rows}
    expected = {(row.as_of_date, row.segmentation_type, row.segment): float(row.customers)
                for row in history.itertuples()}
    assert got == expected


def test_churn_share_by_segmentation_type_equals_segment_transitions(built, tmp_path):
    rows = mf_query(built, tmp_path, ["churn_share"], ["transition__segmentation_type"])
    expected = built.query(
        "select segmentation_type,"
        " sum(case when transition_type = 'moved' then customers else 0 end) * 1.0"
        " / sum(customers) as churn from segment_transitions"
        " where transition_type in ('stayed', 'moved') group by 1")
    got = _by(rows, "transition__segmentation_type", "churn_share")
    assert set(got) == {"rfm", "business", "cluster"}
    for row in expected.itertuples():
        assert got[row.segmentation_type] == pytest.approx(row.churn, rel=1e-12)
    assert 0 < got["rfm"] < 1


def test_customers_by_country_and_age_band_equal_customer_features(built, tmp_path):
    rows = mf_query(built, tmp_path, ["customers"], ["customer__country", "customer__age_band"])
    expected = built.query("select coalesce(country, '') as country, coalesce(age_band, '') as"
                           " age_band, count(*) as customers from customer_features group by 1, 2")
    got = {(r["customer__country"], r["customer__age_band"]): float(r["customers"]) for r in rows}
    assert got == {(row.country, row.age_band): float(row.customers)
                   for row in expected.itertuples()}
    assert sum(got.values()) == built.scalar("select count(*) from customer_features")
