"""Nair & Hinton 2010 chapters: the NORB chapter's title (its TOC entry) and verdicts name the data its recorded run
actually loaded (a stand-in says so; real NORB would change them), and every recorded verdict names its data.

The protocol itself lives on the notebooks' pages; its general parts are tested in tests/test_verification.py and
the View-1-only learning-rate selection of the LFW chapter in tests/test_data_lfw.py."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def title(notebook: str) -> str:
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    return "".join(cells[0]["source"]).splitlines()[0].removeprefix("# ")


def recorded(name: str) -> dict:
    path = ROOT / "book" / "results" / f"{name}.ci.json"
    if not path.exists():
        pytest.skip(f"{path.name} has not been recorded")
    return json.loads(path.read_text())


def test_norb_title_and_verdicts_name_the_data_actually_loaded():
    run = recorded("nair_hinton2010_norb")
    data = run["results"]["data"]
    assert title("nair_hinton2010_norb") == run["title"], (
        "the notebook's title (its TOC entry) must be the title its recorded run derived from the data it loaded: "
        f"{run['title']!r}")
    assert ("stand-in" in run["title"]) == data.startswith("stand-in")
    if data.startswith("stand-in"):
        assert "grey CIFAR-10" in run["title"]
    assert run["verdicts"] and all(v["data"] == data for v in run["verdicts"])
    assert "not found under" not in json.dumps(run)  # no path of the recording machine


@pytest.mark.parametrize("name", ["nair_hinton2010_lfw", "nair_hinton2010_norb"])
def test_recorded_verdicts_keep_their_raw_numbers(name):
    run = recorded(name)
    beats = [v for v in run["verdicts"] if v["rule"] == "beats"]
    assert beats and all(len(v["inputs"]["a"]) == len(v["inputs"]["b"]) >= 5 for v in beats)
    assert title(name) == run["title"]
