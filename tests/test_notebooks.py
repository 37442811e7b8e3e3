"""Notebook hygiene: the book renders stored outputs, and its build passes even when a notebook is broken, so
this checks what the build cannot: every notebook in the TOC is stored executed, without errors or stderr, with
a title, the python3 kernel, the CPU arithmetic pin before torch loads, and checked cells for nbval."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def toc_files():
    files = re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())
    root = re.search(r"^root:\s*(\S+)", (ROOT / "_toc.yml").read_text(), re.M).group(1)
    return [root] + files


def toc_notebooks():
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def test_every_toc_entry_exists_and_every_notebook_is_in_the_toc():
    for f in toc_files():
        assert (ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists(), f"{f} is in _toc.yml but missing"
    listed = {p.resolve() for p in toc_notebooks()}
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        assert nb.resolve() in listed, f"{nb.name} is not in _toc.yml"


@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.name)
def test_notebook_is_stored_executed_and_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3", "kernelspec must be python3 (nbval, CI)"
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# "), \
        "the first cell must be a markdown title '# ...'"
    code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    for i, cell in enumerate(code):
        source = "".join(cell["source"])
        assert cell.get("execution_count") is not None, f"code cell {i} was never run:\n{source[:200]}"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"code cell {i} stores an error: {out.get('ename')}"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), \
                f"code cell {i} stores stderr output:\n{''.join(out['text'])[:300]}"
    counts = [c["execution_count"] for c in code]
    assert counts == sorted(counts), "cells were run out of order"
    sources = ["".join(c["source"]) for c in code]
    tags = [c.get("metadata", {}).get("tags", []) for c in code]
    assert any("nbval-check-output" in t for t in tags), "no cell is checked by nbval (tag a cell nbval-check-output)"
    assert not any("NBVAL_" in s for s in sources), "mark checked cells with the nbval-check-output tag, not a comment"
    assert any(re.search(r"^\s*(import|from)\s+rbmlib", s, re.M) for s in sources), "the notebook must use rbmlib"
    if path.parent.name == "notebooks":  # a reproduction: the CPU arithmetic pin before anything loads torch or numpy
        lines = [line for s in sources for line in s.splitlines()]
        pin = next((i for i, line in enumerate(lines) if line.startswith("rbmlib.pin_cpu_arithmetic()")), None)
        loads_torch = next((i for i, line in enumerate(lines)
                            if re.match(r"\s*(import|from)\s+(torch|numpy|rbmlib\.)", line)), None)
        assert pin is not None, "call rbmlib.pin_cpu_arithmetic() first (checked outputs must not depend on the CPU)"
        assert loads_torch is None or pin < loads_torch, \
            "rbmlib.pin_cpu_arithmetic() must come before torch or numpy loads"
    for out in (o for c in code for o in c.get("outputs", [])):
        data = out.get("data", {})
        assert "image/svg+xml" not in data, "SVG figures change on every run and break nbval: use PNG"


def test_pyproject_pins_what_requirements_pin_for_the_arithmetic():
    """A pip-installed rbmlib must get the torch/torchvision pair the book is checked with (another pair breaks
    torchvision's operators) and the numpy whose OpenBLAS computes the pinned path's products (rbmlib.blas)."""
    import tomllib

    pins = dict(re.findall(r"^(torch|torchvision|numpy)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M))
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {f"{k}=={v}" for k, v in pins.items()} <= set(deps) and len(pins) == 3
