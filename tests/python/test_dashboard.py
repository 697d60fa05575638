"""The Streamlit dashboard (dashboards/segments_app.py) on the published marts.

The data functions are checked on a small hand-made database; then the real dashboard is
started on the demo built at two as-of dates, opened in headless Chromium, and every chart
and table must show the demo's numbers (as in the marts, formatted as the page writes them).
A screenshot is taken (SEGMENTATION_SCREENSHOT_DIR=dir keeps it).
"""
from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from dbt_harness import PROJECT_DIR
from segmentation import dashboard

APP = PROJECT_DIR / "dashboards" / "segments_app.py"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=30000"]


# --------------------------------------------------------------------------- data functions
@pytest.fixture
def tiny_database(tmp_path) -> Path:
    path = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema published")
        con.execute("""create table published.segment_profiles as select * from (values
            ('rfm', 'A', 'Alpha', 3, 0.75, 90.0, 0.9, date '2026-01-31'),
            ('rfm', 'B', 'Beta', 1, 0.25, 10.0, 0.1, date '2026-01-31'),
            ('cluster', '1', 'Big', 4, 1.0, 100.0, 1.0, date '2026-01-31'))
            as t(segmentation_type, segment, segment_name, customers, share, revenue,
                 revenue_share, as_of_date)""")
        con.execute("""create table published.segment_cards as select segmentation_type,
            segment_name, customers, share, revenue_share, 'profile ' || segment as profile_text,
            'act on ' || segment as suggested_action from published.segment_profiles""")
        con.execute("""create table published.segment_size_history as select as_of_date,
            segmentation_type, segment, segment_name, customers, share
            from published.segment_profiles""")
        con.execute("""create table published.segment_transitions as select * from (values
            (date '2026-01-31', 'rfm', 'Alpha', 'Beta', 'moved', 1, 0.5),
            (date '2026-01-31', 'rfm', 'Alpha', 'Alpha', 'stayed', 1, 0.5),
            (date '2025-12-31', 'rfm', 'Beta', 'Alpha', 'moved', 7, 1.0))
            as t(as_of_date, segmentation_type, from_segment_name, to_segment_name,
                 transition_type, customers, share_of_from_segment)""")
    return path


def test_load_reads_the_configured_schema_and_totals(tiny_database, monkeypatch):
    monkeypatch.setenv("SEGMENTATION_PUBLISHED_SCHEMA", "published")
    data = dashboard.load(tiny_database)
    assert (data.customers, data.revenue, data.as_of_date) == (4, 100.0, "2026-01-31")
    # Only the latest date's transitions, and no 'stayed' rows.
    assert data.transitions[["from_segment_name", "to_segment_name", "customers"]].values.tolist() \
        == [["Alpha", "Beta", 1]]
    cards = dashboard.cards_table(data.cards)
    assert cards.loc[cards["segment"] == "Alpha", ["customers", "share", "revenue share"]] \
        .values.tolist() == [["3", "75.0%", "90.0%"]]


def test_load_names_the_missing_database_and_the_empty_schema(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="SEGMENTATION_DUCKDB_PATH"):
        dashboard.load(tmp_path / "missing.duckdb")
    monkeypatch.setenv("SEGMENTATION_PUBLISHED_SCHEMA", " ")
    with pytest.raises(ValueError, match="SEGMENTATION_PUBLISHED_SCHEMA"):
        dashboard.published_schema()


def test_share_figure_labels_every_segment_with_both_shares(tiny_database, monkeypatch):
    if os.environ.get("SEGMENTATION_REQUIRE_DASHBOARD") != "1":
        pytest.importorskip("plotly")
    monkeypatch.setenv("SEGMENTATION_PUBLISHED_SCHEMA", "published")
    figure = dashboard.share_figure(dashboard.load(tiny_database).profiles, "rfm")
    assert [list(bar.text) for bar in figure.data] == [["25.0%", "75.0%"], ["10.0%", "90.0%"]]
    assert list(figure.data[0].y) == ["Beta", "Alpha"]


# --------------------------------------------------------------------------- in a browser
def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("SEGMENTATION_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is not installed; `make test` installs it")
        pytest.skip("chromium is not installed (make test installs it)")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served_dashboard(demo_history_build):
    if importlib.util.find_spec("streamlit") is None:
        if os.environ.get("SEGMENTATION_REQUIRE_DASHBOARD") == "1":
            pytest.fail("streamlit is not installed; `make test` installs dashboards/requirements.txt")
        pytest.skip("streamlit is not installed (make dashboard-install)")
    port = _free_port()
    env = {**os.environ, "SEGMENTATION_DUCKDB_PATH": str(demo_history_build.database)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the dashboard did not start within 120 s"
            time.sleep(0.5)
        yield demo_history_build, url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _texts(fragment: str) -> list[str]:
    return [html.unescape(t).strip() for t in re.findall(r">([^<>]+)<", fragment) if t.strip()]


class _Browser:
    """Headless Chromium driven over the DevTools protocol (websockets, which Streamlit
    brings): a Streamlit page draws itself from websocket messages after load, so the
    page is polled until it has drawn, instead of `--dump-dom` at a fixed virtual time."""

    def __init__(self, chromium: str, profile: Path, url: str):
        import json

        from websockets.sync.client import connect

        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS[:-1], f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "--window-size=1400,1000", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (active.exists() and active.read_text().strip()):
            assert time.monotonic() < deadline and self.process.poll() is None, "chromium did not start"
            time.sleep(0.2)
        port = active.read_text().split()[0]
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                pages = [t for t in json.load(response) if t["type"] == "page"]
            if pages:
                break
            assert time.monotonic() < deadline, "chromium opened no page"
            time.sleep(0.2)
        self.socket = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30,
                              legacy=True)
        self._id = 0
        self._json = json

    def call(self, method: str, **params):
        self._id += 1
        self.socket.send(self._json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = self._json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self._id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            assert time.monotonic() < deadline, f"the page never satisfied: {expression}"
            time.sleep(0.5)

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def test_dashboard_renders_every_chart_and_table_with_the_demos_numbers(served_dashboard, tmp_path):
    build, url = served_dashboard
    browser = _Browser(_chromium(), tmp_path / "profile", url)
    try:
        # Drawn: six Plotly charts with their SVG text and both tables, and the script done.
        browser.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6"
                         " && document.querySelectorAll('table').length >= 2"
                         " && document.querySelectorAll('.js-plotly-plot text').length > 100"
                         " && !document.querySelector('[data-testid=stStatusWidget]')")
        time.sleep(1.0)  # let the last chart finish its text layout
        dom = browser.evaluate("document.documentElement.outerHTML")
        import base64

        shot = browser.call("Page.captureScreenshot", format="png")
        screenshot = tmp_path / "dashboard.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.close()
    assert "Traceback" not in dom and "stException" not in dom, "the app raised an error"

    # Six Plotly charts (sizes and history per segmentation type), each drawn as SVG.
    charts = re.split(r'class="[^"]*js-plotly-plot', dom)[1:]
    assert len(charts) == 6, f"expected 6 charts, found {len(charts)}"
    profiles = build.query("select segmentation_type, segment_name, share, revenue_share"
                           " from segment_profiles")
    for index, kind in enumerate(dashboard.SEGMENTATION_TYPES):
        texts = _texts(charts[index])
        rows = profiles[profiles["segmentation_type"] == kind]
        for row in rows.itertuples():
            assert row.segment_name in texts, (kind, row.segment_name)
            assert dashboard.pct(row.share) in texts and dashboard.pct(row.revenue_share) in texts, \
                (kind, row.segment_name)
    history = build.query("select cast(as_of_date as varchar) as as_of_date, segmentation_type,"
                          " segment_name, share from segment_size_history")
    latest = history["as_of_date"].max()
    for index, kind in enumerate(dashboard.SEGMENTATION_TYPES, start=3):
        texts = _texts(charts[index])
        rows = history[history["segmentation_type"] == kind]
        assert set(rows["as_of_date"]) <= set(texts), kind  # both as-of dates on the x axis
        for row in rows[rows["as_of_date"] == latest].itertuples():
            assert row.segment_name in texts and dashboard.pct(row.share) in texts, (kind, row)

    # The two tables: segment cards and transitions, every row with its figures.
    tables = re.findall(r"<table.*?</table>", dom, re.S)
    assert len(tables) == 2
    card_rows = [_texts(r) for r in re.findall(r"<tr.*?</tr>", tables[0], re.S)][1:]
    cards = dashboard.cards_table(build.query(
        "select segmentation_type, segment_name, customers, share, revenue_share, profile_text,"
        " suggested_action from segment_cards"))
    assert len(card_rows) == len(cards) > 20
    # st.table may lead each row with its index; the first five figures follow the type.
    shown = {tuple(r[r.index(t):][:5]) for r in card_rows for t in dashboard.SEGMENTATION_TYPES
             if t in r[:2]}
    for row in cards.itertuples(index=False):
        assert (row[0], row[1], row[2], row[3], row[4]) in shown, row
    moves = build.query("select count(*) as n, sum(customers) as c from segment_transitions"
                        " where as_of_date = (select max(as_of_date) from segment_transitions)"
                        " and transition_type <> 'stayed'")
    transition_rows = [_texts(r) for r in re.findall(r"<tr.*?</tr>", tables[1], re.S)][1:]
    assert len(transition_rows) == int(moves["n"][0]) > 0
    counts = [r[r.index(kind):][4] for r in transition_rows
              for kind in dashboard.SEGMENTATION_TYPES if kind in r[:2]]
    assert len(counts) == len(transition_rows)
    assert sum(int(c.replace(",", "")) for c in counts) == int(moves["c"][0])

    # The headline figures.
    customers = build.scalar("select count(*) from customer_features")
    assert f"{customers:,}" in _texts(dom) and latest in _texts(dom)

    from PIL import Image

    image = Image.open(screenshot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "the screenshot looks blank"
    keep = os.environ.get("SEGMENTATION_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep) / "dashboard.png")
