"""Fixtures of the browser test of the built book: the site served on localhost and a headless Chromium.

The browser test runs only when RBMBOOK_BROWSER_TEST=1 (``bash .ci/browser`` sets it, after ``make book``), so the
unit suite (``pytest tests``) skips it. It also skips, with the reason, when the built book or Chromium is absent.
Overrides: RBMBOOK_HTML (default ``_build/html``), RBMBOOK_CHROMIUM (default ``/usr/bin/chromium``),
RBMBOOK_SCREENSHOTS (default ``_build/screenshots``).
"""
from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RBMBOOK_BROWSER_TEST") == "1":
        return
    skip = pytest.mark.skip(reason="browser test of the built book: run `bash .ci/browser` after `make book` "
                                   "(it sets RBMBOOK_BROWSER_TEST=1)")
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def site_dir() -> Path:
    path = Path(os.environ.get("RBMBOOK_HTML", REPO / "_build" / "html")).resolve()
    if not (path / "index.html").is_file():
        pytest.skip(f"no built book at {path}: run `make book` first")
    return path


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    return Path(os.environ.get("RBMBOOK_SCREENSHOTS", REPO / "_build" / "screenshots")).resolve()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def serve():
    """``serve(directory)`` → base URL of an HTTP server on 127.0.0.1 (a free port) for that directory."""
    servers = []

    def start(directory: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def base_url(site_dir, serve) -> str:
    return serve(site_dir)


@pytest.fixture(scope="session")
def browser():
    executable = Path(os.environ.get("RBMBOOK_CHROMIUM", "/usr/bin/chromium"))
    if not executable.is_file():
        pytest.skip(f"no Chromium at {executable}: `apt-get install chromium` (bash .ci/browser does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    from bookcheck import CHROMIUM_ARGS

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
