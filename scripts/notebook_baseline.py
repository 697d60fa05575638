"""The notebook approach of the reference tutorials, timed on the benchmark's Parquet files.

What a data scientist writes in a notebook (../shared/reference/), kept deliberately lean
so the comparison is fair to it: no de-duplication, no refund netting, no tests, no
explanation rules in SQL, no registry.

1. pandas reads the orders (``pandas.read_parquet``, every column);
2. a pandas groupby computes RFM per customer (vectorised named aggregations, no lambdas):
   recency = days since the last order, frequency = distinct orders, monetary = sum of
   amounts; rows without a customer id or dated after the as-of date are dropped first;
3. ``StandardScaler`` on recency, frequency, monetary;
4. ``KMeans`` (scikit-learn defaults: k-means++, ``n_init='auto'``, all cores) for
   k = 2..10 on every customer, with the inertia and the silhouette on a 10,000-customer
   sample (the full silhouette is quadratic and does not finish at this size);
5. a decision tree (depth 4) on the labels of the k with the best silhouette.

Usage::

    python scripts/notebook_baseline.py --orders .bench/1m/orders.parquet \\
        [--as-of-date 2026-10-31] [--json out.json]

Prints the seconds per step, the total and the peak RSS of this process; ``--json``
writes the same figures to a file (``scripts/bench.py`` reads it).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

K_RANGE = range(2, 11)
SILHOUETTE_SAMPLE = 10_000
RANDOM_STATE = 42
TREE_DEPTH = 4


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def run(orders_path: str | Path, as_of_date: str | None = None) -> dict:
    """Run the five notebook steps; return seconds per step, total, peak RSS and results."""
    t_start = time.perf_counter()
    steps: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - since, 3)
        return now

    # Imports are part of a notebook's cost, but not of the steps: timed on their own.
    t = time.perf_counter()
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    t = lap("import", t)

    # 1. read the orders
    orders = pd.read_parquet(orders_path)
    n_order_rows = len(orders)
    t = lap("read_orders", t)

    # 2. RFM with a groupby
    orders = orders.dropna(subset=["customer_id"])
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"])
    orders["amount"] = orders["amount"].astype("float64")
    as_of = (pd.Timestamp(as_of_date) if as_of_date
             else orders.loc[orders["ordered_at"] <= pd.Timestamp.now(), "ordered_at"].max().normalize())
    orders = orders[orders["ordered_at"] < as_of + pd.Timedelta(days=1)]
    rfm = orders.groupby("customer_id").agg(
        last_order=("ordered_at", "max"),
        frequency=("order_id", "nunique"),
        monetary=("amount", "sum"),
    )
    rfm["recency"] = (as_of - rfm["last_order"].dt.normalize()).dt.days
    rfm = rfm[["recency", "frequency", "monetary"]]
    del orders
    t = lap("groupby_rfm", t)

    # 3. scale
    X = StandardScaler().fit_transform(rfm.to_numpy(dtype=np.float64))
    t = lap("scale", t)

    # 4. k sweep: inertia and silhouette on a sample
    sweep = []
    for k in K_RANGE:
        model = KMeans(n_clusters=k, random_state=RANDOM_STATE).fit(X)
        sil = float(silhouette_score(X, model.labels_, sample_size=min(SILHOUETTE_SAMPLE, len(X)),
                                     random_state=RANDOM_STATE))
        sweep.append({"k": k, "inertia": float(model.inertia_), "silhouette": sil,
                      "labels": model.labels_})
    t = lap("kmeans_sweep", t)

    # 5. a decision tree explains the chosen clustering
    best = max(sweep, key=lambda r: r["silhouette"])
    tree = DecisionTreeClassifier(max_depth=TREE_DEPTH, random_state=RANDOM_STATE)
    tree.fit(rfm.to_numpy(), best["labels"])
    fidelity = float(tree.score(rfm.to_numpy(), best["labels"]))
    lap("decision_tree", t)

    return {
        "seconds": round(time.perf_counter() - t_start, 3),
        "steps": steps,
        "peak_rss_bytes": _peak_rss_bytes(),
        "order_rows": int(n_order_rows),
        "customers": int(len(rfm)),
        "as_of_date": as_of.date().isoformat(),
        "chosen_k": int(best["k"]),
        "silhouette": round(best["silhouette"], 4),
        "tree_fidelity": round(fidelity, 4),
        "sweep": [{"k": r["k"], "inertia": r["inertia"], "silhouette": r["silhouette"]} for r in sweep],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/notebook_baseline.py", description=__doc__.split("\n")[0])
    ap.add_argument("--orders", required=True, help="orders Parquet file")
    ap.add_argument("--as-of-date", default=None,
                    help="reference date (default: the latest order date not in the future)")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    result = run(a.orders, a.as_of_date)
    steps = ", ".join(f"{name} {sec:.1f}s" for name, sec in result["steps"].items())
    print(f"baseline: {result['order_rows']:,} order rows -> {result['customers']:,} customers, "
          f"k={result['chosen_k']} (silhouette {result['silhouette']}), tree fidelity "
          f"{result['tree_fidelity']}")
    print(f"baseline: {steps}")
    print(f"baseline: total {result['seconds']:.1f}s, peak RSS "
          f"{result['peak_rss_bytes'] / 2**30:.2f} GiB")
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
