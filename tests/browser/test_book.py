"""The built book in a real browser: every page in the TOC loads cleanly, and the checker catches a broken page.

Run with ``bash .ci/browser`` after ``make book`` (skipped in the unit suite; see conftest.py). Screenshots of each
page go to ``_build/screenshots/<page>.png``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bookcheck import check_page, claim_count, distinct_claims, table_body_rows, toc_pages

REPO = Path(__file__).resolve().parents[2]

PAGES = toc_pages(REPO / "_toc.yml")
STATUS_PAGE = "book/status"


def test_every_toc_page_was_built(site_dir):
    missing = [page for page in PAGES if not (site_dir / f"{page}.html").is_file()]
    assert not missing, f"pages in _toc.yml with no HTML in {site_dir}: {missing}"


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_cleanly(name, page, site_dir, base_url, screenshot_dir):
    problems = check_page(page, f"{base_url}{name}.html", site_dir, screenshot_dir / f"{name}.png")
    assert not problems, f"{name}.html:\n  " + "\n  ".join(problems)


@pytest.mark.skipif(STATUS_PAGE not in PAGES, reason=f"{STATUS_PAGE} is not in _toc.yml")
def test_status_table_has_one_row_per_claim(page, base_url):
    claims = claim_count(REPO / "book" / "results")
    if claims == 0:
        pytest.skip("no verdicts in book/results/*.ci.json yet: nothing to count")
    page.goto(f"{base_url}{STATUS_PAGE}.html", wait_until="load")
    rows = table_body_rows(page, "claim")
    per_chapter = [distinct_claims(REPO / "book" / "results", p.name.removesuffix(".ci.json")) for p in
                   sorted((REPO / "book" / "results").glob("*.ci.json"))]
    assert rows == per_chapter, (f"status page: its per-chapter tables have {rows} rows; the chapters' results have "
                                 f"{per_chapter} distinct claims over their profiles")


# The checker itself: a copy of a real page with one defect of each kind must be reported on every count.
DEFECTS = {
    "broken image": ('<img src="no-such-figure.png" alt="missing figure">', "image did not load: no-such-figure.png"),
    "link to a missing page": ('<a href="no-such-page.html">gone</a>', "broken link 'no-such-page.html'"),
    "link to a missing anchor": ('<a href="references.html#no-such-anchor">gone</a>', "no anchor #no-such-anchor"),
    "console error": ("<script>console.error('deliberate console error')</script>",
                      "console error: deliberate console error"),
    "uncaught exception": ("<script>noSuchFunction()</script>", "page error: noSuchFunction is not defined"),
    # MathJax, where the page loads it, shows the TeX error; where it does not, the math stays raw: either is caught
    "undefined TeX macro": (r'<span class="math notranslate nohighlight">\(\nosuchmacro x\)</span>',
                            ("TeX error in math: undefined macro \\nosuchmacro", "MathJax did not load")),
    "unbalanced TeX brace": (r'<span class="math notranslate nohighlight">\(y^{2\)</span>',
                             ("MathJax rendered 1 of 2 math elements", "MathJax did not load")),
    "unresolved citation": ('<span class="bibtex-citation">[??]</span>', "unresolved citation: '[??]'"),
}


def test_checker_reports_each_defect_of_a_broken_page(page, site_dir, serve, screenshot_dir, tmp_path):
    broken_site = tmp_path / "html"
    shutil.copytree(site_dir, broken_site)
    url = serve(broken_site)
    name = PAGES[0]
    assert check_page(page, f"{url}{name}.html", broken_site) == [], "the page must be sound before it is broken"

    source = (broken_site / f"{name}.html").read_text(encoding="utf-8")
    assert source.count("</article>") == 1, "the page template changed: inject the defects elsewhere"
    defects = "\n".join(html for html, _ in DEFECTS.values())
    broken = f"{name}-broken"  # beside the original (relative links stay valid), under a URL not in the cache
    (broken_site / f"{broken}.html").write_text(source.replace("</article>", defects + "</article>"), encoding="utf-8")
    problems = check_page(page, f"{url}{broken}.html", broken_site,
                          screenshot_dir / "deliberately-broken" / f"{name}.png")

    report = "\n".join(problems)
    print(f"problems found on the deliberately broken {broken}.html:\n{report}")
    missed = [defect for defect, (_, expected) in DEFECTS.items()
              if not any(text in report for text in ((expected,) if isinstance(expected, str) else expected))]
    assert not missed, f"the checker missed {missed}; it reported:\n{report}"
