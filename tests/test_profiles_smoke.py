"""Smoke runs: every chapter's ``long`` and ``paper`` configurations through every stage, shrunk by the chapter's own
``smoke`` dict (``RBMBOOK_SMOKE=1``: a few examples, one epoch or step per stage, few seeds, folds and grid points)
but with the profile's full model sizes, executed in this process by ``.ci/execute_without_jupyter.py``; and the
configuration mechanism of ``rbmlib.profiles`` (a no-op without the variable, sizes checked against the data).

Test sets stay large enough for each verdict's rule (a minimum effect of at least two test examples), so the
verdicts are built as in a real run; a smoke run's numbers mean nothing and are never recorded.
"""
import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from rbmlib import portable, profiles

ROOT = Path(__file__).resolve().parent.parent
# chapter notebook → the settings that size its models: a smoke run must leave them as the profile has them
MODEL_SIZES = {
    "rbm_mnist": ("n_hidden", "exact_hidden", "dbn_sizes"),
    "glorot2011_sparse_rectifiers": ("width", "layers"),
    "he2015_delving_deep": ("width", "stages", "fc", "depths", "depth_width"),
    "nair_hinton2010_lfw": ("n_hidden", "image_size"),
    "nair_hinton2010_norb": ("sizes",),
}


def load_executor():
    spec = importlib.util.spec_from_file_location("execute_without_jupyter", ROOT / ".ci" / "execute_without_jupyter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


executor = load_executor()


@pytest.fixture(scope="module")
def smoke_cache(tmp_path_factory):
    """One cache for the module's runs: each data set is decoded once; the grid caches are keyed by profile."""
    return tmp_path_factory.mktemp("smoke-cache")


def run_notebook(notebook, profile, tmp_path, cache, before=None):
    env = {profiles.ENV_VAR: profile, profiles.SMOKE_ENV: "1", "RBMBOOK_RESULTS": str(tmp_path / "results"),
           "RBMBOOK_CACHE": str(cache), "MPLBACKEND": "Agg"}
    threads = torch.get_num_threads()
    try:
        return executor.execute(ROOT / "notebooks" / f"{notebook}.ipynb", env=env, before=before)
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, smoke_cache):
    """``smoke_run(notebook, profile)``: run it once per module (later calls reuse the run) and return what the
    tests read of it: the namespace's ``P``, full configuration and ``NAME``, and the folder of its results file."""
    runs = {}

    def run(notebook, profile):
        if (notebook, profile) not in runs:
            folder = tmp_path_factory.mktemp(f"{notebook}-{profile}")
            namespace = run_notebook(notebook, profile, folder, smoke_cache)
            runs[notebook, profile] = dict(P=namespace["P"], NAME=namespace["NAME"], results=folder / "results",
                                           full={**namespace.get("COMMON", {}), **namespace["CONFIGS"][profile]})
        return runs[notebook, profile]

    return run


@pytest.mark.parametrize("profile", ["long", "paper"])
@pytest.mark.parametrize("notebook", list(MODEL_SIZES))
def test_a_smoke_run_goes_through_every_stage_at_full_model_size(notebook, profile, smoke_run):
    run = smoke_run(notebook, profile)
    P, full = run["P"], run["full"]
    assert P != full and all(P[key] == full[key] for key in MODEL_SIZES[notebook])  # shrunk, models full size
    saved = json.loads((run["results"] / f"{run['NAME']}.{profile}.json").read_text())
    assert saved["profile"] == profile and saved["name"] == run["NAME"]
    assert saved["provenance"]["smoke"] is True and saved["provenance"]["code_hash"]
    assert saved["verdicts"] and all(v["outcome"] for v in saved["verdicts"])


def test_the_long_runs_page_draws_every_chapter_s_long_results(smoke_run, tmp_path):
    """``book/long_runs.ipynb`` executed in a copy of the book whose ``long`` results are every chapter's smoke run
    (and whose MNIST ``paper`` results are that chapter's smoke run at ``paper``):
    each section draws from a file of the shape a real long run writes, so a field the page reads and a run does not
    write fails here, not after a two-hour run."""
    (tmp_path / "book" / "results").mkdir(parents=True)
    shutil.copy(ROOT / "_toc.yml", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".*"))
    for path in (ROOT / "book" / "results").glob("*.ci.json"):
        shutil.copy(path, tmp_path / "book" / "results")
    names = set()
    for notebook in MODEL_SIZES:
        run = smoke_run(notebook, "long")
        shutil.copy(run["results"] / f"{run['NAME']}.long.json", tmp_path / "book" / "results")
        names.add(run["NAME"])
    paper = smoke_run("rbm_mnist", "paper")  # the page's section for the MNIST chapter's `paper` run
    shutil.copy(paper["results"] / f"{paper['NAME']}.paper.json", tmp_path / "book" / "results")
    shutil.copy(ROOT / "book" / "long_runs.ipynb", tmp_path / "book")
    try:
        namespace = executor.execute(tmp_path / "book" / "long_runs.ipynb", env={"MPLBACKEND": "Agg"})
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
    assert set(namespace["CHAPTERS"]) == names and all(namespace["long"][name] for name in names)
    assert namespace["mnist_paper"]["profile"] == "paper"


@pytest.mark.parametrize("notebook", list(MODEL_SIZES))
def test_a_chapter_makes_no_call_to_the_cpu_vendor_s_vector_maths(notebook, tmp_path, smoke_cache):
    """The checked (``ci``) path of every chapter, smoke-sized, inside ``rbmlib.portable.audit``: no call reaches the
    MKL kernels whose bits depend on the CPU vendor, so the stored outputs hold on Intel and AMD alike."""
    with portable.audit() as calls:
        run_notebook(notebook, "ci", tmp_path, smoke_cache)
    assert not calls, f"{notebook} calls {dict(calls)}: use rbmlib.portable (or fused=True for Adam)"


@pytest.mark.parametrize("change, message", [
    (dict(n_train=1_000_000), "asks for 1,000,000 examples but .* has 50,000"),  # more images than the stand-in has
    (dict(n_train=None, validation_fraction=0.9999), "leaves 5 to train and 49,995 to validate"),  # split too big
], ids=["n_train", "validation"])
def test_a_configuration_that_does_not_fit_the_loaded_data_is_refused(change, message, tmp_path, smoke_cache,
                                                                         monkeypatch):
    """The NORB stand-in (50,000 training images) asked for more than it has: a clear error, not a silent slice."""
    configure = profiles.configure

    def changed(configs, profile, *, smoke=None):
        return {**configure(configs, profile, smoke=smoke), **change}

    with pytest.raises(executor.CellError, match=message) as raised:
        run_notebook("nair_hinton2010_norb", "paper", tmp_path, smoke_cache,
                     before=lambda namespace: monkeypatch.setattr(profiles, "configure", changed))
    assert isinstance(raised.value.__cause__, ValueError)


def test_configure_is_the_profile_itself_unless_smoke_is_asked_for(monkeypatch):
    configs = {"ci": dict(n=10, width=5), "paper": dict(n=1000, width=50)}
    monkeypatch.delenv(profiles.SMOKE_ENV, raising=False)
    assert profiles.configure(configs, "paper", smoke=dict(n=2)) is configs["paper"]
    monkeypatch.setenv(profiles.SMOKE_ENV, "0")
    assert profiles.configure(configs, "paper", smoke=dict(n=2)) is configs["paper"]
    monkeypatch.setenv(profiles.SMOKE_ENV, "1")
    shrunk = profiles.configure(configs, "paper", smoke=dict(n=2, n_test=3))
    assert shrunk == dict(n=2, width=50, n_test=3) and configs["paper"] == dict(n=1000, width=50)
    assert "SMOKE RUN" in profiles.describe("paper")
    with pytest.raises(ValueError, match="declares no smoke shrink"):
        profiles.configure(configs, "paper")
    with pytest.raises(ValueError, match="no configuration for profile 'long'"):
        profiles.configure(configs, "long", smoke=dict(n=2))
    monkeypatch.setenv(profiles.SMOKE_ENV, "yes")
    with pytest.raises(ValueError, match="RBMBOOK_SMOKE='yes'"):
        profiles.configure(configs, "paper", smoke=dict(n=2))


def test_check_sizes_names_what_was_asked_of_which_data():
    profiles.check_sizes(100, "demo", n_valid=20, n_train=80)
    profiles.check_sizes(100, "demo", n_valid=99, n_train=None)
    with pytest.raises(ValueError, match=r"n_valid=20 \+ n_train=90 = 110 examples, but demo has 100"):
        profiles.check_sizes(100, "demo", n_valid=20, n_train=90)
    with pytest.raises(ValueError, match="leave some for n_train"):
        profiles.check_sizes(100, "demo", n_valid=100, n_train=None)
    with pytest.raises(ValueError, match="only one part"):
        profiles.check_sizes(100, "demo", n_valid=None, n_train=None)
    with pytest.raises(ValueError, match="at least 1"):
        profiles.check_sizes(100, "demo", n_train=0)


def test_the_executor_runs_cells_in_one_namespace_and_names_a_failing_cell(tmp_path, monkeypatch):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["import os\n", "x = int(os.environ['SMOKE_DEMO']) + offset\n", "x"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["1 / 0"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["y = 1"]}]
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.delenv("SMOKE_DEMO", raising=False)
    seen = []
    with pytest.raises(executor.CellError, match="code cell 1 raised ZeroDivisionError") as raised:
        executor.execute(path, env={"SMOKE_DEMO": "41"}, before=lambda ns: ns.update(offset=1),
                         after_cell=lambda i, source, ns: seen.append((i, ns["x"])), output_path=tmp_path / "out.ipynb")
    assert seen == [(0, 42)] and isinstance(raised.value.__cause__, ZeroDivisionError)
    assert "SMOKE_DEMO" not in os.environ  # the environment is restored
    written = json.loads((tmp_path / "out.ipynb").read_text())["cells"]
    assert written[1]["outputs"][-1]["data"]["text/plain"] == "42"
    assert "ZeroDivisionError" in written[2]["outputs"][0]["text"] and written[3]["outputs"] == []
