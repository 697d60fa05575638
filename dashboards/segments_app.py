"""The segment dashboard (Streamlit): `make dashboard`, then open http://localhost:8501.

Reads the published marts of the built DuckDB file (SEGMENTATION_DUCKDB_PATH, schema
SEGMENTATION_PUBLISHED_SCHEMA); all logic is in segmentation/dashboard.py.
"""
import streamlit as st

from segmentation import dashboard

st.set_page_config(page_title="Customer segments", layout="wide")
data = dashboard.load()

st.title("Customer segments")
st.caption("RFM segments, business-rule segments and k-means clusters from `dbt build`, "
           f"read from the published marts (schema `{dashboard.published_schema()}`).")
left, middle, right = st.columns(3)
left.metric("Customers", f"{data.customers:,}")
middle.metric("Net revenue", f"{data.revenue:,.0f}")
right.metric("As of", data.as_of_date)

st.header("Segment sizes and revenue share")
for kind in dashboard.SEGMENTATION_TYPES:
    st.plotly_chart(dashboard.share_figure(data.profiles, kind), key=f"shares_{kind}")

st.header("Segment cards")
st.table(dashboard.cards_table(data.cards))

st.header("Segment size over time")
for kind in dashboard.SEGMENTATION_TYPES:
    st.plotly_chart(dashboard.history_figure(data.history, kind), key=f"history_{kind}")

st.header("Transitions at the latest as-of date")
st.table(dashboard.transitions_table(data.transitions))
