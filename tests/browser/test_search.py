"""The book's search box finds the API reference: a reader who types a class or function name of rbmlib gets the
API page among the results (Sphinx's client-side search over searchindex.js, run in the browser).

Run with ``bash .ci/browser`` after ``make book`` (skipped in the unit suite; see conftest.py).
"""
from __future__ import annotations

from urllib.parse import quote

import pytest

API_PAGE = "book/api.html"


def search_results(page, base_url: str, term: str) -> list[str]:
    """The links of the results the book's search page lists for ``term``, once the search has finished."""
    page.goto(f"{base_url}search.html?q={quote(term)}", wait_until="load")
    # searchtools.js fills #search-results and then writes its summary ("Search finished, found ...")
    page.wait_for_function("() => document.querySelector('#search-results p.search-summary')?.textContent.trim()",
                           timeout=30_000)
    return page.eval_on_selector_all("#search-results ul.search li a",
                                     "links => links.map(a => a.getAttribute('href'))")


@pytest.mark.parametrize("term, anchor", [("Trainer", "rbmlib.train.Trainer"), ("AIS", "rbmlib.estimators.ais"),
                                          ("ais", "rbmlib.estimators.ais"), ("NReLU", "rbmlib.units.NReLU"),
                                          ("RBMTransformer", "rbmlib.sklearn.RBMTransformer")])
def test_search_finds_the_api_reference(term, anchor, page, base_url):
    links = search_results(page, base_url, term)
    assert f"{API_PAGE}#{anchor}" in links, f"searching {term!r} lists {links}"


def test_a_term_not_in_the_book_finds_nothing(page, base_url):
    assert search_results(page, base_url, "xylophonequark") == []
