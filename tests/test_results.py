"""The book's recorded results: every stored verdict is recomputed from its raw per-seed/fold numbers and must
agree with what the file (and so the book) shows; no results file or stored notebook output holds a machine path."""
import json
import re
from pathlib import Path

import pytest

from rbmlib import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = sorted((ROOT / "book" / "results").glob("*.json"))
SHOWN = ("outcome", "kind", "evidence", "rule_text", "reason")


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.name)
def test_every_stored_verdict_recomputes_to_what_the_file_shows(path):
    saved = report.read_results(path)
    assert saved["verdicts"], f"{path.name} has no verdicts"
    for stored in saved["verdicts"]:
        recomputed = report.Verdict.from_json(stored).to_json()  # refuses a verdict without rule and raw inputs
        for key in SHOWN:
            assert stored[key] == recomputed[key], (
                f"{path.name}, claim {stored['claim']!r}: stored {key} {stored[key]!r} but the raw numbers give "
                f"{recomputed[key]!r}")


def test_a_deliberately_edited_number_fails_the_recomputation(tmp_path):
    """The check above must be able to fail: change one stored per-seed number and the outcome moves."""
    verdict = report.claim("A beats B", "beats", data="MNIST", a=[0.1] * 5, b=[0.2] * 5, min_effect=0.05)
    stored = verdict.to_json()
    stored["inputs"]["a"][0] = 0.3  # one seed now favours B
    assert report.Verdict.from_json(stored).to_json()["outcome"] != stored["outcome"]


MACHINE_PATH = re.compile(r"(/work/|/home/|/root/|/tmp/|/Users/|[A-Z]:\\\\)")


@pytest.mark.parametrize("path", RESULTS + sorted((ROOT / "notebooks").glob("*.ipynb"))
                         + [ROOT / "book" / "status.ipynb", ROOT / "book" / "long_runs.ipynb"], ids=lambda p: p.name)
def test_no_machine_path_is_stored(path):
    text = path.read_text()
    if path.suffix == ".ipynb":
        text = json.dumps([c.get("outputs", []) for c in json.loads(text)["cells"]])
    found = MACHINE_PATH.findall(text)
    assert not found, f"{path.name} holds a path of the machine that ran it: {found[:3]}"


def test_refreshing_the_texts_rewords_a_verdict_and_keeps_its_raw_numbers(tmp_path):
    verdict = report.claim("A beats B", "beats", data="MNIST", a=[0.1] * 3, b=[0.2] * 3, min_effect=0.05)
    path = report.save_results("demo", "ci", {"x": 1}, verdicts=[verdict], directory=tmp_path)
    saved = json.loads(path.read_text())
    saved["verdicts"][0]["reason"] = "an older wording"
    path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    assert report.refresh_verdict_texts(path) == 1
    fresh = json.loads(path.read_text())
    assert fresh["verdicts"][0]["reason"] == verdict.decision.reason
    assert fresh["verdicts"][0]["inputs"] == saved["verdicts"][0]["inputs"] and fresh["results"] == {"x": 1}
    assert report.refresh_verdict_texts(path) == 0


def test_refreshing_the_texts_refuses_a_verdict_whose_outcome_would_move(tmp_path):
    verdict = report.claim("A beats B", "beats", data="MNIST", a=[0.1] * 5, b=[0.2] * 5, min_effect=0.05)
    path = report.save_results("demo", "ci", {"x": 1}, verdicts=[verdict], directory=tmp_path)
    saved = json.loads(path.read_text())
    saved["verdicts"][0]["outcome"] = "inconclusive at this scale"  # as if the rule had changed since the run
    saved["verdicts"][0]["reason"] = "an older wording"  # and a text that a refresh would rewrite
    path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    with pytest.raises(ValueError, match="'A beats B'.*redo the run"):
        report.refresh_verdict_texts(path)
    assert json.loads(path.read_text()) == saved  # nothing rewritten
    saved["verdicts"][0]["outcome"] = verdict.decision.outcome.value
    saved["verdicts"][0]["kind"] = "check"  # a claim stored as a sanity check: a kind that would move
    path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    with pytest.raises(ValueError, match="check → claim"):
        report.refresh_verdict_texts(path)
