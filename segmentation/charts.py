"""Charts of the built segmentation tables, for the dbt docs (``assets/*.png``).

Every chart is drawn by a pure function from DataFrames to a matplotlib ``Figure``
(testable without a database); :func:`render_charts` reads the tables from a built DuckDB
file and writes all PNGs. Output is deterministic: fixed sizes and fonts, samples chosen
by a seeded hash of the customer id, no timestamps or version strings in the files, so a
rebuild on the same data gives byte-identical images.

A chart whose table is missing (for example the history before a replay) becomes a
placeholder image that says what to run, so the docs never show a broken image.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "CHART_FILES",
    "ChartData",
    "read_chart_data",
    "render_charts",
    "save_figure",
    "placeholder_figure",
    "k_selection_figure",
    "segment_sizes_figure",
    "cluster_profile_figure",
    "cluster_rules_figure",
    "segment_history_figure",
    "cluster_projection_figure",
    "segment_cards_figure",
    "algorithm_comparison_figure",
    "project_customers",
    "clv_holdout_figure",
    "clv_probability_alive_figure",
]

SEGMENTATION_TYPES = ("rfm", "business", "cluster")
TYPE_TITLES = {"rfm": "RFM segments", "business": "Business segments", "cluster": "k-means clusters"}

#: Every file :func:`render_charts` writes, by chart.
CHART_FILES = {
    "clv_holdout": "clv_holdout.png",
    "clv_probability_alive": "clv_probability_alive.png",
    "k_selection": "k_selection.png",
    "sizes_rfm": "segment_sizes_rfm.png",
    "sizes_business": "segment_sizes_business.png",
    "sizes_cluster": "segment_sizes_cluster.png",
    "cluster_profiles": "cluster_profiles.png",
    "cluster_rules": "cluster_rules.png",
    "cluster_pca": "cluster_pca.png",
    "segment_size_history": "segment_size_history.png",
    "cards_rfm": "segment_cards_rfm.png",
    "cards_business": "segment_cards_business.png",
    "cards_cluster": "segment_cards_cluster.png",
    "cluster_algorithm_comparison": "cluster_algorithm_comparison.png",
}

#: Profile features of segment_cards (columns ``z_<feature>``), in display order.
CARD_FEATURES = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "age",
                 "cancellation_rate")

CARD_FEATURE_LABELS = {"recency_days": "recency", "frequency": "frequency", "monetary": "monetary",
                       "avg_order_value": "avg order", "tenure_days": "tenure", "age": "age",
                       "cancellation_rate": "cancel rate"}

DPI = 100
UNCLASSIFIED = "unclassified"
UNCLASSIFIED_COLOUR = "#9e9e9e"
CUSTOMER_COLOUR = "#3b6ea8"
REVENUE_COLOUR = "#e39b3b"
# Fixed style, independent of the user's matplotlibrc: the same bytes on every machine
# with the pinned matplotlib (its bundled DejaVu fonts).
_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "path.simplify": True,
    "svg.hashsalt": "customer-segmentation",
}
_IGNORED_RC = {"backend", "backend_fallback", "interactive", "webagg.port", "webagg.address",
               "webagg.port_retries", "webagg.open_in_browser", "toolbar", "timezone"}


def _style() -> dict:
    base = {k: v for k, v in matplotlib.rcParamsDefault.items() if k not in _IGNORED_RC}
    return {**base, **_STYLE}


def _colours(n: int) -> list:
    """``n`` distinct, fixed colours (tab10, then tab20 for more)."""
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}; "
                         f"it has: {', '.join(map(str, frame.columns)) or '(none)'}")


def _fmt(x: float) -> str:
    """A number for labels: whole from 100 up, one decimal from 1, two below."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _pct(x: float) -> str:
    return "-" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def _customers(n: int) -> str:
    """``"1 customer"``, ``"1,234 customers"``."""
    return f"{int(n):,} customer{'' if int(n) == 1 else 's'}"


def _wrap(text: str, width: int, max_lines: int) -> str:
    lines = textwrap.wrap(str(text or ""), width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, width - 1)].rstrip() + "…"
    return "\n".join(lines)


def _segment_label(row: pd.Series) -> str:
    """'At Risk'; for clusters '2 · Lapsed · ...' (id first: ids are what stays stable)."""
    if row["segmentation_type"] == "cluster" and row["segment"] != UNCLASSIFIED:
        return f"{row['segment']} · {row['segment_name']}"
    return str(row["segment_name"])


# ---------------------------------------------------------------------------
# saving
# ---------------------------------------------------------------------------
def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` as PNG, deterministically and atomically.

    No software version or date is written into the file, and the PNG is written to a
    temporary name and renamed, so a docs server never serves half an image.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path-like
        Target ``.png`` file; its folder is created if needed.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with matplotlib.rc_context(_style()):
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    os.replace(tmp, path)
    return path


def placeholder_figure(title: str, message: str) -> Figure:
    """A small image that says why a chart is not there and what to run.

    Parameters
    ----------
    title, message : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(8, 2.6))
        ax = fig.add_axes([0, 0, 1, 1])
        ax.set_axis_off()
        ax.add_patch(matplotlib.patches.FancyBboxPatch(
            (0.03, 0.08), 0.94, 0.84, boxstyle="round,pad=0.01", facecolor="#f5f5f5",
            edgecolor="#bdbdbd", transform=ax.transAxes))
        ax.text(0.5, 0.66, title, ha="center", va="center", fontsize=13, weight="bold",
                transform=ax.transAxes)
        ax.text(0.5, 0.38, _wrap(message, 90, 3), ha="center", va="center", fontsize=10,
                color="#424242", transform=ax.transAxes)
    return fig


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------
def k_selection_figure(k_selection: pd.DataFrame, reason: str | None = None) -> Figure:
    """Elbow curve and the silhouette, Calinski-Harabasz and Davies-Bouldin curves.

    The chosen k is marked with a dashed line in every panel, the elbow with a triangle.

    Parameters
    ----------
    k_selection : pandas.DataFrame, shape (n_k, >= 7)
        ``cluster_k_selection``: ``k, inertia, silhouette, calinski_harabasz,
        davies_bouldin, is_elbow, is_chosen``.
    reason : str, optional
        Why k was chosen (``cluster_models.k_selection_reason``), shown under the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(k_selection, ["k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin",
                           "is_elbow", "is_chosen"], "k_selection")
    if len(k_selection) == 0:
        raise ValueError("k_selection has no rows")
    data = k_selection.sort_values("k")
    ks = data["k"].to_numpy(dtype=int)
    chosen = data.loc[data["is_chosen"].astype(bool), "k"]
    chosen_k = int(chosen.iloc[0]) if len(chosen) else None
    elbow = data.loc[data["is_elbow"].astype(bool), "k"]
    panels = [
        ("inertia", "Elbow: inertia (within-cluster sum of squares)", "lower is tighter"),
        ("silhouette", "Silhouette", "higher is better"),
        ("calinski_harabasz", "Calinski-Harabasz index", "higher is better"),
        ("davies_bouldin", "Davies-Bouldin index", "lower is better"),
    ]
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(10, 6.6))
        axes = fig.subplots(2, 2).ravel()
        for ax, (column, title, hint) in zip(axes, panels):
            values = data[column].to_numpy(dtype=float)
            ax.plot(ks, values, marker="o", color=CUSTOMER_COLOUR, linewidth=1.8, markersize=4)
            if chosen_k is not None:
                ax.axvline(chosen_k, color="#c62828", linestyle="--", linewidth=1.2)
                at = values[ks == chosen_k]
                if len(at) and np.isfinite(at[0]):
                    ax.scatter([chosen_k], at, s=70, color="#c62828", zorder=3,
                               label=f"chosen k = {chosen_k}")
            if column == "inertia" and len(elbow):
                ek = int(elbow.iloc[0])
                ax.scatter([ek], values[ks == ek], s=90, marker="^", facecolor="none",
                           edgecolor="black", linewidth=1.3, zorder=4, label=f"elbow k = {ek}")
            ax.set_title(f"{title}\n({hint})")
            ax.set_xlabel("k (number of clusters)")
            ax.set_xticks(ks)
            ax.grid(axis="y", color="#eeeeee")
            if column == "inertia":
                ax.legend(loc="upper right")
        fig.suptitle("How k was chosen", fontsize=13, weight="bold")
        if reason:
            fig.text(0.5, 0.925, _wrap(reason, 150, 2), ha="center", va="top", fontsize=8,
                     color="#424242")
        fig.subplots_adjust(left=0.08, right=0.97, bottom=0.08, top=0.82, hspace=0.55, wspace=0.25)
    return fig


def segment_sizes_figure(profiles: pd.DataFrame, segmentation_type: str) -> Figure:
    """Customers' share and revenue share of every segment of one segmentation.

    Parameters
    ----------
    profiles : pandas.DataFrame
        ``segment_profiles``: ``segmentation_type, segment, segment_name, customers,
        share, revenue_share``.
    segmentation_type : {'rfm', 'business', 'cluster'}

    Returns
    -------
    matplotlib.figure.Figure
    """
    if segmentation_type not in SEGMENTATION_TYPES:
        raise ValueError(f"segmentation_type must be one of {', '.join(SEGMENTATION_TYPES)}, "
                         f"got {segmentation_type!r}")
    _require(profiles, ["segmentation_type", "segment", "segment_name", "customers", "share",
                        "revenue_share"], "profiles")
    data = profiles[profiles["segmentation_type"] == segmentation_type]
    if len(data) == 0:
        raise ValueError(f"profiles has no rows of segmentation_type {segmentation_type!r}")
    data = data.sort_values(["customers", "segment"], ascending=[True, False]).reset_index(drop=True)
    labels = [_segment_label(r) for _, r in data.iterrows()]
    y = np.arange(len(data))
    share = data["share"].to_numpy(dtype=float)
    revenue = data["revenue_share"].astype(float).fillna(0).to_numpy()
    height = 0.38
    with matplotlib.rc_context(_style()):
        fig_height = 1.3 + 0.42 * len(data)
        fig = Figure(figsize=(10, fig_height))
        ax = fig.add_axes([0.27, 0.55 / fig_height, 0.68, 1 - 1.1 / fig_height])
        ax.barh(y + height / 2, share, height, color=CUSTOMER_COLOUR, label="share of customers")
        ax.barh(y - height / 2, revenue, height, color=REVENUE_COLOUR, label="share of net revenue")
        for i, row in data.iterrows():
            ax.text(share[i] + 0.005, i + height / 2, f"{int(row['customers']):,} ({_pct(share[i])})",
                    va="center", fontsize=7.5)
            ax.text(max(revenue[i], 0) + 0.005, i - height / 2, _pct(row["revenue_share"]),
                    va="center", fontsize=7.5, color="#8a5a14")
        ax.set_yticks(y, [_wrap(label, 42, 2) for label in labels])
        ax.set_xlim(min(0.0, float(revenue.min()) - 0.02), max(float(share.max()), float(revenue.max())) * 1.25 + 0.02)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.legend(loc="lower right")
        total = int(data["customers"].sum())
        ax.set_title(f"{TYPE_TITLES[segmentation_type]}: size and revenue share ({total:,} customers)",
                     loc="left", weight="bold")
    return fig


def cluster_profile_figure(centroids: pd.DataFrame, sizes: pd.Series | None = None) -> Figure:
    """Heatmap of each cluster's profile against the population (z-scores).

    Colour = ``z_score`` (blue below, red above the mean of all clustered customers);
    each cell also shows the cluster members' mean, the header row the population mean.

    Parameters
    ----------
    centroids : pandas.DataFrame
        ``cluster_centroids``: ``cluster_id, cluster_name, feature_name,
        population_mean, population_std, z_score``.
    sizes : pandas.Series, optional
        Customers per cluster id, shown in the row labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(centroids, ["cluster_id", "cluster_name", "feature_name", "population_mean",
                         "population_std", "z_score"], "centroids")
    if len(centroids) == 0:
        raise ValueError("centroids has no rows")
    data = centroids.copy()
    data["member_mean"] = data["population_mean"] + data["z_score"] * data["population_std"]
    features = list(dict.fromkeys(data["feature_name"]))
    clusters = data.drop_duplicates("cluster_id").sort_values("cluster_id")
    z = data.pivot(index="cluster_id", columns="feature_name", values="z_score").loc[
        clusters["cluster_id"], features].to_numpy(dtype=float)
    means = data.pivot(index="cluster_id", columns="feature_name", values="member_mean").loc[
        clusters["cluster_id"], features].to_numpy(dtype=float)
    population = data.drop_duplicates("feature_name").set_index("feature_name").loc[
        features, "population_mean"].to_numpy(dtype=float)
    limit = max(1.0, float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0)
    labels = []
    for _, c in clusters.iterrows():
        n = "" if sizes is None or c["cluster_id"] not in sizes.index else f"\n{_customers(sizes[c['cluster_id']])}"
        labels.append(f"{c['cluster_id']} · {_wrap(c['cluster_name'], 30, 2)}{n}")
    with matplotlib.rc_context(_style()):
        width = max(7.0, 2.6 + 1.35 * len(features))
        height = 1.8 + 0.75 * len(clusters)
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes([2.6 / width, 0.5 / height, 1 - 3.6 / width, 1 - 1.45 / height])
        image = ax.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                if np.isfinite(z[i, j]):
                    dark = abs(z[i, j]) > 0.6 * limit
                    ax.text(j, i, f"{_fmt(means[i, j])}\n({z[i, j]:+.1f} sd)", ha="center", va="center",
                            fontsize=8, color="white" if dark else "black")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xticks(range(len(features)),
                      [f"{_wrap(f, 16, 2)}\nall: {_fmt(p)}" for f, p in zip(features, population)])
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        colorbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        colorbar.set_label("z-score (sd from all clustered customers)")
        fig.suptitle("Cluster profiles against all clustered customers (cell: members' mean)",
                     x=0.02, ha="left", y=0.995, va="top", fontsize=11, weight="bold")
    return fig


def cluster_rules_figure(rules: pd.DataFrame, cluster_names: dict | None = None) -> Figure:
    """The decision tree's rules: one bar per leaf, its support, coloured by cluster.

    Parameters
    ----------
    rules : pandas.DataFrame
        ``cluster_rules``: ``cluster_id, leaf_id, rule_text, support, leaf_precision``.
    cluster_names : dict, optional
        Cluster id -> name, for the legend.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(rules, ["cluster_id", "leaf_id", "rule_text", "support", "leaf_precision"], "rules")
    if len(rules) == 0:
        raise ValueError("rules has no rows")
    data = rules.sort_values(["cluster_id", "support", "leaf_id"], ascending=[True, False, True]
                             ).reset_index(drop=True)
    cluster_ids = sorted(data["cluster_id"].unique())
    colour = dict(zip(cluster_ids, _colours(len(cluster_ids))))
    n = len(data)
    with matplotlib.rc_context(_style()):
        height = 1.3 + 0.55 * n
        fig = Figure(figsize=(11, height))
        ax = fig.add_axes([0.03, 0.55 / height, 0.35, 1 - 1.25 / height])
        y = np.arange(n)[::-1]
        support = data["support"].to_numpy(dtype=float)
        ax.barh(y, support, color=[colour[c] for c in data["cluster_id"]], height=0.7)
        ax.set_xlim(0, max(support.max() * 1.35, 0.05))
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_yticks([])
        ax.set_xlabel("support: share of clustered customers the rule covers")
        for yi, (_, r) in zip(y, data.iterrows()):
            ax.text(r["support"] + 0.004, yi, f"{_pct(r['support'])}", va="center", fontsize=8)
            ax.text(1.03, yi, _wrap(f"cluster {r['cluster_id']} if {r['rule_text']}"
                                    f"   (precision {_pct(r['leaf_precision'])})", 80, 3),
                    va="center", fontsize=8, transform=ax.get_yaxis_transform())
        handles = [matplotlib.patches.Patch(color=colour[c], label=f"{c} · {cluster_names.get(c, '')}"
                                            if cluster_names else f"cluster {c}") for c in cluster_ids]
        ax.legend(handles=handles, loc="lower right", fontsize=7.5)
        ax.set_title("Decision-tree rules that explain the clusters (one bar per leaf)", loc="left",
                     weight="bold")
    return fig


def segment_history_figure(history: pd.DataFrame | None) -> Figure:
    """Share of every segment over the as-of dates, one panel per segmentation type.

    Parameters
    ----------
    history : pandas.DataFrame or None
        ``segment_size_history``: ``as_of_date, segmentation_type, segment_name, share``.
        None or empty gives a placeholder saying how to fill the history.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if history is None or len(history) == 0:
        return placeholder_figure("No segment history yet",
                                  "Run `make replay` to rebuild the segments at past as-of dates "
                                  "and fill segment_size_history, then render the charts again.")
    _require(history, ["as_of_date", "segmentation_type", "segment_name", "share"], "history")
    data = history.copy()
    data["as_of_date"] = pd.to_datetime(data["as_of_date"])
    dates = sorted(data["as_of_date"].unique())
    types = [t for t in SEGMENTATION_TYPES if t in set(data["segmentation_type"])]
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(12, 3.3 * len(types) + 0.9))
        axes = fig.subplots(len(types), 1, squeeze=False)[:, 0]
        for ax, segmentation_type in zip(axes, types):
            part = data[data["segmentation_type"] == segmentation_type]
            table = part.pivot_table(index="as_of_date", columns="segment_name", values="share",
                                     aggfunc="sum").reindex(dates).fillna(0.0)
            order = table.mean().sort_values(ascending=False).index
            table = table[order]
            colours = [UNCLASSIFIED_COLOUR if name == UNCLASSIFIED else c
                       for name, c in zip(table.columns, _colours(len(table.columns)))]
            if len(dates) > 1:
                ax.stackplot(table.index, table.T.to_numpy(), labels=table.columns, colors=colours)
                ax.set_xlim(dates[0], dates[-1])
            else:
                bottom = 0.0
                for name, colour in zip(table.columns, colours):
                    value = float(table[name].iloc[0])
                    ax.bar([dates[0]], [value], bottom=bottom, width=20, color=colour, label=name)
                    bottom += value
                ax.set_xticks([dates[0]], [pd.Timestamp(dates[0]).strftime("%Y-%m-%d")])
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_title(f"{TYPE_TITLES[segmentation_type]}: share of customers by as-of date",
                         loc="left", weight="bold")
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5,
                      labels=[_wrap(str(n), 34, 2) for n in table.columns])
        if len(dates) < 2:
            fig.text(0.01, 0.005, "Only one as-of date so far: run `make replay` to fill the history "
                     "month by month.", fontsize=9, color="#c62828")
        fig.subplots_adjust(left=0.06, right=0.74, top=0.95, bottom=0.08, hspace=0.45)
    return fig


def project_customers(Z: np.ndarray, centroids: np.ndarray, random_state: int = 0
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project scaled customers and centroids on the first two principal components.

    Parameters
    ----------
    Z : ndarray of float64, shape (n_samples, n_features)
        Customers in the model's scaled units.
    centroids : ndarray of float64, shape (k, n_features)
    random_state : int
        Passed to PCA (the full SVD used here is deterministic anyway).

    Returns
    -------
    points : ndarray, shape (n_samples, 2)
    centroid_points : ndarray, shape (k, 2)
    explained : ndarray, shape (2,)
        Share of the variance each component explains (0 for a missing second component).
    """
    from sklearn.decomposition import PCA

    Z = np.asarray(Z, dtype=np.float64)
    centroids = np.asarray(centroids, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[0] < 2 or Z.shape[1] < 1:
        raise ValueError(f"Z must have shape (n_samples >= 2, n_features >= 1), got {Z.shape}")
    if centroids.ndim != 2 or centroids.shape[1] != Z.shape[1]:
        raise ValueError(f"centroids must have shape (k, {Z.shape[1]}), got {centroids.shape}")
    n_components = min(2, Z.shape[1], Z.shape[0])
    pca = PCA(n_components=n_components, svd_solver="full", random_state=random_state).fit(Z)
    points, centre_points = pca.transform(Z), pca.transform(centroids)
    explained = pca.explained_variance_ratio_
    if n_components == 1:
        points = np.column_stack([points, np.zeros(len(points))])
        centre_points = np.column_stack([centre_points, np.zeros(len(centre_points))])
        explained = np.array([explained[0], 0.0])
    return points, centre_points, np.asarray(explained, dtype=float)


def cluster_projection_figure(points: np.ndarray, cluster_ids: np.ndarray, cluster_names: dict,
                              centroid_points: np.ndarray | None = None,
                              centroid_ids: Sequence[int] | None = None,
                              explained: Sequence[float] | None = None,
                              n_customers: int | None = None) -> Figure:
    """Customers on the first two principal components, coloured by cluster.

    Parameters
    ----------
    points : ndarray, shape (n_samples, 2)
        From :func:`project_customers`.
    cluster_ids : ndarray of int, shape (n_samples,)
    cluster_names : dict
        Cluster id -> name.
    centroid_points : ndarray, shape (k, 2), optional
    centroid_ids : sequence of int, length k, optional
    explained : sequence of float, length 2, optional
        Explained variance ratio of the two axes.
    n_customers : int, optional
        How many classified customers the sample was drawn from (for the title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    points = np.asarray(points, dtype=float)
    cluster_ids = np.asarray(cluster_ids)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n_samples, 2), got {points.shape}")
    if len(cluster_ids) != len(points):
        raise ValueError(f"cluster_ids has {len(cluster_ids)} values for {len(points)} points")
    ids = sorted(set(cluster_ids.tolist()))
    colour = dict(zip(ids, _colours(len(ids))))
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(9, 6.5))
        ax = fig.add_axes([0.08, 0.09, 0.6, 0.8])
        for cid in ids:
            mask = cluster_ids == cid
            ax.scatter(points[mask, 0], points[mask, 1], s=7, alpha=0.55, color=colour[cid],
                       linewidths=0, label=f"{cid} · {_wrap(cluster_names.get(cid, ''), 32, 2)}")
        if centroid_points is not None and centroid_ids is not None:
            for (x, y), cid in zip(np.asarray(centroid_points), centroid_ids):
                ax.scatter([x], [y], s=160, marker="X", color=colour.get(cid, "black"),
                           edgecolor="black", linewidth=1.2, zorder=5)
                ax.annotate(str(cid), (x, y), textcoords="offset points", xytext=(7, 7),
                            fontsize=10, weight="bold")
        ev = list(explained) if explained is not None else [math.nan, math.nan]
        ax.set_xlabel(f"principal component 1 ({_pct(ev[0])} of the variance)")
        ax.set_ylabel(f"principal component 2 ({_pct(ev[1])} of the variance)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), markerscale=2.5,
                  title="cluster (X = centre)")
        sample = f"{len(points):,} customers sampled" + (
            f" of {n_customers:,} clustered" if n_customers is not None else "")
        ax.set_title(f"Customers in the clustering space, projected to 2-D (PCA)\n{sample}, fixed seed",
                     loc="left", weight="bold")
    return fig


def segment_cards_figure(cards: pd.DataFrame, segmentation_type: str, ncols: int = 2) -> Figure:
    """One card per segment: size, revenue share, rules, profile and suggested action.

    Parameters
    ----------
    cards : pandas.DataFrame
        ``segment_cards``: ``segmentation_type, segment, segment_name, customers, share,
        revenue_share, rules_text, profile_text, suggested_action`` and the ``z_<feature>``
        columns of :data:`CARD_FEATURES`.
    segmentation_type : {'rfm', 'business', 'cluster'}
    ncols : int
        Cards per row (2 keeps the text readable at the width of the docs pages).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if segmentation_type not in SEGMENTATION_TYPES:
        raise ValueError(f"segmentation_type must be one of {', '.join(SEGMENTATION_TYPES)}, "
                         f"got {segmentation_type!r}")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    z_columns = [f"z_{f}" for f in CARD_FEATURES]
    _require(cards, ["segmentation_type", "segment", "segment_name", "customers", "share",
                     "revenue_share", "rules_text", "profile_text", "suggested_action", *z_columns],
             "cards")
    data = cards[cards["segmentation_type"] == segmentation_type]
    if len(data) == 0:
        raise ValueError(f"cards has no rows of segmentation_type {segmentation_type!r}")
    data = data.sort_values(["customers", "segment"], ascending=[False, True]).reset_index(drop=True)
    n = len(data)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    card_w, card_h = 5.6, 3.4
    with matplotlib.rc_context(_style()):
        total_h = card_h * nrows + 0.5
        fig = Figure(figsize=(card_w * ncols, total_h))
        fig.suptitle(f"{TYPE_TITLES[segmentation_type]}: segment cards", x=0.01, ha="left",
                     y=1 - 0.1 / total_h, va="top", fontsize=13, weight="bold")
        for i, row in data.iterrows():
            r, c = divmod(i, ncols)
            left = (c * card_w + 0.08) / (card_w * ncols)
            bottom = (total_h - 0.5 - (r + 1) * card_h + 0.08) / total_h
            ax = fig.add_axes([left, bottom, (card_w - 0.16) / (card_w * ncols), (card_h - 0.16) / total_h])
            _draw_card(ax, row)
    return fig


def _predicted_value_text(row: pd.Series) -> str:
    """'  ·  365-day value 12,345  ·  alive 81.0%' when the card has the CLV columns."""
    parts = []
    if pd.notna(row.get("expected_revenue_365")):
        parts.append(f"365-day value {_fmt(row['expected_revenue_365'])}")
    if pd.notna(row.get("mean_probability_alive")):
        parts.append(f"alive {_pct(row['mean_probability_alive'])}")
    return "".join(f"  ·  {part}" for part in parts)


def _draw_card(ax, row: pd.Series) -> None:
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#bdbdbd")
    unclassified = row["segment"] == UNCLASSIFIED and row["segmentation_type"] == "cluster"
    ax.add_patch(matplotlib.patches.Rectangle((0, 0.8), 1, 0.2, color=UNCLASSIFIED_COLOUR if unclassified
                                              else CUSTOMER_COLOUR, transform=ax.transAxes))
    ax.text(0.025, 0.925, _wrap(_segment_label(row), 60, 1), color="white", fontsize=10.5,
            weight="bold", va="center", transform=ax.transAxes)
    ax.text(0.025, 0.845, f"{_customers(row['customers'])} ({_pct(row['share'])})   ·   "
            f"revenue share {_pct(row['revenue_share'])}{_predicted_value_text(row)}", color="white",
            fontsize=8.5 if pd.isna(row.get("expected_revenue_365")) else 7.5, va="center", transform=ax.transAxes)
    y = 0.765
    items = [("Rules", row["rules_text"], 6), ("Profile", row["profile_text"], 3),
             ("Action", row["suggested_action"], 3)]
    if row["segmentation_type"] != "cluster" and isinstance(row.get("description"), str):
        items.insert(0, ("What", row["description"], 2))
    for label, text, lines in items:
        body = _wrap(text if isinstance(text, str) and text else "-", 50, lines)
        ax.text(0.025, y, label, fontsize=7.5, weight="bold", va="top", color="#37474f",
                transform=ax.transAxes)
        ax.text(0.135, y, body, fontsize=7, va="top", transform=ax.transAxes, linespacing=1.25)
        y -= 0.058 * (body.count("\n") + 1) + 0.035
    inset = ax.inset_axes([0.8, 0.1, 0.17, 0.62])
    z = np.array([row[f"z_{f}"] for f in CARD_FEATURES], dtype=float)
    shown = np.clip(np.nan_to_num(z, nan=0.0), -3, 3)
    colours = ["#c62828" if v > 0 else "#1565c0" for v in shown]
    positions = np.arange(len(CARD_FEATURES))[::-1]
    inset.barh(positions, shown, color=colours, height=0.7)
    inset.axvline(0, color="#616161", linewidth=0.8)
    inset.set_xlim(-3, 3)
    inset.set_xticks([-2, 0, 2])
    inset.set_yticks(positions, [CARD_FEATURE_LABELS[f] for f in CARD_FEATURES], fontsize=6.5)
    inset.tick_params(axis="x", labelsize=6)
    inset.tick_params(axis="y", length=0)
    inset.set_title("z vs all customers", fontsize=6.5)
    for spine in ("top", "right", "left"):
        inset.spines[spine].set_visible(False)


# ---------------------------------------------------------------------------
# reading the database
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class ChartData:
    """The tables the charts are drawn from; None where the table is missing.

    Attributes
    ----------
    k_selection, profiles, cards, centroids, rules, history : pandas.DataFrame or None
    k_selection_reason : str or None
    cluster_names : dict
        Cluster id -> name of the latest model.
    projection : dict or None
        ``points, cluster_ids, centroid_points, centroid_ids, explained, n_customers``.
    """

    k_selection: pd.DataFrame | None = None
    k_selection_reason: str | None = None
    comparison: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None
    cards: pd.DataFrame | None = None
    centroids: pd.DataFrame | None = None
    rules: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    cluster_names: dict = dataclasses.field(default_factory=dict)
    projection: dict | None = None
    clv_model: dict | None = None
    clv_inputs: pd.DataFrame | None = None


#: Metrics of :func:`algorithm_comparison_figure`, all on a 0..1 scale (train_seconds is left
#: out: it varies between builds, and the images are byte-identical on rebuilds).
COMPARISON_METRICS = (("silhouette", "silhouette"), ("tree_fidelity", "tree fidelity"),
                      ("stability_ari", "stability (ARI)"), ("smallest_share", "smallest cluster"),
                      ("noise_share", "noise share"))


def algorithm_comparison_figure(comparison: pd.DataFrame) -> Figure:
    """The clustering methods side by side: one group of bars per method, one bar per metric.

    Parameters
    ----------
    comparison : pandas.DataFrame
        ``cluster_algorithm_comparison``: ``algorithm, k`` and the metrics of
        :data:`COMPARISON_METRICS`, ``is_recommended``, ``is_production``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(comparison, ["algorithm", "k", "is_recommended", "is_production",
                          *(m for m, _ in COMPARISON_METRICS)], "comparison")
    if len(comparison) == 0:
        raise ValueError("comparison has no rows")
    data = comparison.reset_index(drop=True)
    n, m = len(data), len(COMPARISON_METRICS)
    colours = _colours(m)
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(11, 4.2))
        ax = fig.add_axes([0.06, 0.27, 0.74, 0.62])
        width = 0.8 / m
        x = np.arange(n)
        for j, (metric, label) in enumerate(COMPARISON_METRICS):
            values = pd.to_numeric(data[metric], errors="coerce").to_numpy(dtype=float)
            pos = x - 0.4 + width * (j + 0.5)
            ax.bar(pos, np.nan_to_num(values, nan=0.0), width=width * 0.92, color=colours[j], label=label)
            for xi, v in zip(pos, values):
                if not np.isfinite(v):
                    ax.text(xi, 0.01, "n/a", rotation=90, ha="center", va="bottom", fontsize=7)
        labels = []
        for _, r in data.iterrows():
            k = "no clusters" if pd.isna(r["k"]) else f"k={int(r['k'])}"
            tags = [t for t, on in (("recommended", r["is_recommended"]), ("production", r["is_production"]))
                    if bool(on)]
            labels.append(f"{r['algorithm']}\n{k}" + (f"\n({', '.join(tags)})" if tags else ""))
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=8)
        for tick, (_, r) in zip(ax.get_xticklabels(), data.iterrows()):
            if bool(r["is_recommended"]):
                tick.set_fontweight("bold")
        ax.set_ylim(min(0.0, float(np.nanmin(pd.to_numeric(data["silhouette"], errors="coerce")
                                               .fillna(0).to_numpy())) - 0.05), 1.05)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylabel("score (0..1)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title("Clustering methods compared on one sample (higher is better, except noise share)",
                     loc="left", weight="bold")
    return fig


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = current_schema()").fetchall()}


def read_chart_data(con, sample_size: int = 2000, random_state: int = 0) -> ChartData:
    """Read every table the charts need from an open DuckDB connection.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the built database (read-only is enough).
    sample_size : int
        At most this many clustered customers in the PCA projection.
    random_state : int
        Seed of the sample: customers are taken in the order of ``md5(seed || id)``, so
        the sample does not depend on row order.

    Returns
    -------
    ChartData
    """
    if not isinstance(sample_size, int) or sample_size < 2:
        raise ValueError(f"sample_size must be an integer >= 2, got {sample_size!r}")
    if not isinstance(random_state, int):
        raise ValueError(f"random_state must be an integer, got {random_state!r}")
    tables = _tables(con)
    data = ChartData()

    def df(sql: str, *params) -> pd.DataFrame:
        return con.execute(sql, list(params)).df()

    if "cluster_k_selection" in tables:
        data.k_selection = df("select * from cluster_k_selection order by k")
    if "cluster_models" in tables:
        latest = df("select * from cluster_models order by model_version desc limit 1")
        if len(latest):
            data.k_selection_reason = latest.loc[0, "k_selection_reason"]
            params = json.loads(latest.loc[0, "params_json"])
            data.cluster_names = {int(c["cluster_id"]): c["name"] for c in params.get("clusters", [])}
            if {"int_customers_clustering_input", "customer_clusters"} <= tables and params.get("clusters"):
                data.projection = _projection(con, latest.iloc[0].to_dict(), params, sample_size,
                                              random_state)
    if "clv_models" in tables:
        latest = df("select * from clv_models order by model_version desc limit 1")
        if len(latest):
            data.clv_model = latest.iloc[0].to_dict()
            if "int_customers_clv_inputs" in tables:
                data.clv_inputs = df("select customer_id, has_purchases, frequency, recency, t, holdout_length, "
                                     "holdout_purchase_days from int_customers_clv_inputs order by customer_id")
    if "segment_profiles" in tables:
        data.profiles = df("select * from segment_profiles order by segmentation_type, segment")
    if "segment_cards" in tables:
        data.cards = df("select * from segment_cards order by segmentation_type, segment")
    if "cluster_centroids" in tables:
        data.centroids = df("select * from cluster_centroids order by cluster_id, feature_name")
    if "cluster_rules" in tables:
        data.rules = df("select * from cluster_rules order by leaf_id")
    if "cluster_algorithm_comparison" in tables:
        data.comparison = df("select * from cluster_algorithm_comparison")
    if "segment_size_history" in tables:
        data.history = df("select * from segment_size_history order by as_of_date, segmentation_type, segment")
    return data


def _projection(con, registry_row: dict, params: dict, sample_size: int, random_state: int) -> dict | None:
    from segmentation.clustering.inputs import prepare_input
    from segmentation.clustering.preprocessing import category_codes, impute, transform

    pre = params["preprocessing"]
    numeric = [p["feature"] for p in pre["numeric"]]
    categorical = [c["feature"] for c in pre["categorical"]]
    n_customers = con.execute(
        "select count(*) from customer_clusters where cluster_id is not null").fetchone()[0]
    frame = con.execute(
        """
        select clustering_input.*, customer_clusters.cluster_id as cluster_id__chart
        from int_customers_clustering_input as clustering_input
        inner join customer_clusters
            on clustering_input.customer_id = customer_clusters.customer_id
        where customer_clusters.cluster_id is not null
        order by md5(cast(? as varchar) || ':' || clustering_input.customer_id), clustering_input.customer_id
        limit ?
        """, [str(random_state), sample_size]).df()
    if len(frame) < 2:
        return None
    data = prepare_input(frame.drop(columns="cluster_id__chart"), numeric, categorical)
    ids = frame.set_index("customer_id").loc[data.customer_id, "cluster_id__chart"].to_numpy(dtype=np.int64)
    codes = [category_codes(data.categorical[c["feature"]], c["levels"]) for c in pre["categorical"]]
    Z = transform(pre, impute(pre, data.X), codes)
    keep = np.isfinite(Z).all(axis=1)
    centroids = np.asarray([c["centroid_scaled"] for c in params["clusters"]], dtype=np.float64)
    points, centre_points, explained = project_customers(Z[keep], centroids, random_state)
    return {"points": points, "cluster_ids": ids[keep], "centroid_points": centre_points,
            "centroid_ids": [int(c["cluster_id"]) for c in params["clusters"]],
            "explained": explained, "n_customers": int(n_customers)}


def _figures(data: ChartData) -> dict[str, Figure]:
    missing = "Build the project first (`make run`), then render the charts again."
    out: dict[str, Figure] = {}
    out["k_selection"] = (k_selection_figure(data.k_selection, data.k_selection_reason)
                          if data.k_selection is not None and len(data.k_selection)
                          else placeholder_figure("No k selection yet", missing))
    for t in SEGMENTATION_TYPES:
        has_profiles = data.profiles is not None and (data.profiles["segmentation_type"] == t).any()
        out[f"sizes_{t}"] = (segment_sizes_figure(data.profiles, t) if has_profiles
                             else placeholder_figure(f"No {TYPE_TITLES[t]} yet", missing))
        has_cards = data.cards is not None and (data.cards["segmentation_type"] == t).any()
        out[f"cards_{t}"] = (segment_cards_figure(data.cards, t) if has_cards
                             else placeholder_figure(f"No {TYPE_TITLES[t]} cards yet", missing))
    sizes = None
    if data.profiles is not None:
        clusters = data.profiles[(data.profiles["segmentation_type"] == "cluster")
                                 & (data.profiles["segment"] != UNCLASSIFIED)]
        sizes = pd.Series(clusters["customers"].to_numpy(), index=clusters["segment"].astype(int))
    out["cluster_profiles"] = (cluster_profile_figure(data.centroids, sizes)
                               if data.centroids is not None and len(data.centroids)
                               else placeholder_figure("No cluster profiles yet", missing))
    out["cluster_rules"] = (cluster_rules_figure(data.rules, data.cluster_names)
                            if data.rules is not None and len(data.rules)
                            else placeholder_figure("No cluster rules yet", missing))
    p = data.projection
    out["cluster_pca"] = (cluster_projection_figure(p["points"], p["cluster_ids"], data.cluster_names,
                                                    p["centroid_points"], p["centroid_ids"],
                                                    p["explained"], p["n_customers"])
                          if p is not None else placeholder_figure("No clusters to project yet", missing))
    out["segment_size_history"] = segment_history_figure(data.history)
    out["cluster_algorithm_comparison"] = (
        algorithm_comparison_figure(data.comparison)
        if data.comparison is not None and len(data.comparison)
        else placeholder_figure("No clustering methods compared yet",
                                "Build with --vars '{cluster_comparison_enabled: true}', then render "
                                "the charts again."))
    out.update(_clv_figures(data, missing))
    return out


def _clv_figures(data: ChartData, missing: str) -> dict[str, Figure]:
    from segmentation.clv import expected_repeat_purchases, probability_alive_matrix

    row, inputs = data.clv_model, data.clv_inputs
    if row is None or inputs is None:
        none = placeholder_figure("No CLV model yet", missing)
        return {"clv_holdout": none, "clv_probability_alive": none}
    buyers = inputs[inputs["has_purchases"].fillna(False).astype(bool)]
    unit = str(row["time_unit"])
    max_f = int(min(buyers["frequency"].quantile(0.99), 30)) if len(buyers) else 0
    out = {"clv_probability_alive": clv_probability_alive_figure(
        *probability_alive_matrix(row, max_frequency=max(max_f, 1), max_t=float(buyers["t"].max())), unit)}
    length = inputs["holdout_length"].max()
    if pd.isna(length) or length <= 0:
        out["clv_holdout"] = placeholder_figure(
            "No holdout period", "The data ends at the as-of date. Build with an earlier as_of_date "
            "(e.g. make run VARS=examples/cdnow.yml) to compare predictions with what happened.")
    else:
        expected = expected_repeat_purchases(row, buyers["frequency"], buyers["recency"], buyers["t"], float(length))
        out["clv_holdout"] = clv_holdout_figure(buyers["frequency"].to_numpy(), expected,
                                                buyers["holdout_purchase_days"].to_numpy(), float(length), unit)
    return out


def clv_holdout_figure(frequency: np.ndarray, expected: np.ndarray, actual: np.ndarray, length: float,
                       unit: str, max_frequency: int = 7) -> Figure:
    """Mean expected against mean actual purchases in the holdout, by calibration frequency.

    Parameters
    ----------
    frequency, expected, actual : ndarray, shape (n_customers,)
        Repeat purchase days before the as-of date, the model's expected purchases over the
        holdout and the purchase days in it.
    length : float
        Holdout length in ``unit``.
    """
    _require(pd.DataFrame({"frequency": frequency}), ["frequency"], "clv holdout")
    group = np.minimum(np.asarray(frequency, dtype=float), max_frequency).astype(int)
    frame = pd.DataFrame({"group": group, "expected": expected, "actual": actual})
    means = frame.groupby("group").agg(expected=("expected", "mean"), actual=("actual", "mean"),
                                       customers=("actual", "size"))
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(7.5, 4.2))
        ax = fig.subplots()
        ax.plot(means.index, means["actual"], marker="o", color="#37474f", label="actual")
        ax.plot(means.index, means["expected"], marker="s", linestyle="--", color=CUSTOMER_COLOUR,
                label="expected (model)")
        ax.set_xticks(means.index, [f"{i}+" if i == max_frequency else str(i) for i in means.index])
        ax.set_xlabel("repeat purchase days before the as-of date")
        ax.set_ylabel("mean purchase days in the holdout")
        total_expected, total_actual = float(np.sum(expected)), float(np.sum(actual))
        ax.set_title(f"Holdout of {length:.0f} {unit}: expected {total_expected:,.0f}, actual {total_actual:,.0f} "
                     f"purchase days", fontsize=10)
        ax.legend(frameon=False)
        fig.tight_layout()
    return fig


def clv_probability_alive_figure(frequencies: np.ndarray, recencies: np.ndarray, matrix: np.ndarray,
                                 unit: str) -> Figure:
    """Heat map of probability alive by repeat purchases (rows) and recency (columns).

    Parameters
    ----------
    frequencies : ndarray, shape (n_frequencies,)
    recencies : ndarray, shape (n_recencies,)
    matrix : ndarray, shape (n_frequencies, n_recencies)
    """
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(7.5, 4.6))
        ax = fig.subplots()
        image = ax.imshow(matrix, origin="lower", aspect="auto", cmap="RdYlGn", vmin=0, vmax=1,
                          extent=(recencies[0], recencies[-1], frequencies[0] - 0.5, frequencies[-1] + 0.5))
        fig.colorbar(image, ax=ax, label="probability alive")
        ax.set_xlabel(f"recency: first to last purchase ({unit})")
        ax.set_ylabel("repeat purchase days (frequency)")
        ax.set_title(f"Probability alive of a customer whose first purchase was {recencies[-1]:.0f} {unit} ago",
                     fontsize=10)
        fig.tight_layout()
    return fig


def render_charts(database: str | os.PathLike, out_dir: str | os.PathLike, sample_size: int = 2000,
                  random_state: int = 0) -> list[Path]:
    """Render every chart of :data:`CHART_FILES` from a built DuckDB file into ``out_dir``.

    Parameters
    ----------
    database : path-like
        The DuckDB file ``dbt build`` wrote (opened read-only).
    out_dir : path-like
        Folder for the PNGs (``assets/`` for the dbt docs).
    sample_size, random_state : int
        See :func:`read_chart_data`.

    Returns
    -------
    list of pathlib.Path
        The files written, in :data:`CHART_FILES` order.

    Raises
    ------
    ValueError
        If ``database`` does not exist.
    """
    import duckdb

    database = Path(database)
    if not database.is_file():
        raise ValueError(f"database {str(database)!r} does not exist: build the project first (make run)")
    with duckdb.connect(str(database), read_only=True) as con:
        data = read_chart_data(con, sample_size=sample_size, random_state=random_state)
    figures = _figures(data)
    out_dir = Path(out_dir)
    return [save_figure(figures[key], out_dir / name) for key, name in CHART_FILES.items()]
