"""Write one audience file per segment for a marketing tool: exports/audiences/<type>/<segment>.csv.

    .venv/bin/python scripts/export_audiences.py [--consent-only] [--format csv|parquet]
        [--types rfm,business,cluster] [--database segmentation.duckdb] [--out exports/audiences]

Each file has customer_id and the segment columns (rfm_segment, rfm_cell,
business_segment, cluster_id, cluster_name, has_marketing_consent, as_of_date);
exports/audiences/audiences.csv lists the files with their sizes and suggested actions.
`make audiences` runs it (`make audiences CONSENT=1 FORMAT=parquet`). Logic:
segmentation/exports.py.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from segmentation.exports import SEGMENTATION_COLUMNS, export_audiences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("SEGMENTATION_DUCKDB_PATH", "segmentation.duckdb"),
                        help="built DuckDB file (default: $SEGMENTATION_DUCKDB_PATH or segmentation.duckdb)")
    parser.add_argument("--out", default="exports/audiences", help="output folder (default exports/audiences)")
    parser.add_argument("--types", default=",".join(SEGMENTATION_COLUMNS),
                        help="segmentation types to export (default rfm,business,cluster)")
    parser.add_argument("--consent-only", action="store_true",
                        help="only customers with marketing consent (has_marketing_consent true)")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format (default csv)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait while a build holds the database (default 60)")
    args = parser.parse_args(argv)
    try:
        index = export_audiences(args.database, args.out, [t for t in args.types.split(",") if t],
                                 consent_only=args.consent_only, file_format=args.format,
                                 timeout=args.timeout)
    except (ValueError, TimeoutError) as exc:
        print(f"export_audiences: {exc}", file=sys.stderr)
        return 1
    scope = "customers with marketing consent" if args.consent_only else "all customers"
    print(f"export_audiences: {len(index)} audience files ({scope}) in {args.out}; index: {args.out}/audiences.csv")
    for row in index.itertuples():
        print(f"  {row.file:<55} {row.customers:>8,}  {row.segment_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
