"""The segment dashboard's data and figures (dashboards/segments_app.py is the Streamlit page).

Everything the dashboard shows comes from the published marts, read once per page load
through a read-only DuckDB connection that is closed before the page is drawn, so the
dashboard never holds the database file while `dbt build` wants to write it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

#: The one place that names the schema BI reads: the published marts. Override with the
#: environment variable SEGMENTATION_PUBLISHED_SCHEMA.
DEFAULT_PUBLISHED_SCHEMA = "main"
SEGMENTATION_TYPES = ("rfm", "business", "cluster")
TYPE_LABELS = {"rfm": "RFM segments", "business": "Business segments", "cluster": "Clusters"}


def published_schema() -> str:
    """The schema of the published marts (SEGMENTATION_PUBLISHED_SCHEMA, default ``main``)."""
    schema = os.environ.get("SEGMENTATION_PUBLISHED_SCHEMA", DEFAULT_PUBLISHED_SCHEMA).strip()
    if not schema:
        raise ValueError("SEGMENTATION_PUBLISHED_SCHEMA is set but empty; unset it or name a schema")
    return schema


def database_path() -> Path:
    """The DuckDB file (SEGMENTATION_DUCKDB_PATH, default segmentation.duckdb, as profiles.yml)."""
    return Path(os.environ.get("SEGMENTATION_DUCKDB_PATH", "segmentation.duckdb"))


@dataclass
class DashboardData:
    """The marts the dashboard shows, one DataFrame each."""

    profiles: pd.DataFrame
    cards: pd.DataFrame
    history: pd.DataFrame
    transitions: pd.DataFrame

    @property
    def as_of_date(self) -> str:
        return str(self.profiles["as_of_date"].max())

    @property
    def customers(self) -> int:
        return int(self.profiles.loc[self.profiles["segmentation_type"] == "rfm", "customers"].sum())

    @property
    def revenue(self) -> float:
        return float(self.profiles.loc[self.profiles["segmentation_type"] == "rfm", "revenue"].sum())


_QUERIES = {
    "profiles": """
        select segmentation_type, segment, segment_name, customers, share, revenue,
               revenue_share, cast(as_of_date as varchar) as as_of_date
        from {schema}.segment_profiles
        order by segmentation_type, share desc, segment_name""",
    "cards": """
        select segmentation_type, segment_name, customers, share, revenue_share, profile_text,
               suggested_action
        from {schema}.segment_cards
        order by segmentation_type, customers desc, segment_name""",
    "history": """
        select cast(as_of_date as varchar) as as_of_date, segmentation_type, segment,
               segment_name, customers, share
        from {schema}.segment_size_history
        order by as_of_date, segmentation_type, segment_name""",
    "transitions": """
        select segmentation_type, from_segment_name, to_segment_name, transition_type,
               customers, share_of_from_segment
        from {schema}.segment_transitions
        where as_of_date = (select max(as_of_date) from {schema}.segment_transitions)
          and transition_type <> 'stayed'
        order by segmentation_type, customers desc, from_segment_name, to_segment_name""",
}


def load(database: str | Path | None = None, schema: str | None = None) -> DashboardData:
    """Read the dashboard's marts from the built database.

    Parameters
    ----------
    database : path, optional
        The DuckDB file; default :func:`database_path`.
    schema : str, optional
        The schema of the published marts; default :func:`published_schema`.

    Returns
    -------
    DashboardData
    """
    database = Path(database) if database is not None else database_path()
    if not database.is_file():
        raise ValueError(f"no database at {database}: run `make run` first, or set "
                         "SEGMENTATION_DUCKDB_PATH to the built DuckDB file")
    schema = schema or published_schema()
    quoted = '"' + schema.replace('"', '""') + '"'
    with duckdb.connect(str(database), read_only=True) as con:
        frames = {name: con.sql(sql.format(schema=quoted)).df() for name, sql in _QUERIES.items()}
    return DashboardData(**frames)


def pct(x: float) -> str:
    """A share as the dashboard writes it: one decimal, e.g. ``0.634 -> '63.4%'``."""
    return f"{100 * float(x):.1f}%"


def share_figure(profiles: pd.DataFrame, segmentation_type: str):
    """Grouped horizontal bars: each segment's share of customers and of net revenue."""
    import plotly.graph_objects as go

    rows = profiles[profiles["segmentation_type"] == segmentation_type].sort_values(
        ["share", "segment_name"], ascending=[True, False])
    figure = go.Figure()
    for column, label in (("share", "share of customers"), ("revenue_share", "share of net revenue")):
        figure.add_bar(y=rows["segment_name"], x=rows[column], orientation="h", name=label,
                       text=[pct(v) for v in rows[column]], textposition="outside")
    figure.update_layout(barmode="group", title=f"{TYPE_LABELS[segmentation_type]}: share of "
                         "customers and of net revenue", xaxis_tickformat=".0%",
                         height=160 + 46 * len(rows), margin={"l": 10, "r": 40, "t": 60, "b": 30},
                         legend={"orientation": "h"})
    return figure


def history_figure(history: pd.DataFrame, segmentation_type: str):
    """Lines: each segment's share of customers per as-of date, labelled at the latest date."""
    import plotly.graph_objects as go

    rows = history[history["segmentation_type"] == segmentation_type]
    latest = rows["as_of_date"].max() if len(rows) else None
    figure = go.Figure()
    for name, segment in rows.groupby("segment_name", sort=True):
        segment = segment.sort_values("as_of_date")
        figure.add_scatter(x=segment["as_of_date"], y=segment["share"], name=name,
                           mode="lines+markers+text", textposition="middle right",
                           text=[pct(s) if d == latest else "" for d, s in
                                 zip(segment["as_of_date"], segment["share"])])
    figure.update_layout(title=f"{TYPE_LABELS[segmentation_type]}: share of customers per as-of date",
                         yaxis_tickformat=".0%", xaxis_type="category", height=420,
                         margin={"l": 10, "r": 10, "t": 60, "b": 30})
    return figure


def cards_table(cards: pd.DataFrame) -> pd.DataFrame:
    """The segment cards' main figures, formatted for display."""
    return pd.DataFrame({
        "type": cards["segmentation_type"],
        "segment": cards["segment_name"],
        "customers": [f"{int(c):,}" for c in cards["customers"]],
        "share": [pct(s) for s in cards["share"]],
        "revenue share": [pct(s) for s in cards["revenue_share"]],
        "how it differs": cards["profile_text"].fillna(""),
        "suggested action": cards["suggested_action"].fillna(""),
    })


def transitions_table(transitions: pd.DataFrame) -> pd.DataFrame:
    """The latest date's segment transitions (stays left out), formatted for display."""
    return pd.DataFrame({
        "type": transitions["segmentation_type"],
        # No from-segment for new customers, no to-segment for those who left.
        "from": transitions["from_segment_name"].fillna("-"),
        "to": transitions["to_segment_name"].fillna("-"),
        "transition": transitions["transition_type"],
        "customers": [f"{int(c):,}" for c in transitions["customers"]],
        "share of from-segment": [pct(s) for s in transitions["share_of_from_segment"].fillna(0)],
    })
