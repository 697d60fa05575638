"""Export the marts to Parquet for BI tools: exports/marts/<table>.parquet.

    .venv/bin/python scripts/export_marts.py [--database segmentation.duckdb] [--out exports/marts]

`make run` runs it after every build (`make export` runs it alone). Each file is written
to a temporary name and renamed into place, so a BI tool reading the Parquet files never
sees a half-written file and never blocks a build. Logic: segmentation/exports.py.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from segmentation.exports import MART_TABLES, export_marts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("SEGMENTATION_DUCKDB_PATH", "segmentation.duckdb"),
                        help="built DuckDB file (default: $SEGMENTATION_DUCKDB_PATH or segmentation.duckdb)")
    parser.add_argument("--out", default="exports/marts", help="folder of the Parquet files (default exports/marts)")
    parser.add_argument("--tables", default=",".join(MART_TABLES),
                        help="comma-separated tables to export (default: every mart that exists)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait while a build holds the database (default 60)")
    args = parser.parse_args(argv)
    try:
        written = export_marts(args.database, args.out, [t for t in args.tables.split(",") if t],
                               timeout=args.timeout)
    except (ValueError, TimeoutError) as exc:
        print(f"export_marts: {exc}", file=sys.stderr)
        return 1
    for table, rows in written.items():
        print(f"export_marts: {args.out}/{table}.parquet ({rows:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
