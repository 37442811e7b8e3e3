"""Every mutation still applies: its target occurs exactly once in its file and the mutated file compiles.

``make mutations`` refuses to start when a target has drifted from the code (a mutation written against an older
line); this catches the drift in the unit suite, minutes earlier. The runner itself never runs this file: it runs
``tests/test_*.py`` only, and in a mutated copy this check would fail for every mutant.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import run  # noqa: E402  (tests/mutations/run.py)

MUTATIONS = [(set_name, m) for set_name, ms in run.mutation_sets().items() for m in ms]


@pytest.mark.parametrize("set_name, mutation", MUTATIONS, ids=[f"{s}: {m.name}" for s, m in MUTATIONS])
def test_target_occurs_once_and_the_mutant_compiles(set_name, mutation):
    run.apply(mutation, (run.REPO / mutation.file).read_text("utf-8"))  # the runner's own check: SystemExit if not


def test_names_are_unique():
    names = [m.name for _, m in MUTATIONS]
    assert len(names) == len(set(names))
