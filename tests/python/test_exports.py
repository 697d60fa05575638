"""Exports for BI and marketing (segmentation/exports.py, scripts/export_*.py): Parquet
marts written atomically, a BI reader that never sees a partial file while builds and
exports run, why BI should not open the DuckDB file itself, and audience files per segment."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time

import duckdb
import pandas as pd
import pytest

from dbt_harness import PROJECT_DIR, DbtProject
from segmentation.exports import (
    AUDIENCE_COLUMNS,
    MART_TABLES,
    SEGMENTATION_COLUMNS,
    audience_file_stem,
    connect_read_only,
    export_audiences,
    export_marts,
)


# ---------------------------------------------------------------------------
# marts to Parquet
# ---------------------------------------------------------------------------
def test_export_marts_writes_every_mart_with_its_rows_and_types(demo_build, tmp_path):
    written = export_marts(demo_build.database, tmp_path / "marts")
    with duckdb.connect(str(demo_build.database), read_only=True) as con:
        present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        for table in MART_TABLES:
            if table not in present:
                assert table not in written
                continue
            path = tmp_path / "marts" / f"{table}.parquet"
            assert written[table] == con.execute(f"select count(*) from {table}").fetchone()[0]
            exported = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
            built = con.execute(f"describe select * from {table}").fetchall()
            assert [(c[0], c[1]) for c in exported] == [(c[0], c[1]) for c in built], table
        same = con.execute(f"""select count(*) from (
            select * from customer_segments
            except select * from read_parquet('{tmp_path / "marts" / "customer_segments.parquet"}'))""").fetchone()[0]
        assert same == 0
    manifest = json.loads((tmp_path / "marts" / "_export.json").read_text())
    assert manifest["tables"] == written and manifest["as_of_date"] == "2026-10-31"
    assert {"customer_features", "customer_segments", "segment_profiles", "segment_cards"} <= set(written)
    assert not [p for p in (tmp_path / "marts").iterdir() if p.name.startswith(".")]  # no staging left


def test_a_mart_gone_from_the_database_is_removed_from_the_export(tmp_path):
    database = tmp_path / "small.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table customer_features as select 'C1' as customer_id, date '2024-01-31' as as_of_date")
    out = tmp_path / "marts"
    out.mkdir()
    (out / "segment_profiles.parquet").write_bytes(b"stale")
    (out / "my_own_file.parquet").write_bytes(b"not ours")
    assert export_marts(database, out) == {"customer_features": 1}
    assert not (out / "segment_profiles.parquet").exists()
    assert (out / "my_own_file.parquet").exists()  # only files of the listed marts are touched


def _hold_database(path, read_only: bool) -> subprocess.Popen:
    """Another process that keeps the DuckDB file open until its stdin is closed."""
    code = ("import duckdb, sys\n"
            f"con = duckdb.connect(sys.argv[1], read_only={read_only})\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    return holder


def _release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    holder.wait(timeout=30)


def test_export_waits_for_a_writer_then_says_the_database_is_locked(demo_build, tmp_path):
    database = tmp_path / "busy.duckdb"
    shutil.copy(demo_build.database, database)
    writer = _hold_database(database, read_only=False)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="still locked by another process"):
            connect_read_only(database, timeout=1.0, poll=0.2)
        assert time.monotonic() - started >= 1.0
    finally:
        _release(writer)
    with connect_read_only(database, timeout=1.0) as con:  # free again
        assert con.execute("select count(*) from customer_segments").fetchone()[0] > 0


def test_a_bi_tool_holding_the_database_open_makes_the_build_fail(demo_build, tmp_path):
    """Why BI should read the Parquet export: DuckDB allows one writer process, and a
    reader that keeps the file open (as BI tools do) stops the next build from writing."""
    database = tmp_path / "held.duckdb"
    shutil.copy(demo_build.database, database)
    project = DbtProject(PROJECT_DIR, database=database, target_path=tmp_path / "target")
    reader = _hold_database(database, read_only=True)
    try:
        result = project.dbt("build", "--select", "segment_profiles", "--exclude-resource-type", "unit_test")
        assert not result.success
        assert "Could not set lock on file" in project.messages(result)
    finally:
        _release(reader)
    project.dbt("build", "--select", "segment_profiles", "--exclude-resource-type", "unit_test",
                expect_success=True)


# The BI reader: reads the exported Parquet files in a loop until told to stop, and records
# what it saw. It opens each file once (the guarantee of an atomic replace: the complete old
# or the complete new file). It also queries them the way a DuckDB-based BI tool does
# (read_parquet on the path, which opens the file more than once per query): such a query
# may fail if it straddles a replace, but must never return rows of two versions.
BI_READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import duckdb
    import pyarrow.parquet as pq

    marts, phase_file, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    con = duckdb.connect()

    def read(name):
        with open(marts / name, "rb") as handle:
            return pq.read_table(handle).to_pandas()

    with log.open("w") as out:
        while True:
            phase = phase_file.read_text()
            if phase == "stop":
                break
            record = {"phase": phase}
            try:
                segments = read("customer_segments.parquet")
                record["rows"] = len(segments)
                record["as_of"] = sorted({str(d)[:10] for d in segments["as_of_date"]})
                record["unique_ids"] = bool(segments["customer_id"].is_unique)
                record["complete"] = bool(segments["rfm_segment"].notna().all()
                                          and segments["business_segment"].notna().all())
                profiles = read("segment_profiles.parquet")
                by_type = profiles.groupby("segmentation_type")
                record["profile_customers"] = sorted({int(v) for v in by_type["customers"].sum()})
                record["profile_shares_sum_to_1"] = bool(((by_type["share"].sum() - 1).abs() < 1e-9).all())
                record["manifest"] = sorted(json.loads((marts / "_export.json").read_text())["tables"])
            except Exception as error:
                record["error"] = f"{type(error).__name__}: {error}"
            try:
                record["duckdb"] = list(con.execute(
                    "select count(*), count(distinct customer_id), count(distinct as_of_date), "
                    "cast(min(as_of_date) as varchar) from read_parquet(?)",
                    [str(marts / "customer_segments.parquet")]).fetchone())
            except Exception as error:
                record["duckdb_error"] = f"{type(error).__name__}: {error}"
            out.write(json.dumps(record) + "\\n")
            out.flush()
""")


def test_bi_reads_complete_parquet_while_a_build_and_exports_run(demo_build, tmp_path):
    # State A: the demo build (as of 2026-10-31), exported for BI.
    db_a = tmp_path / "a.duckdb"
    shutil.copy(demo_build.database, db_a)
    marts = tmp_path / "exports" / "marts"
    rows_a = export_marts(db_a, marts)["customer_segments"]

    phase, log = tmp_path / "phase", tmp_path / "reads.jsonl"
    phase.write_text("build")
    reader = subprocess.Popen([sys.executable, "-c", BI_READER, str(marts), str(phase), str(log)])
    try:
        # A full build runs (state B: as of 2026-06-30, fewer customers) while BI reads.
        time.sleep(1.0)
        project_b = DbtProject(PROJECT_DIR, database=tmp_path / "b.duckdb", target_path=tmp_path / "target_b")
        project_b.dbt("build", "--exclude-resource-type", "unit_test", vars={"as_of_date": "2026-06-30"},
                      expect_success=True)
        # Then exports replace the files again and again, alternating A and B, while BI reads.
        phase.write_text("export")
        rows_b = None
        for i in range(8):
            written = export_marts(project_b.database if i % 2 == 0 else db_a, marts)
            rows_b = written["customer_segments"] if i % 2 == 0 else rows_b
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        phase.write_text("stop")
        reader.wait(timeout=60)
    assert reader.returncode == 0
    reads = [json.loads(line) for line in log.read_text().splitlines()]
    errors = [r["error"] for r in reads if "error" in r]
    assert not errors, errors[:5]
    states = {rows_a: ["2026-10-31"], rows_b: ["2026-06-30"]}
    assert rows_b < rows_a
    for read in reads:
        assert read["rows"] in states and read["as_of"] == states[read["rows"]], read
        assert read["unique_ids"] and read["complete"] and read["profile_shares_sum_to_1"], read
        assert len(read["profile_customers"]) == 1 and read["profile_customers"][0] in states, read
        assert "customer_segments" in read["manifest"], read
    # Queries by path: a complete table of one version, or (rarely) an error - never a mix.
    duckdb_reads = [r["duckdb"] for r in reads if "duckdb" in r]
    assert len(duckdb_reads) >= 0.9 * len(reads)
    for rows, distinct_ids, dates, as_of in duckdb_reads:
        assert rows in states and distinct_ids == rows and dates == 1 and [as_of] == states[rows]
    during_build = [r for r in reads if r["phase"] == "build"]
    during_exports = [r for r in reads if r["phase"] == "export"]
    assert len(during_build) >= 5 and {r["rows"] for r in during_build} == {rows_a}
    assert len(during_exports) >= 5
    assert {r["rows"] for r in during_exports} == {rows_a, rows_b}  # it really saw both states


# ---------------------------------------------------------------------------
# audiences
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def segments(demo_build) -> pd.DataFrame:
    return demo_build.query("""
        select customer_segments.*, customer_features.has_marketing_consent
        from customer_segments
        inner join customer_features using (customer_id)""")


def _expected_counts(segments: pd.DataFrame, segmentation_type: str) -> dict[str, int]:
    key, _ = SEGMENTATION_COLUMNS[segmentation_type]
    counts = segments[segments[key].notna()].groupby(key).size()
    return {str(int(k)) if segmentation_type == "cluster" else str(k): int(v) for k, v in counts.items()}


def test_one_audience_file_per_segment_with_the_segment_columns(demo_build, segments, tmp_path):
    index = export_audiences(demo_build.database, tmp_path)
    assert (tmp_path / "audiences.csv").is_file()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "audiences.csv", dtype={"segment": str}),
                                  index.astype({"customers": "int64"}), check_dtype=False)
    for segmentation_type, (key, _) in SEGMENTATION_COLUMNS.items():
        part = index[index["segmentation_type"] == segmentation_type]
        assert dict(zip(part["segment"], part["customers"])) == _expected_counts(segments, segmentation_type)
        seen = []
        for row in part.itertuples():
            audience = pd.read_csv(tmp_path / row.file, dtype={"customer_id": str, "rfm_cell": str})
            assert list(audience.columns) == list(AUDIENCE_COLUMNS)
            assert len(audience) == row.customers and audience["customer_id"].is_unique
            assert (audience[key].astype(str) == row.segment).all()
            assert audience["customer_id"].is_monotonic_increasing
            seen += list(audience["customer_id"])
        members = segments.loc[segments[key].notna(), "customer_id"]
        assert sorted(seen) == sorted(members)  # every customer exactly once per segmentation
    at_risk = index[(index["segmentation_type"] == "rfm") & (index["segment"] == "At Risk")].iloc[0]
    assert at_risk["file"] == "rfm/at_risk.csv" and "win-back" in at_risk["suggested_action"].lower()
    cluster_files = index.loc[index["segmentation_type"] == "cluster", "file"]
    assert cluster_files.str.match(r"cluster/\d+_[a-z0-9_]+\.csv$").all()


def test_consent_only_keeps_customers_who_agreed_to_marketing(demo_build, segments, tmp_path):
    index = export_audiences(demo_build.database, tmp_path, consent_only=True)
    consenting = segments[segments["has_marketing_consent"].fillna(False).astype(bool)]
    assert 0 < len(consenting) < len(segments)
    for segmentation_type in SEGMENTATION_COLUMNS:
        part = index[index["segmentation_type"] == segmentation_type]
        assert dict(zip(part["segment"], part["customers"])) == _expected_counts(consenting, segmentation_type)
    for row in index.itertuples():
        audience = pd.read_csv(tmp_path / row.file, dtype=str)
        assert (audience["has_marketing_consent"] == "true").all(), row.file


def test_parquet_audiences_replace_the_previous_files(demo_build, segments, tmp_path):
    export_audiences(demo_build.database, tmp_path, segmentation_types=["rfm"])
    (tmp_path / "rfm" / "renamed_segment.csv").write_text("customer_id\nX\n")
    index = export_audiences(demo_build.database, tmp_path, segmentation_types=["rfm"], file_format="parquet")
    files = sorted(p.name for p in (tmp_path / "rfm").iterdir())
    assert files == sorted(f.split("/")[1] for f in index["file"]) and all(f.endswith(".parquet") for f in files)
    champions = pd.read_parquet(tmp_path / "rfm" / "champions.parquet")
    assert len(champions) == (segments["rfm_segment"] == "Champions").sum()
    assert str(champions["as_of_date"].iloc[0]) == "2026-10-31"


def test_audiences_command(demo_build, tmp_path):
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts/export_audiences.py"), "--database", str(demo_build.database),
         "--out", str(tmp_path), "--types", "business", "--consent-only"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "customers with marketing consent" in result.stdout
    assert (tmp_path / "business" / "vip.csv").is_file() and not (tmp_path / "rfm").exists()
    bad = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts/export_audiences.py"), "--database", str(tmp_path / "none.duckdb"),
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "build the project first" in bad.stderr


@pytest.mark.parametrize("args,stem", [
    (("rfm", "At Risk", "At Risk"), "at_risk"),
    (("business", "One-time buyer", "One-time buyer"), "one_time_buyer"),
    (("cluster", "2", "Lapsed · long-standing · infrequent"), "2_lapsed_long_standing_infrequent"),
    (("cluster", "3", "country=(other)"), "3_country_other"),
])
def test_audience_file_names(args, stem):
    assert audience_file_stem(*args) == stem


def test_unknown_segmentation_type_or_format_is_rejected(demo_build, tmp_path):
    with pytest.raises(ValueError, match="unknown segmentation type"):
        export_audiences(demo_build.database, tmp_path, segmentation_types=["clusters"])
    with pytest.raises(ValueError, match="file_format must be"):
        export_audiences(demo_build.database, tmp_path, file_format="xlsx")
