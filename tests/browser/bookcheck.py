"""Checks of one page of the built book as a browser renders it (driven by Playwright over headless Chromium).

``check_page`` loads a page served on localhost and returns the list of problems it finds, one string each:

* console errors and uncaught page errors, except the known messages of the theme (``KNOWN_MESSAGES``, each
  tolerated by name and exact text);
* failed requests and HTTP errors (a missing stylesheet, script or image, MathJax from an unreachable CDN);
* images that did not load (``naturalWidth == 0``);
* math that MathJax did not render: fewer ``mjx-container`` elements than Sphinx ``.math`` elements, or TeX errors;
* citations that did not resolve (sphinxcontrib-bibtex's ``.bibtex-citation`` with ``??`` or without a link) and
  cross-references left unresolved (a Sphinx ``.xref`` outside any link);
* internal links whose page or anchor does not exist in the built site.

It saves a full-page screenshot of the page. The pages come from ``_toc.yml`` (``toc_pages``).
"""
from __future__ import annotations

import html.parser
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import yaml

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class KnownMessage:
    """A console message that is not the page's fault, tolerated only with this exact text (and resource path)."""

    name: str
    kind: str  # "console" (console.error) or "pageerror" (uncaught exception)
    text: str
    resource_path: str | None = None  # for a failed-resource message: the path of the resource it is about


KNOWN_MESSAGES = (
    KnownMessage("sphinx-book-theme: invalid theme mode", "console",
                 "Got invalid theme mode: . Resetting to auto."),
    KnownMessage("sphinx-thebe: THEBE_JS_URL declared twice", "pageerror",
                 "Identifier 'THEBE_JS_URL' has already been declared"),
    KnownMessage("no /favicon.ico (the book's favicon lives in _static)", "console",
                 "Failed to load resource: the server responded with a status of 404 (File not found)",
                 "/favicon.ico"),
)


def toc_pages(toc_file: Path) -> list[str]:
    """Every file named in a jupyter-book ``_toc.yml`` (root, parts, chapters, sections), without its suffix."""
    toc = yaml.safe_load(Path(toc_file).read_text())
    pages: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(str(Path(node["file"]).with_suffix("")))
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key, []))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    pages.append(str(Path(toc["root"]).with_suffix("")))
    walk({key: toc[key] for key in ("parts", "chapters", "sections") if key in toc})
    return pages


def claim_count(results_dir: Path) -> int:
    """The number of claims in the book: verdict entries over all ``*.ci.json`` results files."""
    return sum(len(json.loads(p.read_text()).get("verdicts", [])) for p in sorted(Path(results_dir).glob("*.ci.json")))


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for key, value in attrs if key in ("id", "name") and value)


@lru_cache(maxsize=None)
def _ids_in(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def _site_file(site_dir: Path, url_path: str) -> Path | None:
    """The file of the built site that serves ``url_path`` (a directory serves its index.html), or None."""
    target = site_dir / unquote(url_path).lstrip("/")
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def broken_links(hrefs: list[str], page_url: str, site_dir: Path) -> list[str]:
    """Internal links (same host as the page) whose file or ``#anchor`` is missing from the built site."""
    origin = urlsplit(page_url).netloc
    problems = []
    for href in sorted(set(hrefs)):
        url = urlsplit(urljoin(page_url, href))
        if url.scheme not in ("http", "https") or url.netloc != origin:
            continue  # external (not reachable offline), mailto:, javascript:
        target = _site_file(site_dir, url.path)
        if target is None:
            problems.append(f"broken link {href!r}: no page {url.path}")
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _ids_in(target):
            problems.append(f"broken link {href!r}: no anchor #{url.fragment} in {url.path}")
    return problems


# Run in the page once it has loaded: make lazy images load, wait for them and for MathJax, then report.
_INSPECT = """async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null
      : new Promise(done => { img.addEventListener("load", done); img.addEventListener("error", done); })));
  const math = document.querySelectorAll(".math").length;
  if (math && window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const inLink = el => el.closest("a[href]") !== null;
  return {
    images: images.map(img => ({src: img.getAttribute("src"), width: img.naturalWidth})),
    math: math,
    mathjax: !!(window.MathJax && MathJax.startup),
    rendered: document.querySelectorAll("mjx-container").length,
    // a TeX error (mjx-merror), or an undefined macro, which MathJax's noundefined extension shows in red
    texErrors: [...document.querySelectorAll("mjx-merror")].map(e => e.getAttribute("data-mjx-error") || e.textContent)
        .concat([...document.querySelectorAll('mjx-container mjx-mtext[style*="color: red"]')].map(
            e => "undefined macro " + [...e.querySelectorAll("mjx-c")].map(c => String.fromCodePoint(
                parseInt(c.className.match(/mjx-c([0-9A-F]+)/)[1], 16))).join(""))),
    citations: [...document.querySelectorAll(".bibtex-citation")].map(
        c => ({text: c.textContent.trim(), links: c.querySelectorAll("a[href]").length})),
    unresolvedXrefs: [...document.querySelectorAll(".xref")].filter(x => !inLink(x)).map(x => x.textContent.trim()),
    hrefs: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
  };
}"""


def _is_known(kind: str, text: str, resource_url: str) -> bool:
    return any(m.kind == kind and m.text == text
               and (m.resource_path is None or urlsplit(resource_url).path == m.resource_path)
               for m in KNOWN_MESSAGES)


def check_page(page, url: str, site_dir: Path, screenshot: Path | None = None, timeout_ms: int = 30_000) -> list[str]:
    """Load ``url`` in the Playwright ``page`` and return its problems (empty when the page is sound)."""
    problems: list[str] = []

    def on_console(message):
        if message.type == "error":
            resource = message.location.get("url", "")
            if not _is_known("console", message.text, resource):
                problems.append(f"console error: {message.text} (at {resource})")

    def on_page_error(error):
        text = getattr(error, "message", None) or str(error)
        if not _is_known("pageerror", text, ""):
            problems.append(f"page error: {text}")

    def on_request_failed(request):
        problems.append(f"request failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("requestfailed", on_request_failed)
    try:
        response = page.goto(url, wait_until="load", timeout=timeout_ms)
        if response is None or not response.ok:
            problems.append(f"page did not load: HTTP {response.status if response else 'no response'}")
            return problems
        page.wait_for_load_state("networkidle", timeout=timeout_ms)
        found = page.evaluate(_INSPECT)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_page_error)
        page.remove_listener("requestfailed", on_request_failed)

    problems += [f"image did not load: {img['src']}" for img in found["images"] if img["width"] == 0]
    if found["math"]:
        if not found["mathjax"]:
            problems.append(f"{found['math']} math elements but MathJax did not load")
        elif found["rendered"] < found["math"]:
            problems.append(f"MathJax rendered {found['rendered']} of {found['math']} math elements")
    problems += [f"TeX error in math: {error}" for error in found["texErrors"]]
    for citation in found["citations"]:
        if "??" in citation["text"] or citation["links"] == 0:
            problems.append(f"unresolved citation: {citation['text']!r}")
    problems += [f"unresolved cross-reference: {text!r}" for text in found["unresolvedXrefs"]]
    problems += broken_links(found["hrefs"], url, site_dir)
    return problems


def table_body_rows(page, header_word: str) -> list[int]:
    """Row counts of the tables in the loaded page whose header row contains ``header_word``."""
    return page.evaluate("""word => [...document.querySelectorAll("table")]
        .filter(t => [...t.querySelectorAll("thead th, tr:first-child th")].some(th => th.textContent.trim() === word))
        .map(t => t.querySelectorAll("tbody tr").length)""", header_word)
