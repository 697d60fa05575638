"""Render the docs charts (assets/*.png) from the built DuckDB file.

    .venv/bin/python scripts/render_charts.py [--database segmentation.duckdb] [--out assets]

`make run` runs it after `dbt build`, `make docs` before `dbt docs generate` (dbt copies
assets/ into the docs site). Without a database it keeps the charts already in assets/.
All logic lives in segmentation/charts.py.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from segmentation.charts import render_charts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("SEGMENTATION_DUCKDB_PATH", "segmentation.duckdb"),
                        help="built DuckDB file (default: $SEGMENTATION_DUCKDB_PATH or segmentation.duckdb)")
    parser.add_argument("--out", default=str(PROJECT_DIR / "assets"), help="folder for the PNGs (default: assets/)")
    parser.add_argument("--sample-size", type=int, default=2000, help="customers in the PCA chart (default 2000)")
    parser.add_argument("--random-state", type=int, default=0, help="seed of the PCA sample (default 0)")
    args = parser.parse_args(argv)
    if not Path(args.database).is_file():
        print(f"render_charts: no database at {args.database}; keeping the charts in {args.out} "
              "(build first: make run)")
        return 0
    written = render_charts(args.database, args.out, sample_size=args.sample_size,
                            random_state=args.random_state)
    print(f"render_charts: wrote {len(written)} charts to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
