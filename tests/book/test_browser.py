"""Open every page of the built book in headless Chromium and check what a reader sees.

The book must already be built (`make test` builds it first; by hand: `make book`).
Each page is served from a local server with every request to another host refused,
so the checks also prove that the book renders offline. Screenshots go to
build-artifacts/screenshots/.

Skipped, with a message, where Debian's Chromium is not installed (`sudo apt-get install
chromium`, or `make system-deps` as root).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "build-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

if CHROMIUM is None:
    pytest.skip(
        "Chromium is not installed: run `sudo apt-get install chromium` (Debian) or "
        "`make system-deps` as root, then `make test-browser`.",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.sync_api")


def book_pages() -> list[Path]:
    if not (HTML / "index.html").exists():
        return []
    pages = []
    for path in sorted(HTML.rglob("*.html")):
        rel = path.relative_to(HTML)
        if rel.parts[0].startswith("_") or rel.name in SKIP_PAGES:
            continue
        pages.append(rel)
    return pages


PAGES = book_pages()


def test_book_is_built():
    assert PAGES, (
        f"no built book under {HTML}: run `make book` (or `make test-book`) first"
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with playwright_api.sync_playwright() as p:
        profile = tmp_path_factory.mktemp("chromium-profile")
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def open_page(browser, server, rel):
    """Load one page offline; return (page, console errors, refused requests)."""
    page = browser.new_page()
    errors, external = [], []
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    host = urlparse(server).netloc

    def route(r):
        if urlparse(r.request.url).netloc in ("", host):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(urljoin(server, rel.as_posix()), wait_until="load")
    page.wait_for_load_state("networkidle", timeout=90_000)  # a busy CI
    return page, errors, external


def wait_for_mathjax(page):
    if page.locator(".math").count() == 0:
        return
    page.wait_for_function(
        "window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=15000
    )
    page.evaluate("MathJax.startup.promise")


@pytest.mark.parametrize("rel", PAGES, ids=[p.as_posix() for p in PAGES])
def test_page_renders_offline(browser, server, rel):
    page, errors, external = open_page(browser, server, rel)
    try:
        wait_for_mathjax(page)
        # 1. no console errors, and nothing fetched from another host
        assert not errors, f"{rel}: console errors: {errors[:5]}"
        assert not external, f"{rel}: requests to other hosts: {external[:5]}"
        # 2. every formula typeset by MathJax
        untypeset = page.evaluate(
            """() => [...document.querySelectorAll('.math')]
                   .filter(e => !e.querySelector('mjx-container'))
                   .map(e => e.textContent.slice(0, 60))"""
        )
        assert not untypeset, f"{rel}: formulas not rendered: {untypeset[:5]}"
        # 3. every image loaded
        broken = page.evaluate(
            """() => [...document.images]
                   .filter(i => !(i.complete && i.naturalWidth > 0))
                   .map(i => i.getAttribute('src').slice(0, 80))"""
        )
        assert not broken, f"{rel}: images that did not load: {broken}"
        is_chapter = rel.parts[0] == "book" and rel.name[:2].isdigit()
        figures = page.locator("main img").count()
        assert figures >= 3 or not is_chapter, f"{rel}: only {figures} figures"
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('main img')]
                   .filter(i => !(i.alt || i.closest('figure, .cell_output')))
                   .map(i => i.getAttribute('src').slice(0, 80))"""
        )
        assert not unlabelled, (
            f"{rel}: images without alt text or caption: {unlabelled}"
        )
        # 4. embedded widget state is rendered into widgets
        states = page.locator(
            'script[type="application/vnd.jupyter.widget-state+json"]'
        )
        if states.count():
            page.wait_for_selector(".jupyter-widgets", state="attached", timeout=15000)
        # 5. internal links resolve
        hrefs = page.evaluate(
            "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
        )
        bad = []
        for href in sorted(set(hrefs)):
            url = urlparse(href)
            if url.netloc != urlparse(server).netloc:
                continue
            target = HTML / url.path.lstrip("/")
            if url.path.endswith("/"):
                target = target / "index.html"
            if not target.exists():
                bad.append(url.path)
        assert not bad, f"{rel}: internal links to missing files: {bad[:5]}"
        # 6. a chapter can be launched (Colab opens the .ipynb, Binder) and downloaded
        if is_chapter:
            launch = page.evaluate(
                "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
            )
            notebook = rel.with_suffix(".ipynb").as_posix()
            for host in ("colab.research.google.com", "mybinder.org"):
                assert any(host in h and notebook in h for h in launch), (
                    f"{rel}: no {host} launch button for {notebook}"
                )
            assert page.locator(".btn-download-source-button").count(), (
                f"{rel}: no download button"
            )
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = rel.as_posix().replace("/", "_").removesuffix(".html")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    finally:
        page.close()


@pytest.mark.parametrize("rel", PAGES, ids=[p.as_posix() for p in PAGES])
def test_answers_hidden_until_clicked(browser, server, rel):
    """Quiz answers and hints sit in toggles: hidden first, shown on a click."""
    page, _, _ = open_page(browser, server, rel)
    try:
        toggles = page.locator(".admonition.toggle")
        dropdowns = page.locator("details")
        is_chapter = rel.parts[0] == "book" and rel.name[:2].isdigit()
        n = toggles.count() + dropdowns.count()
        assert n > 0 or not is_chapter, f"{rel}: a chapter with no hidden quiz answers"
        for i in range(toggles.count()):
            toggle = toggles.nth(i)
            body = toggle.locator(":scope > :not(.admonition-title)").first
            assert not body.is_visible(), f"{rel}: toggle {i} open before a click"
            toggle.locator("button.toggle-button").first.click()
            body.wait_for(state="visible", timeout=3000)
        for i in range(dropdowns.count()):
            details = dropdowns.nth(i)
            assert details.get_attribute("open") is None, f"{rel}: dropdown {i} open"
            details.locator("summary").first.click()
            assert details.get_attribute("open") is not None
    finally:
        page.close()
