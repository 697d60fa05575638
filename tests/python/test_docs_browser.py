"""The generated docs render in a real browser, with the charts loaded.

The docs site (target/ after `dbt docs generate --static`, charts rendered from the demo
build) is served on localhost and opened in headless Chromium (Debian package `chromium`;
`make test` installs it when missing). dbt's docs are an Angular app that loads
manifest.json and catalog.json by XHR, so each page is given a virtual-time budget before
the DOM is dumped. Checks: the page for customer_segments and the overview render, their
<img> tags point at the charts, and the browser really fetched every chart with HTTP 200.
Screenshots are taken and checked for content (set SEGMENTATION_SCREENSHOT_DIR to keep them).

Without Chromium the tests are skipped, unless SEGMENTATION_REQUIRE_CHROMIUM=1 (set by
`make test`), where a missing browser is a failure.
"""
from __future__ import annotations

import functools
import html
import http.server
import os
import re
import shutil
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

from docs_site import PACKAGE, docs_site_for

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-quic", "--hide-scrollbars", "--virtual-time-budget=15000"]
SEGMENTS_PAGE = f"#!/model/model.{PACKAGE}.customer_segments"
OVERVIEW_PAGE = "#!/overview"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _chromium()
    if path is None:
        if os.environ.get("SEGMENTATION_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is not installed; `make test` installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (make test installs it)")
    return path


class _Server:
    """A static file server on a free localhost port that records every request."""

    def __init__(self, root: Path):
        self.requests: list[tuple[str, int]] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                requests.append((self.path.split("?")[0], int(code) if str(code).isdigit() else 0))

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def served(demo_build, tmp_path_factory):
    site = docs_site_for(demo_build, tmp_path_factory.mktemp("docs_site_browser"))
    server = _Server(site.target)
    yield site, server
    server.close()


def _run_chromium(chromium: str, user_data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    user_data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", *args],
                          capture_output=True, text=True, timeout=180)


def _dump_dom(chromium: str, tmp_path: Path, url: str) -> str:
    result = _run_chromium(chromium, tmp_path / "profile-dom", "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _img_sources(dom: str) -> set[str]:
    return {html.unescape(src) for src in re.findall(r"<img[^>]*\ssrc=\"([^\"]+)\"", dom)}


def _chart_files() -> set[str]:
    from segmentation.charts import CHART_FILES

    return {f"assets/{name}" for name in CHART_FILES.values()}


def _screenshot(chromium: str, tmp_path: Path, url: str, name: str) -> Path:
    path = tmp_path / name
    result = _run_chromium(chromium, tmp_path / f"profile-{name}", f"--screenshot={path}",
                           "--window-size=1400,1000", url)
    assert result.returncode == 0 and path.is_file(), result.stderr[-2000:]
    keep = os.environ.get("SEGMENTATION_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def _assert_has_content(path: Path) -> None:
    """A rendered page, not a blank or error page: many colours, mostly not one flat colour."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    assert image.size == (1400, 1000)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, f"{path.name} looks blank"
    most = max(count for count, _ in colours)
    assert most < 0.9 * image.size[0] * image.size[1], f"{path.name} is one flat colour"


def _fetched(server: _Server) -> dict[str, int]:
    return {path.lstrip("/"): code for path, code in server.requests}


def test_customer_segments_page_renders_with_its_charts(chromium, served, tmp_path):
    site, server = served
    server.requests.clear()
    dom = _dump_dom(chromium, tmp_path, server.url + SEGMENTS_PAGE)
    assert "customer_segments" in dom and "The segment table for BI" in dom
    assert "cluster_unclassified_reason" in dom  # the column list rendered from the catalog
    expected = {"assets/segment_sizes_rfm.png", "assets/segment_sizes_business.png",
                "assets/segment_sizes_cluster.png", "assets/cluster_pca.png", "assets/cluster_profiles.png"}
    assert expected <= _img_sources(dom)
    fetched = _fetched(server)
    assert fetched.get("manifest.json") == 200 and fetched.get("catalog.json") == 200
    for image in expected:
        assert fetched.get(image) == 200, f"the browser did not load {image}: {fetched}"
    _assert_has_content(_screenshot(chromium, tmp_path, server.url + SEGMENTS_PAGE,
                                    "customer_segments.png"))


def test_overview_renders_with_every_chart(chromium, served, tmp_path):
    site, server = served
    server.requests.clear()
    dom = _dump_dom(chromium, tmp_path, server.url + OVERVIEW_PAGE)
    assert "Customer segmentation in the warehouse" in dom
    assert "Three segmentations, side by side" in dom
    charts = _chart_files()
    assert charts <= _img_sources(dom)
    fetched = _fetched(server)
    missing = sorted(image for image in charts if fetched.get(image) != 200)
    assert not missing, f"charts not loaded by the browser: {missing}"
    _assert_has_content(_screenshot(chromium, tmp_path, server.url + OVERVIEW_PAGE, "overview.png"))


def test_every_chart_is_served_as_a_png(served):
    site, server = served
    for image in sorted(_chart_files()):
        with urllib.request.urlopen(server.url + image, timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/png"
            assert response.read(8) == b"\x89PNG\r\n\x1a\n"


def test_static_single_file_docs_render_the_same_pages(chromium, served, tmp_path):
    """`dbt docs generate --static` embeds manifest and catalog in static_index.html (no
    XHR); the charts stay files beside it in target/assets/."""
    site, server = served
    assert (site.target / "static_index.html").is_file()
    server.requests.clear()
    dom = _dump_dom(chromium, tmp_path, server.url + "static_index.html" + SEGMENTS_PAGE)
    assert "The segment table for BI" in dom
    assert "assets/segment_sizes_cluster.png" in _img_sources(dom)
    fetched = _fetched(server)
    assert "manifest.json" not in fetched  # really the single-file version
    assert fetched.get("assets/segment_sizes_cluster.png") == 200
    dom = _dump_dom(chromium, tmp_path, server.url + "static_index.html" + OVERVIEW_PAGE)
    assert _chart_files() <= _img_sources(dom)
