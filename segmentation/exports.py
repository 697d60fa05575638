"""Exports of the built tables for BI tools and marketing: Parquet marts and audience files.

DuckDB lets one process write a database file at a time: while ``dbt build`` writes,
another process cannot open the file (it gets a lock error, never half-written data), and
a BI tool that keeps the file open stops the next build from writing it. So BI tools
should not open the database file: :func:`export_marts` copies the marts to Parquet after
each build, and BI reads those. Every file is written to a temporary name in the same
folder and renamed over the old one (an atomic replace), so whoever opens a file gets
either the complete previous file or the complete new one, never a partial one; a reader
that already has the file open keeps reading the previous one. (A reader that opens the
same file twice within one query - DuckDB's read_parquet, pyarrow datasets - and straddles
a replace gets a Parquet read error instead of mixed rows: run the query again.)
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pandas as pd

__all__ = [
    "MART_TABLES",
    "AUDIENCE_COLUMNS",
    "SEGMENTATION_COLUMNS",
    "connect_read_only",
    "export_marts",
    "export_audiences",
    "audience_file_stem",
]

#: The tables exported for BI, when they exist in the database. They are read from the
#: database's default schema ``main``: the published build (write-audit-publish), never the
#: build schema ``main_build`` that a running or failed build writes.
MART_TABLES = (
    "customer_features",
    "customer_segments",
    "segment_profiles",
    "segment_cards",
    "data_quality_report",
    "cluster_k_selection",
    "cluster_centroids",
    "cluster_rules",
    "cluster_models",
    "segment_size_history",
    "segment_transitions",
)

#: The columns of every audience file (customer_segments and customer_features).
AUDIENCE_COLUMNS = (
    "customer_id",
    "rfm_segment",
    "rfm_cell",
    "business_segment",
    "cluster_id",
    "cluster_name",
    "has_marketing_consent",
    "as_of_date",
)

#: Per segmentation type: the customer_segments column whose value is the segment, and the
#: column of its readable name.
SEGMENTATION_COLUMNS = {
    "rfm": ("rfm_segment", "rfm_segment"),
    "business": ("business_segment", "business_segment"),
    "cluster": ("cluster_id", "cluster_name"),
}

_LOCK_WORDS = ("lock", "conflicting")


def connect_read_only(database: str | os.PathLike, timeout: float = 60.0,
                      poll: float = 0.5) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only, waiting while another process (a build) holds its lock.

    Parameters
    ----------
    database : path-like
        An existing DuckDB file.
    timeout : float
        Seconds to keep retrying on a lock error before giving up.
    poll : float
        Seconds between attempts.

    Returns
    -------
    duckdb.DuckDBPyConnection

    Raises
    ------
    ValueError
        If ``database`` does not exist or ``timeout`` is negative.
    TimeoutError
        If the file is still locked after ``timeout`` seconds.
    """
    database = Path(database)
    if not database.is_file():
        raise ValueError(f"database {str(database)!r} does not exist: build the project first (make run)")
    if timeout < 0 or poll <= 0:
        raise ValueError(f"timeout must be >= 0 and poll > 0, got timeout={timeout!r}, poll={poll!r}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(database), read_only=True)
        except duckdb.IOException as exc:
            if not any(word in str(exc).lower() for word in _LOCK_WORDS):
                raise
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{database} is still locked by another process after {timeout:g} s "
                    f"(a dbt build is writing it?): {exc}") from exc
            time.sleep(poll)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = current_schema()").fetchall()}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _staging_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary folder beside ``out_dir`` (same file system, so renames are atomic)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staged: Path, target: Path, attempts: int = 50) -> None:
    """Rename ``staged`` over ``target`` (atomic). On Windows a file another process has
    open cannot be replaced for a moment, so retry for a few seconds."""
    _fsync(staged)
    for attempt in range(attempts):
        try:
            os.replace(staged, target)
            return
        except PermissionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)


def export_marts(database: str | os.PathLike, out_dir: str | os.PathLike,
                 tables: Sequence[str] = MART_TABLES, timeout: float = 60.0) -> dict[str, int]:
    """Copy the marts from a built DuckDB file to ``out_dir/<table>.parquet``, atomically.

    Only the published state is read (schema ``main``: the last build that passed every
    test; see README "Write-audit-publish"). All tables are read in one read-only connection
    (one consistent state of the database)
    and written to a staging folder first; then each file is renamed over the previous one,
    and ``_export.json`` (tables, row counts, as-of date) last. A reader opening
    ``<table>.parquet`` at any moment gets a complete file. Tables listed but missing from
    the database (for example the history before its first build) are skipped, and a
    previous export of them is removed so BI never reads a stale copy next to fresh ones.

    Parameters
    ----------
    database : path-like
        The DuckDB file ``dbt build`` wrote.
    out_dir : path-like
        Folder of the Parquet files, for example ``exports/marts``.
    tables : sequence of str
        Tables to export (default :data:`MART_TABLES`).
    timeout : float
        Seconds to wait for a running build to release the database.

    Returns
    -------
    dict of str to int
        Rows written per table.
    """
    if isinstance(tables, str) or not all(isinstance(t, str) and t for t in tables):
        raise ValueError(f"tables must be a sequence of table names, got {tables!r}")
    out_dir = Path(out_dir)
    written: dict[str, int] = {}
    with _staging_dir(out_dir) as staging:
        con = connect_read_only(database, timeout=timeout)
        try:
            present = _tables(con)
            for table in tables:
                if table not in present:
                    continue
                path = staging / f"{table}.parquet"
                con.execute(f"copy (select * from {_quote(table)}) to {_literal(str(path))} "
                            "(format parquet, compression zstd)")
                written[table] = int(con.execute(f"select count(*) from {_quote(table)}").fetchone()[0])
            as_of = None
            if "customer_features" in present:
                as_of = con.execute("select cast(max(as_of_date) as varchar) from customer_features").fetchone()[0]
        finally:
            con.close()
        for table in written:
            _publish(staging / f"{table}.parquet", out_dir / f"{table}.parquet")
        for table in tables:
            if table not in written:
                (out_dir / f"{table}.parquet").unlink(missing_ok=True)
        manifest = staging / "_export.json"
        manifest.write_text(json.dumps({"as_of_date": as_of, "tables": written}, indent=2, sort_keys=True) + "\n")
        _publish(manifest, out_dir / "_export.json")
    return written


def audience_file_stem(segmentation_type: str, segment: str, segment_name: str) -> str:
    """The file name (without extension) of one audience: ``at_risk``, ``2_lapsed_new``.

    Parameters
    ----------
    segmentation_type : {'rfm', 'business', 'cluster'}
    segment : str
        The segment key (a cluster's id as text for clusters).
    segment_name : str

    Returns
    -------
    str
        Lower-case letters, digits and ``_``; a cluster's id comes first because ids stay
        the same across retrains while names may change.
    """
    if segmentation_type not in SEGMENTATION_COLUMNS:
        raise ValueError(f"segmentation_type must be one of {', '.join(SEGMENTATION_COLUMNS)}, "
                         f"got {segmentation_type!r}")
    text = f"{segment} {segment_name}" if segmentation_type == "cluster" else str(segment_name)
    stem = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return stem or "segment"


def export_audiences(database: str | os.PathLike, out_dir: str | os.PathLike,
                     segmentation_types: Sequence[str] = ("rfm", "business", "cluster"),
                     consent_only: bool = False, file_format: str = "csv",
                     timeout: float = 60.0) -> pd.DataFrame:
    """Write one audience file per segment, ready for a marketing tool.

    Files go to ``out_dir/<segmentation_type>/<segment>.<csv|parquet>`` with the columns
    :data:`AUDIENCE_COLUMNS`, one row per customer of the segment, sorted by customer_id.
    Customers without a cluster are in no cluster audience (they have no cluster to
    target). ``out_dir/audiences.csv`` lists every file with its segment, row count and the
    segment's suggested action (from segment_cards). Files are written atomically, and
    files of segments that no longer exist are removed.

    Parameters
    ----------
    database : path-like
        The DuckDB file ``dbt build`` wrote.
    out_dir : path-like
        For example ``exports/audiences``.
    segmentation_types : sequence of {'rfm', 'business', 'cluster'}
    consent_only : bool
        Keep only customers with ``has_marketing_consent`` true (unknown consent is no
        consent).
    file_format : {'csv', 'parquet'}
    timeout : float
        Seconds to wait for a running build to release the database.

    Returns
    -------
    pandas.DataFrame
        The index written to ``audiences.csv``: ``segmentation_type, segment,
        segment_name, customers, file, suggested_action``.
    """
    if isinstance(segmentation_types, str) or not segmentation_types:
        raise ValueError(f"segmentation_types must be a non-empty list, got {segmentation_types!r}")
    unknown = [t for t in segmentation_types if t not in SEGMENTATION_COLUMNS]
    if unknown:
        raise ValueError(f"unknown segmentation type(s) {', '.join(map(str, unknown))}; "
                         f"use {', '.join(SEGMENTATION_COLUMNS)}")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    out_dir = Path(out_dir)
    columns = ", ".join(f"{'features' if c == 'has_marketing_consent' else 'segments'}.{c}"
                        for c in AUDIENCE_COLUMNS)
    con = connect_read_only(database, timeout=timeout)
    try:
        customers = con.execute(f"""
            select {columns}
            from customer_segments as segments
            inner join customer_features as features
                on segments.customer_id = features.customer_id
            {"where features.has_marketing_consent" if consent_only else ""}
            order by segments.customer_id
        """).df()
        actions = (con.execute("select segmentation_type, segment, suggested_action from segment_cards").df()
                   if "segment_cards" in _tables(con) else
                   pd.DataFrame(columns=["segmentation_type", "segment", "suggested_action"]))
    finally:
        con.close()
    customers["cluster_id"] = customers["cluster_id"].astype("Int64")
    customers["as_of_date"] = pd.to_datetime(customers["as_of_date"]).dt.date
    action_of = {(r.segmentation_type, r.segment): r.suggested_action for r in actions.itertuples()}
    index_rows = []
    with _staging_dir(out_dir) as staging:
        staged: list[tuple[Path, Path]] = []
        for segmentation_type in segmentation_types:
            key_column, name_column = SEGMENTATION_COLUMNS[segmentation_type]
            members = customers[customers[key_column].notna()]
            groups = members.groupby(key_column, sort=True)
            used: set[str] = set()
            (staging / segmentation_type).mkdir()
            for key, group in groups:
                segment = str(int(key)) if segmentation_type == "cluster" else str(key)
                name = str(group[name_column].iloc[0])
                stem = audience_file_stem(segmentation_type, segment, name)
                while stem in used:  # two names that only differ in punctuation
                    stem += "_"
                used.add(stem)
                relative = Path(segmentation_type) / f"{stem}.{file_format}"
                path = staging / relative
                frame = group.loc[:, list(AUDIENCE_COLUMNS)].reset_index(drop=True)
                if file_format == "csv":
                    consent = frame["has_marketing_consent"].map({True: "true", False: "false"})
                    frame.assign(has_marketing_consent=consent).to_csv(path, index=False)
                else:
                    frame.to_parquet(path, index=False)
                staged.append((path, out_dir / relative))
                index_rows.append({"segmentation_type": segmentation_type, "segment": segment,
                                   "segment_name": name, "customers": len(frame),
                                   "file": relative.as_posix(),
                                   "suggested_action": action_of.get((segmentation_type, segment))})
        for segmentation_type in segmentation_types:
            (out_dir / segmentation_type).mkdir(parents=True, exist_ok=True)
        for source, target in staged:
            _publish(source, target)
        keep = {target for _, target in staged}
        for segmentation_type in segmentation_types:
            for old in (out_dir / segmentation_type).glob("*"):
                if old.is_file() and old.suffix in (".csv", ".parquet") and old not in keep:
                    old.unlink()
        index = pd.DataFrame(index_rows, columns=["segmentation_type", "segment", "segment_name",
                                                  "customers", "file", "suggested_action"])
        index_path = staging / "audiences.csv"
        index.to_csv(index_path, index=False)
        _publish(index_path, out_dir / "audiences.csv")
    return index
