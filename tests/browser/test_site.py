"""The rendered book, opened in a real browser (headless Chromium) with the network blocked.

Run after building the site (``jupyter-book build .``)::

    SURVLIB_SITE_DIR=_build/html pytest tests/browser -m browser

Skipped when ``SURVLIB_SITE_DIR`` is unset, so the unit run needs no built site. The browser is
Debian's ``chromium`` (``make browser-deps``; ``SURVLIB_CHROMIUM`` overrides the path), driven
by Playwright; every request that is not to the local server is aborted, so what passes here
reads offline. Every page is visited once (a module fixture); the tests then check, page by
page: no console error or uncaught exception; every image decoded with a non-zero natural size
and its file present; every equation typeset by MathJax (served from the site) with no raw
``$$``/``\\(``/``\\[`` left; every internal link and anchor resolves; no glue placeholder is
left. A screenshot of each page (its top 50,000 px) goes to ``SURVLIB_SCREENSHOTS`` (default
``<site>/../screenshots``), with ``summary.json`` holding the counts.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import json
import os
import re
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SITE_ENV = "SURVLIB_SITE_DIR"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The browser window, and so every screenshot's width.
VIEWPORT = {"width": 1280, "height": 900}
#: Screenshots stop this far down a page (every chapter fits; the API reference does not),
#: and may take this long.
SCREENSHOT_MAX_HEIGHT = 50_000
SCREENSHOT_TIMEOUT_MS = 120_000
#: Folders of the built site that hold assets, not pages.
ASSET_DIRS = ("_static", "_sources", "_downloads", "_images", "_sphinx_design_static")
#: What an unresolved myst-nb glue reference, or a raw equation, looks like in page text.
GLUE_LEFT = re.compile(r"\{glue(:[a-z]+)?\}|:glue:|glue:text")
RAW_MATH = re.compile(r"\$\$|\\\(|\\\[")
#: A page that only forwards the browser to another one (<meta http-equiv="Refresh">).
REDIRECT = re.compile(r"<meta[^>]+http-equiv=[\"']?refresh", re.IGNORECASE)


def _site_dir() -> Path:
    value = os.environ.get(SITE_ENV)
    if not value:
        pytest.skip(f"{SITE_ENV} is not set: build the book and point it at _build/html")
    site = Path(value).resolve()
    if not (site / "index.html").is_file():
        pytest.fail(f"{SITE_ENV}={value!r} has no index.html: is it a built Jupyter Book?")
    return site


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site (paths relative to it, '/'-separated), assets excluded."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if rel.split("/", 1)[0] not in ASSET_DIRS:
            pages.append(rel)
    return pages


class _Ids(html.parser.HTMLParser):
    """Collects every ``id`` and ``<a name>`` of an HTML file (anchor targets)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (tag == "a" and key == "name")):
                self.ids.add(value)


@functools.cache
def anchors_of(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


@dataclass
class PageReport:
    """What a visit of one page found."""

    page: str
    console_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    images: int = 0
    bad_images: list[str] = field(default_factory=list)
    math_elements: int = 0
    math_rendered: int = 0
    mathjax_version: str | None = None
    raw_math: list[str] = field(default_factory=list)
    glue_left: list[str] = field(default_factory=list)
    links_checked: int = 0
    broken_links: list[str] = field(default_factory=list)
    external_links: int = 0
    page_height: int = 0
    screenshot: str = ""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Path:
    return _site_dir()


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The site served on 127.0.0.1 (a free port, a background thread)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _check_links(
    report: PageReport, hrefs: list[str], page_url: str, base: str, site: Path
) -> None:
    for href in hrefs:
        url = urllib.parse.urljoin(page_url, href)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("mailto", "javascript", "data", "tel"):
            continue
        if not url.startswith(base):
            report.external_links += 1
            continue
        report.links_checked += 1
        rel = urllib.parse.unquote(parts.path).lstrip("/")
        target = (site / rel).resolve()
        if target.is_dir():
            target = target / "index.html"
        if site not in target.parents and target != site or not target.is_file():
            report.broken_links.append(f"{href} (no file {rel})")
            continue
        fragment = urllib.parse.unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in anchors_of(target):
            report.broken_links.append(f"{href} (no anchor #{fragment} in {rel})")


def _visit(context: Any, base: str, site: Path, rel: str, shots: Path) -> PageReport:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    report = PageReport(rel)
    page = context.new_page()
    page.on(
        "console", lambda m: report.console_errors.append(m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda e: report.console_errors.append(f"uncaught: {e}"))
    in_flight: dict[Any, str] = {}
    page.on("request", lambda r: in_flight.__setitem__(r, r.url))
    page.on("requestfinished", lambda r: in_flight.pop(r, None))

    def failed(r: Any) -> None:
        in_flight.pop(r, None)
        if r.url not in report.blocked_requests:
            report.failed_requests.append(f"{r.url} ({r.failure})")

    page.on("requestfailed", failed)
    page.set_viewport_size(VIEWPORT)
    page_url = f"{base}/{rel}"
    response = page.goto(page_url, wait_until="load")
    if response is None or response.status != 200:
        report.console_errors.append(f"HTTP {response.status if response else 'no response'}")
    if REDIRECT.search((site / rel).read_text(errors="replace")):  # the root index.html
        page.wait_for_url(lambda url: url.split("#")[0] != page_url, wait_until="load")
        page_url = page.url.split("#")[0]
        report.page = f"{rel} -> {page_url.removeprefix(base + '/')}"
    report.math_elements = page.locator(".math").count()
    if report.math_elements:
        # MathJax 3 is loaded with `defer`: wait for it, then for its typesetting to finish
        try:
            page.wait_for_function(
                "() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
                timeout=20_000,
            )
            page.evaluate("() => window.MathJax.startup.promise")
            report.mathjax_version = page.evaluate("() => window.MathJax.version || null")
        except PlaywrightTimeout as err:  # MathJax never started
            report.console_errors.append(f"MathJax did not start: {str(err).splitlines()[0]}")
        report.math_rendered = page.locator(".math:has(mjx-container)").count()
    text = page.evaluate("() => document.body.innerText")
    report.raw_math = sorted({m.group(0) for m in RAW_MATH.finditer(text)})
    report.glue_left = sorted(
        {
            text[max(0, m.start() - 30) : m.end() + 30].replace("\n", " ")
            for m in GLUE_LEFT.finditer(text)
        }
    )
    images = page.evaluate(
        """async () => Promise.all([...document.images].map(async img => {
            if (!img.complete) { try { await img.decode(); } catch (e) {} }
            return {src: img.getAttribute('src') || '', url: img.currentSrc || img.src,
                    w: img.naturalWidth, h: img.naturalHeight};
        }))"""
    )
    report.images = len(images)
    for img in images:
        path = urllib.parse.unquote(urllib.parse.urlsplit(img["url"]).path).lstrip("/")
        local = img["url"].startswith("data:") or (site / path).is_file()
        if not (img["w"] > 0 and img["h"] > 0 and local):
            report.bad_images.append(
                f"{img['src'][:80]} ({img['w']}x{img['h']}, "
                f"{'file present' if local else 'no file'})"
            )
    # Every request the page made must have finished (Playwright's "networkidle" is not used:
    # it waits for 500 ms of silence, which a long page under CPU load may never give it).
    for _ in range(50):
        if not in_flight:
            break
        page.wait_for_timeout(200)
    report.failed_requests += [f"{url} (never finished)" for url in in_flight.values()]
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))"
    )
    _check_links(report, hrefs, page_url, base, site)
    shot = shots / (rel.replace("/", "__").removesuffix(".html") + ".png")
    # The whole page, down to SCREENSHOT_MAX_HEIGHT: the API reference is ~200,000 px tall, and
    # a software-rendered shot of all of it takes Chromium 156 about 40 s (over Playwright's 30 s).
    report.page_height = int(page.evaluate("() => document.documentElement.scrollHeight"))
    height = max(1, min(report.page_height, SCREENSHOT_MAX_HEIGHT))
    page.screenshot(
        path=str(shot),
        full_page=True,
        clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height},
        timeout=SCREENSHOT_TIMEOUT_MS,
    )
    report.screenshot = str(shot)
    page.close()
    return report


@pytest.fixture(scope="module")
def reports(site: Path, server: str) -> dict[str, PageReport]:
    """Visit every page once with the network blocked; write screenshots and summary.json."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = os.environ.get("SURVLIB_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        pytest.fail(
            f"no Chromium at {chromium}: run `make browser-deps` "
            "(apt-get install chromium) or set SURVLIB_CHROMIUM"
        )
    shots = Path(os.environ.get("SURVLIB_SCREENSHOTS", site.parent / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    results: dict[str, PageReport] = {}
    with (
        tempfile.TemporaryDirectory(prefix="survlib-chromium-") as profile,
        sync_api.sync_playwright() as pw,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            service_workers="block",
        )
        blocked: dict[str, list[str]] = {}
        current: list[str] = [""]

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith((server, "data:", "blob:", "about:")):
                r.continue_()
            else:  # the network is "off": only the local site answers
                blocked.setdefault(current[0], []).append(url)
                r.abort("internetdisconnected")

        context.route("**/*", route)
        try:
            for rel in site_pages(site):
                current[0] = rel
                results[rel] = _visit(context, server, site, rel, shots)
                results[rel].blocked_requests = blocked.get(rel, [])
        finally:
            context.close()
    summary = {
        "pages": len(results),
        "images": sum(r.images for r in results.values()),
        "equations": sum(r.math_elements for r in results.values()),
        "equations_rendered": sum(r.math_rendered for r in results.values()),
        "links_checked": sum(r.links_checked for r in results.values()),
        "external_links_not_followed": sum(r.external_links for r in results.values()),
        "screenshots": str(shots),
        "per_page": [asdict(r) for r in results.values()],
    }
    (shots / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "per_page"}))
    return results


def _failures(reports: dict[str, PageReport], attr: str) -> dict[str, Any]:
    return {page: getattr(r, attr) for page, r in reports.items() if getattr(r, attr)}


def test_site_has_the_toc_pages(site: Path) -> None:
    pages = site_pages(site)
    assert "index.html" in pages
    for chapter in ("01_survival_primer", "06_amkd", "run_report"):
        assert f"book/executed/{chapter}.html" in pages, f"{chapter} was not rendered"


def test_every_page_loads_without_console_errors(reports: dict[str, PageReport]) -> None:
    assert not _failures(reports, "console_errors")
    assert not _failures(reports, "failed_requests")


def test_nothing_is_fetched_from_the_network(reports: dict[str, PageReport]) -> None:
    assert not _failures(reports, "blocked_requests"), "the site needs the network"


def test_every_image_is_decoded_with_a_nonzero_size(reports: dict[str, PageReport]) -> None:
    assert not _failures(reports, "bad_images")
    assert sum(r.images for r in reports.values()) > 0, "no image on any page"


def test_every_equation_is_typeset_offline(reports: dict[str, PageReport]) -> None:
    assert sum(r.math_elements for r in reports.values()) > 0, "no equation on any page"
    untypeset = {
        p: f"{r.math_rendered}/{r.math_elements} typeset (MathJax {r.mathjax_version})"
        for p, r in reports.items()
        if r.math_rendered != r.math_elements
    }
    assert not untypeset
    assert not _failures(reports, "raw_math")


def test_internal_links_and_anchors_resolve(reports: dict[str, PageReport]) -> None:
    assert not _failures(reports, "broken_links")
    assert sum(r.links_checked for r in reports.values()) > 0


def test_no_glue_placeholder_is_left(reports: dict[str, PageReport]) -> None:
    assert not _failures(reports, "glue_left")


def test_every_page_has_a_screenshot(reports: dict[str, PageReport]) -> None:
    for r in reports.values():
        png = Path(r.screenshot).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", f"{r.screenshot} is not a PNG"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        expected = (VIEWPORT["width"], max(1, min(r.page_height, SCREENSHOT_MAX_HEIGHT)))
        assert (width, height) == expected, (
            f"{r.page}: a {width}x{height} screenshot of a page {r.page_height} px tall"
        )
