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

How the book reads (test_reading.py): ``count_progress_bars`` (progress-bar lines against the bars that drew them),
``overflow`` (the document wider than the viewport, and the element that sticks out), ``legibility`` (text contrast
and figure visibility, run in dark mode) and ``outward_pointers`` (links that leave the book, mentions of the
project's unshipped working notes).
"""
from __future__ import annotations

import html.parser
import json
import re
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


def claim_count(results_dir: Path, pattern: str = "*.ci.json") -> int:
    """The number of claims in the results files matching ``pattern`` (all chapters' ``ci`` runs by default)."""
    return sum(len(json.loads(p.read_text()).get("verdicts", [])) for p in sorted(Path(results_dir).glob(pattern)))


def distinct_claims(results_dir: Path, name: str) -> int:
    """The number of distinct claims over every recorded profile of one chapter (``<name>.<profile>.json``): the
    status page's rows for it (a claim worded otherwise in an older run is a row of its own)."""
    return len({v["claim"] for p in Path(results_dir).glob(f"{name}.*.json")
                for v in json.loads(p.read_text()).get("verdicts", [])})


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


# ---------------------------------------------------------------------------------------------------------------------
# How the book reads: progress bars, horizontal overflow, dark mode, links that leave the book.

PROGRESS_LINE = re.compile(r"\d+%\|")
_TQDM = re.compile(r"^(?P<desc>.*?)\s*(?P<pct>\d+)%\|[^|]*\|\s*(?P<n>\S+?)/(?P<total>\S+)")


@dataclass(frozen=True)
class ProgressCount:
    """Progress-bar lines of one page: ``lines`` in all, drawn by ``bars`` bars; ``examples``: the first excess lines."""

    lines: int
    bars: int
    examples: tuple[str, ...] = ()

    @property
    def excess(self) -> int:
        return self.lines - self.bars


def count_progress_bars(outputs: list[str]) -> ProgressCount:
    """Count the tqdm lines (``\\d+%|``) in the text of each output area and the bars that drew them.

    A bar is identified, within one output area, by its description and total; a line starts a new bar when its
    percentage is below the previous line's of the same bar or when that line had reached 100%. So a bar stored with
    its final state only gives one line, and every refresh kept beside it (``0%``, ``10%``, …, a postfix update) is an
    excess line.
    """
    lines = bars = 0
    examples: list[str] = []
    for text in outputs:
        last: dict[tuple[str, str], int] = {}
        for line in re.split(r"[\r\n]+", text):
            if not PROGRESS_LINE.search(line):
                continue
            lines += 1
            match = _TQDM.search(line)
            key = (match["desc"].strip(), match["total"]) if match else (line, "")
            pct = int(match["pct"]) if match else 100
            previous = last.get(key)
            if previous is None or pct < previous or previous == 100:
                bars += 1
            elif len(examples) < 3:
                examples.append(line.strip()[:120])
            last[key] = pct
    return ProgressCount(lines, bars, tuple(examples))


# the text of every output area of a notebook page (myst-nb's .cell_output; carriage returns are line breaks)
_OUTPUT_TEXTS = """() => [...document.querySelectorAll(".cell_output")].map(o => o.textContent)"""

_OVERFLOW = """() => {
  const root = document.documentElement;
  const viewport = root.clientWidth;
  const clipped = el => {  // inside a container that scrolls or clips horizontally (a table wrapper, a code block)
    for (let a = el.parentElement; a && a !== document.body && a !== root; a = a.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const sticksOut = el => {
    if (!el || el === document.body || el === root) return false;
    const style = getComputedStyle(el);
    if (style.position === "fixed" || style.display === "none" || style.visibility === "hidden") return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right + window.scrollX > viewport + 1 && !clipped(el);
  };
  const describe = el => {
    const id = el.id ? "#" + el.id : "";
    const cls = [...el.classList].slice(0, 3).map(c => "." + c).join("");
    const text = (el.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 60);
    const section = el.closest("section[id]");
    return `<${el.tagName.toLowerCase()}${id}${cls}> right edge at ${Math.round(el.getBoundingClientRect().right + window.scrollX)} px`
      + (section ? ` in section #${section.id}` : "") + (text ? `: "${text}"` : "");
  };
  const offenders = root.scrollWidth > viewport
      ? [...document.body.querySelectorAll("*")].filter(el => sticksOut(el) && !sticksOut(el.parentElement)).map(describe)
      : [];
  return {viewport: viewport, scrollWidth: root.scrollWidth, offenders: offenders};
}"""


def overflow(page) -> dict:
    """``{viewport, scrollWidth, offenders}`` of the loaded page: the document wider than the viewport, and the
    outermost elements that stick out on the right without a scrolling or clipping container of their own."""
    return page.evaluate(_OVERFLOW)


_TABLE_LAYOUT = """() => {
  const name = el => (el.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 60);
  const wide = [], long = [];
  for (const table of document.querySelectorAll("article table")) {
    const box = table.parentElement;  // the theme's scrolling table container
    if (table.getBoundingClientRect().width > box.clientWidth + 1)
      wide.push(`${Math.round(table.getBoundingClientRect().width)} px in ${box.clientWidth} px: "${name(table)}"`);
    let outer = table;  // a rbmlib Table's caption: the whole-bold paragraph just before the table's wrappers
    while (outer.parentElement && outer.parentElement.children.length === 1) outer = outer.parentElement;
    const caption = outer.previousElementSibling;
    const bold = caption && caption.tagName === "P" && caption.querySelector("strong");
    if (bold && bold.textContent.trim() === caption.textContent.trim()) {
      const lines = caption.getBoundingClientRect().height / parseFloat(getComputedStyle(caption).lineHeight);
      if (lines > 2.5) long.push(`${Math.round(lines)} lines: "${name(caption)}"`);
    }
  }
  return {wide: wide, longCaptions: long};
}"""


def table_layout(page) -> dict:
    """``{wide, longCaptions}`` of the loaded page: tables wider than their column (they scroll sideways), and table
    captions (a whole-bold paragraph just before a table, as ``rbmlib.report.Table`` writes them) over two lines."""
    return page.evaluate(_TABLE_LAYOUT)


# Dark mode: the theme (pydata-sphinx-theme, under sphinx-book-theme) reads its mode from localStorage.
DARK_MODE_SCRIPT = "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"

_LEGIBILITY = """async () => {
  const parse = c => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const canvasColour = getComputedStyle(document.documentElement).colorScheme.includes("dark") ? [18, 18, 18, 1]
      : [255, 255, 255, 1];
  const background = el => {  // the colour behind el: its and its ancestors' backgrounds, composited
    const layers = [];
    for (let a = el; a; a = a.parentElement) {
      const bg = parse(getComputedStyle(a).backgroundColor);
      if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), canvasColour);
  };
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const opacity = el => { let o = 1; for (let a = el; a; a = a.parentElement) o *= parseFloat(getComputedStyle(a).opacity); return o; };
  const describe = el => {
    const cls = [...el.classList].slice(0, 2).map(c => "." + c).join("");
    const section = el.closest("section[id]");
    return `<${el.tagName.toLowerCase()}${cls}>` + (section ? ` in #${section.id}` : "");
  };
  const article = document.querySelector("article") || document.body;

  // text: every element holding visible text in the article, against the colour behind it
  const seen = new Set(), poor = {};
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  let checked = 0;
  for (let node = walker.nextNode(); node && checked < 4000; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim()) continue;
    seen.add(el);
    if (el.closest("mjx-container, .headerlink, script, style, noscript")) continue;
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === "hidden" || opacity(el) < 0.1) continue;
    checked++;
    const bg = background(el), fg = parse(style.color);
    if (!fg) continue;
    const ratio = contrast(over(fg, bg), bg);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) {
      const key = `${describe(el)} colour ${style.color} on ${"rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + ")"}`;
      poor[key] = poor[key] || {ratio: ratio, needed: needed, count: 0, text: node.textContent.trim().slice(0, 50)};
      poor[key].count++;
    }
  }

  // figures: an image with transparent parts must keep its ink visible against the colour behind it
  const figures = [];
  for (const img of article.querySelectorAll("img")) {
    if (!img.complete || img.naturalWidth === 0) continue;  // a missing image is test_page_renders_cleanly's concern
    const box = img.getBoundingClientRect();
    const name = img.getAttribute("src");
    if (box.width < 2 || box.height < 2 || opacity(img) < 0.5 || getComputedStyle(img).visibility === "hidden") {
      figures.push({src: name, problem: "figure not shown (zero size, hidden or transparent)"});
      continue;
    }
    const w = Math.min(img.naturalWidth, 400), h = Math.max(1, Math.round(img.naturalHeight * w / img.naturalWidth));
    const canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    const bg = background(img);
    let transparent = 0, ink = 0, visible = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] < 250) transparent++;
      if (px[i + 3] >= 128) {
        ink++;
        if (contrast(over([px[i], px[i + 1], px[i + 2], px[i + 3] / 255], bg), bg) >= 1.5) visible++;
      }
    }
    const pixels = px.length / 4;
    if (transparent / pixels < 0.01) continue;  // an opaque image carries its own background
    if (ink === 0 || visible / ink < 0.5) {
      figures.push({src: name, problem: `transparent figure hardly visible on rgb(${bg.slice(0, 3).map(Math.round).join(", ")}): `
                    + `${Math.round(100 * visible / Math.max(ink, 1))}% of its drawn pixels contrast with the background`});
    }
  }
  return {theme: document.documentElement.dataset.theme || "", checked: checked, poorText: poor, figures: figures};
}"""


def legibility(page) -> dict:
    """Text contrast (WCAG: 4.5, or 3 for large text) and figure visibility in the loaded page's article.

    Returns ``{theme, checked, poorText: {element and colours: {ratio, needed, count, text}}, figures: [...]}``.
    """
    return page.evaluate(_LEGIBILITY)


def legibility_problems(found: dict) -> list[str]:
    problems = [f"low contrast {info['ratio']:.2f} < {info['needed']} for {info['count']} text element(s): {key} "
                f"(e.g. {info['text']!r})" for key, info in sorted(found["poorText"].items())]
    problems += [f"figure {fig['src']}: {fig['problem']}" for fig in found["figures"]]
    return problems


# Links: where each one points and whether it sits in the bibliography; the article's text, for pointers to files
# that do not ship with the book.
_LINKS_AND_TEXT = """() => ({
  links: [...document.querySelectorAll("a[href]")].map(a => ({
      href: a.getAttribute("href"), text: (a.textContent || "").trim().slice(0, 60),
      inBibliography: a.closest(".citation-list, .bibliography") !== null})),
  text: (document.querySelector("article") || document.body).innerText,
})"""

# Files of the project's working notes that do not ship with the book (issue 25): a page must not send readers there.
UNSHIPPED_SOURCES = re.compile(r"(?<![\w/.-])(?:\.\./)?(?:shared/)?(?:research/)?"
                               r"(?:papers|peers|SOURCES|DESIGN)\.md\b|shared/data/|\.\./shared/")


def bibliography_targets(bib_file: Path) -> set[str]:
    """The addresses a bibliography may link to: ``https://doi.org/<doi>`` and the ``url`` of every entry."""
    text = Path(bib_file).read_text(encoding="utf-8")
    dois = re.findall(r"\bdoi\s*=\s*[{\"]([^}\"]+)[}\"]", text, flags=re.I)
    urls = re.findall(r"\burl\s*=\s*[{\"]([^}\"]+)[}\"]", text, flags=re.I)
    return {f"https://doi.org/{doi.strip()}" for doi in dois} | {url.strip() for url in urls}


def outward_pointers(page, url: str, allowed: set[str]) -> list[str]:
    """Links of the loaded page that leave the book (other than bibliography links to the papers' DOIs/URLs), and
    mentions in its text of the project's unshipped source files."""
    found = page.evaluate(_LINKS_AND_TEXT)
    origin = urlsplit(url).netloc
    problems = []
    for link in found["links"]:
        target = urlsplit(urljoin(url, link["href"]))
        if target.scheme in ("http", "https") and target.netloc == origin:
            continue
        if link["inBibliography"] and urljoin(url, link["href"]) in allowed:
            continue
        problems.append(f"link out of the book: {link['href']!r} ({link['text']!r})")
    for match in UNSHIPPED_SOURCES.finditer(found["text"]):
        context = found["text"][max(0, match.start() - 50):match.end() + 30].replace("\n", " ")
        problems.append(f"points to {match.group(0)!r}, which does not ship with the book: …{context}…")
    return problems
