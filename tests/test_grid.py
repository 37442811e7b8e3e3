"""rbmlib.grid: a grid of self-seeding cells gives the same results serially, in processes, on a Dask cluster, and
after an interrupted run is resumed from its on-disk cache."""
import ast
import hashlib
import io
import json
import sys
import time
from pathlib import Path

import pytest
import torch

from rbmlib import grid, report
from rbmlib.reproducibility import seed_everything

CELLS = [{"seed": s, "width": w} for s in range(3) for w in (2, 3)]


def train_cell(seed: int, width: int) -> dict:
    """A tiny self-seeding 'training run': its result depends only on its arguments."""
    seed_everything(seed, threads=1)
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(width, width, generator=g)
    for _ in range(10):
        w = torch.tanh(w @ w.T / width)
    return {"seed": seed, "width": width, "value": w.sum().item()}


def test_parallel_processes_match_the_serial_run():
    serial = grid.run(train_cell, CELLS, progress=False)
    assert [r["seed"] for r in serial] == [c["seed"] for c in CELLS]
    assert grid.run(train_cell, CELLS, n_jobs=2, progress=False) == serial


def pinned_product_cell(seed: int) -> dict:
    """A product large enough that MKL and OpenBLAS give other bits, and whether the pin's kernels computed it."""
    from rbmlib import blas

    g = torch.Generator().manual_seed(seed)
    a, b = torch.rand(100, 784, generator=g), torch.rand(784, 500, generator=g) - 0.5
    return {"routed": blas.routed(), "bits": hashlib.sha256((a @ b).numpy().tobytes()).hexdigest()}


def test_pinned_cells_in_worker_processes_use_the_pinned_kernels_as_in_the_caller():
    cells = [dict(seed=s) for s in range(3)]
    serial = grid.run(pinned_product_cell, cells, progress=False)
    assert all(r["routed"] for r in serial)  # tests/conftest.py pins
    assert grid.run(pinned_product_cell, cells, n_jobs=2, progress=False) == serial


def test_an_interrupted_run_resumes_from_the_last_finished_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path))
    calls = []

    def flaky(seed: int, width: int) -> dict:
        calls.append((seed, width))
        if len(calls) == 4 and fail:
            raise KeyboardInterrupt  # the run is stopped during its 4th cell
        return train_cell(seed, width)

    fail = True
    with pytest.raises(KeyboardInterrupt):
        grid.run(flaky, CELLS, cache="demo", progress=False)
    fail = False
    calls.clear()
    resumed = grid.run(flaky, CELLS, cache="demo", progress=False)
    assert calls == [(c["seed"], c["width"]) for c in CELLS[3:]]  # the three finished cells came from the cache
    assert resumed == grid.run(train_cell, CELLS, progress=False)
    calls.clear()
    grid.run(flaky, CELLS, cache="demo", version="protocol v2", progress=False)
    assert len(calls) == len(CELLS)  # a changed code version recomputes every cell


def test_a_resumed_run_reports_the_compute_time_of_every_cell_with_those_from_the_earlier_execution(
        tmp_path, monkeypatch):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path))
    monkeypatch.setattr(grid, "_CELLS_RUN", {"cells": 0, "cached_at_start": 0, "compute_s": 0.0})

    def slow(seed: int, width: int) -> dict:
        if stop and (seed, width) == (CELLS[2]["seed"], CELLS[2]["width"]):
            raise KeyboardInterrupt  # the execution is stopped during its third cell
        time.sleep(0.1)
        return train_cell(seed, width)

    stop = False
    grid.run(slow, CELLS, progress=False)  # no cache: nothing to report
    assert grid.cells_run() == {"cells": 0, "cached_at_start": 0, "compute_s": 0.0}
    assert "grid_cells" not in report.provenance()
    stop = True
    with pytest.raises(KeyboardInterrupt):
        grid.run(slow, CELLS, cache="demo", progress=False)
    stop = False
    assert grid.cells_run()["cells"] == 0  # a stopped execution reports nothing; its two finished cells are cached
    grid.run(slow, CELLS, cache="demo", progress=False)  # the resumed execution
    resumed = grid.cells_run()
    assert resumed["cells"] == len(CELLS) and resumed["cached_at_start"] == 2
    # six cells of at least 0.1 s each (less 0.05 s of rounding), the two cached ones at the seconds they took in the
    # stopped execution
    assert 0.55 <= resumed["compute_s"] < 5 and isinstance(resumed["compute_s"], float)
    assert report.provenance()["grid_cells"] == resumed


def test_a_long_run_logs_each_finished_cell_and_what_was_cached_to_the_terminal(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path))
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # the notebook's stream: the lines go to the process's own
    grid.run(train_cell, CELLS[1:3], cache="demo", desc="study")
    capfd.readouterr()
    grid.run(train_cell, CELLS, cache="demo", desc="study")  # resumed: cells 1 and 2 come from the cache
    lines = [line.split("] ", 1)[1] for line in capfd.readouterr().err.splitlines() if line.startswith("[")]
    assert lines[0] == f"study: {len(CELLS)} cells, 2 of them cached" and len(lines) == len(CELLS) + 1
    assert lines[1].startswith(f"study: 1/{len(CELLS)} done ({CELLS[0]}), about ") and lines[1].endswith(" per cell")
    assert lines[-1] == f"study: {len(CELLS)}/{len(CELLS)} done ({CELLS[-1]})"  # nothing left: no estimate
    assert sys.stderr.getvalue() == ""
    grid.run(train_cell, CELLS, cache="demo", progress=False)
    assert capfd.readouterr().err == ""  # without progress, nothing


def test_the_time_left_counts_only_the_cells_still_to_compute(monkeypatch):
    clock = iter([0.0, 60.0, 60.0, 180.0])  # start; cell 0 computed after 1 min; cell 1 cached; cell 2 at 3 min
    monkeypatch.setattr(grid.time, "monotonic", lambda: next(clock))
    lines = []
    monkeypatch.setattr(grid._Log, "write", lambda self, text: lines.append(text))
    log = grid._Log("g", [False, True, False, True, False], True)
    for i in range(3):
        log.finished(i, {"i": i})
    assert lines[1].endswith("about 2 min left at 1.0 min per cell")  # 2 uncached cells left (2 and 4)
    assert lines[2] == "2/5 done ({'i': 1}), about 2 min left at 1.0 min per cell"
    assert lines[3].endswith("about 2 min left at 1.5 min per cell")  # 3 min for 2 computed; 1 left


def test_a_dask_local_cluster_matches_the_serial_run():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_cluster = grid.run(train_cell, CELLS, scheduler=cluster.scheduler_address, progress=False)
    assert on_cluster == grid.run(train_cell, CELLS, progress=False)


KILL_SCRIPT = '''
import json, sys, time
sys.path.insert(0, sys.argv[4])
from test_grid import CELLS, train_cell
from rbmlib import grid, report


def slow_cell(seed, width):
    """train_cell, logged and slowed down so that the run can be killed between cells."""
    with open(sys.argv[1], "a") as log:
        log.write(f"{seed} {width}\\n")
    time.sleep(0.4)
    return train_cell(seed, width)


results = grid.run(slow_cell, CELLS, cache=sys.argv[3] or None, progress=False)
with open(sys.argv[2], "w") as out:
    json.dump(results, out)
'''


def test_a_run_killed_with_sigkill_resumes_with_identical_results(tmp_path):
    """A grid run killed by SIGKILL (no cleanup at all) after some of its cells finished, executed again: the
    finished cells come from the on-disk cache, the others are computed, and the results equal an uninterrupted run."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "kill_demo.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "RBMBOOK_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}

    def start(log, out, cache=None):
        return subprocess.Popen([sys.executable, str(script), str(log), str(out), cache or "",
                                 str(Path(__file__).parent)], env=env, cwd=tmp_path)

    def finished_cells():  # joblib.Memory writes a cell's output.pkl atomically once the cell has returned
        return len(list((tmp_path / "cache" / "grid").rglob("output.pkl")))

    first = start(tmp_path / "first.log", tmp_path / "first.json", "kill-demo")
    deadline = time.monotonic() + 120
    while finished_cells() < 2:
        assert first.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no cell finished within 2 minutes"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done = finished_cells()
    assert first.returncode == -signal.SIGKILL and 2 <= done < 6 and not (tmp_path / "first.json").exists()

    second = start(tmp_path / "second.log", tmp_path / "second.json", "kill-demo")
    assert second.wait(timeout=120) == 0
    computed = (tmp_path / "second.log").read_text().split("\n")[:-1]
    cells = [f"{c['seed']} {c['width']}" for c in CELLS]
    assert computed == cells[done:]  # the finished cells were not recomputed, the rest were
    uninterrupted = start(tmp_path / "plain.log", tmp_path / "plain.json")  # no cache at all
    assert uninterrupted.wait(timeout=120) == 0
    resumed = json.loads((tmp_path / "second.json").read_text())
    assert resumed == json.loads((tmp_path / "plain.json").read_text())  # identical, bit for bit
    assert [r["seed"] for r in resumed] == [c["seed"] for c in CELLS]


NOT_COMPUTING = ("_grid_cell.py", "checkpoint.py", "grid.py", "profiles.py", "report.py", "stats.py")


def test_not_computing_names_exactly_the_modules_that_present_decide_schedule_or_store_results():
    """Editing these keeps cached cells (code_version) and recorded results (report.code_hash) current; every other
    module, data loading included, is in both keys."""
    assert grid.NOT_COMPUTING == NOT_COMPUTING


def test_code_version_covers_the_computing_modules_and_the_texts_only(tmp_path, monkeypatch):
    """Editing the code of a module that only presents, decides, schedules or stores results (report.py, every one
    of NOT_COMPUTING) keeps cached cells valid; editing one that computes them (train.py, data/mnist.py), or the
    protocol text, does not."""
    import importlib.util
    import shutil

    package = tmp_path / "rbmlib"
    shutil.copytree(Path(grid.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))

    def version(text="protocol"):  # the copy's code_version, hashing the copy's modules
        parent = importlib.util.spec_from_file_location("rbmlib_copy", package / "__init__.py",
                                                        submodule_search_locations=[str(package)])
        spec = importlib.util.spec_from_file_location("rbmlib_copy.grid", package / "grid.py")
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, "rbmlib_copy", importlib.util.module_from_spec(parent))
        spec.loader.exec_module(module)
        return module.code_version(text)

    before = version()
    assert version() == before and version("other protocol") != before
    (package / "report.py").write_text((package / "report.py").read_text() + "\n# a presentation edit\n")
    assert version() == before
    train = (package / "train.py").read_text()
    (package / "train.py").write_text(train.replace('"""', '"""Reworded documentation. ', 1) + "\n# a comment\n")
    assert version() == before  # documentation and comments are not code (report.module_code)
    for name in NOT_COMPUTING:  # code edits to every module that only presents, decides, schedules or stores results
        (package / name).write_text((package / name).read_text() + "\nPRESENTATION_EDIT = 1\n")
    assert version() == before
    (package / "train.py").write_text(train + "\nCOMPUTING_EDIT = 1\n")
    assert version() != before
    (package / "train.py").write_text(train)
    mnist = (package / "data" / "mnist.py").read_text()
    (package / "data" / "mnist.py").write_text(mnist + "\nDATA_EDIT = 1\n")
    assert version() != before  # data loading computes too


def test_data_version_changes_with_any_value_dtype_shape_or_order_of_the_data_and_only_then():
    x, y = torch.rand(50, 7, generator=torch.Generator().manual_seed(0)), torch.arange(50)
    key = grid.data_version(x, y)
    assert grid.data_version(x.clone(), y.clone()) == key and len(key) == 16
    flipped = x.clone()
    flipped[49, 6] = torch.nextafter(flipped[49, 6], torch.tensor(2.0))  # one value, one unit in the last place
    assert grid.data_version(flipped, y) != key
    assert grid.data_version(x.double(), y) != key  # the same values in another dtype
    assert grid.data_version(x.view(torch.int32), y) != key  # the same bytes in another dtype
    assert grid.data_version(x.reshape(7, 50), y) != key  # the same bytes in another shape
    assert grid.data_version(y, x) != key  # the order of the tensors
    assert grid.data_version(x, y.flip(0)) != key  # the second tensor alone
    assert grid.data_version(x[:49], y[:49]) != key  # a smaller slice
    assert grid.data_version(x.t().contiguous().t(), y) == key  # the values, not the memory layout
    assert grid.data_version(torch.empty(0, 7), y) != grid.data_version(torch.empty(0, 3), y)
    assert grid.data_version(torch.tensor(1.5)) != grid.data_version(torch.tensor([1.5]))  # a 0-d tensor


def test_the_cache_folder_is_the_grid_cache_setting_else_under_the_decoded_cache(tmp_path, monkeypatch):
    """``make long`` keeps its cells in the checkout (RBMBOOK_GRID_CACHE), where a committed unfinished run resumes
    on another machine; without the setting they go under RBMBOOK_CACHE."""
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "decoded"))
    monkeypatch.setenv("RBMBOOK_GRID_CACHE", str(tmp_path / "checkout" / "cells"))  # the name make long sets
    assert grid.cache_folder("chapter") == tmp_path / "checkout" / "cells" / "chapter"
    assert grid.run(train_cell, CELLS[:2], cache="chapter", progress=False) == [train_cell(**c) for c in CELLS[:2]]
    assert any((tmp_path / "checkout" / "cells" / "chapter").rglob("output.pkl"))
    assert not (tmp_path / "decoded" / "grid").exists()
    monkeypatch.delenv("RBMBOOK_GRID_CACHE")
    assert grid.cache_folder("chapter") == tmp_path / "decoded" / "grid" / "chapter"


EDIT_DURING_RUN_SCRIPT = r'''
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])  # the copy of rbmlib, edited while this process runs
from rbmlib import grid, report

computed = []


def cell(seed: int) -> int:
    computed.append(seed)
    return seed * seed


cells = [{"seed": s} for s in range(3)]
assert grid.run(cell, cells, cache="edited", progress=False) == [0, 1, 4]
if sys.argv[2] == "edit":  # a resumed run: its cells came from the cache an earlier process wrote
    for module in Path(grid.__file__).parent.glob("*.py"):  # every module's lines shift, as an edit above them would
        if module.name != "_grid_cell.py":
            module.write_text("# an edit made while a long run executes\n\n\n" + module.read_text())
    assert grid.run(cell, cells, cache="edited", progress=False) == [0, 1, 4]
print(len(computed))
'''


def test_editing_rbmlib_while_a_resumed_run_executes_keeps_its_finished_cells(tmp_path):
    """joblib clears a cached function's whole cache when its source text, read from disk at the line where the
    running process found it, differs from the text stored beside the cache (a process that did not write that text
    itself checks on every call). Only ``rbmlib._grid_cell`` is cached, so an edit that shifts the lines of every
    other module while a resumed long run executes keeps every finished cell."""
    import os
    import shutil
    import subprocess

    shutil.copytree(Path(grid.__file__).parent, tmp_path / "copy" / "rbmlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "edit_during_run.py"
    script.write_text(EDIT_DURING_RUN_SCRIPT)
    env = {**os.environ, "RBMBOOK_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}

    def computed(*args):
        done = subprocess.run([sys.executable, str(script), str(tmp_path / "copy"), *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    assert computed("") == 3  # the first run computes every cell
    assert computed("edit") == 0  # the resumed run, edited under its feet, recomputes none
    assert computed("") == 0  # and the cache is still whole for the next one


def test_each_computed_cell_records_the_machine_that_computed_it_beside_the_cache(tmp_path, monkeypatch):
    """A cache filled over several sessions may hold cells from different machines (its key names the code only):
    machines.json names each computed cell's CPU; cells found in the cache keep the entry of the run that computed
    them, and a new version adds its own."""
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path))
    monkeypatch.setattr(report, "cpu_name", lambda: "first machine")
    grid.run(train_cell, CELLS[:2], cache="demo", progress=False)
    path = grid.cache_folder("demo") / grid.MACHINES_FILE
    first = json.loads(path.read_text())
    assert sorted(entry["cell"]["seed"] * 10 + entry["cell"]["width"] for entry in first.values()) == [2, 3]
    assert {entry["machine"] for entry in first.values()} == {"first machine"}
    assert {entry["cpu_vector_isa"] for entry in first.values()} == {report.cpu_vector_isa()}

    monkeypatch.setattr(report, "cpu_name", lambda: "second machine")
    grid.run(train_cell, CELLS[:3], cache="demo", progress=False)  # two cached, one computed here
    second = json.loads(path.read_text())
    assert {k: v for k, v in second.items() if k in first} == first
    (new,) = [v for k, v in second.items() if k not in first]
    assert new["cell"] == CELLS[2] and new["machine"] == "second machine"
    assert len({entry["version"] for entry in second.values()}) == 1

    grid.run(train_cell, CELLS[:1], cache="demo", version="protocol v2", progress=False)
    assert len(json.loads(path.read_text())) == 4  # the same cell under another version is another entry


def test_machines_json_is_keyed_by_the_hashed_version_that_keys_the_joblib_cache(tmp_path, monkeypatch):
    """run hashes ``version`` with fn's source before it keys the cache: machines.json names each cell under that
    same version, so that its entries match the cached cells (and a changed fn gets entries of its own)."""
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path))
    grid.run(train_cell, CELLS[:2], cache="demo", version="protocol v2", progress=False)
    folder = grid.cache_folder("demo")
    keyed = {ast.literal_eval(json.loads(metadata.read_text())["input_args"]["version"])
             for metadata in folder.rglob("metadata.json")}  # joblib's record of each cached call's arguments
    assert len(keyed) == 1 and keyed != {"protocol v2"}
    (version,) = keyed
    machines = json.loads((folder / grid.MACHINES_FILE).read_text())
    assert sorted(machines) == [f'{version} {{"seed": 0, "width": {w}}}' for w in (2, 3)]
    assert [entry["version"] for entry in machines.values()] == [version, version]


def test_with_a_dask_scheduler_the_machine_is_recorded_as_the_dask_cluster(tmp_path, monkeypatch):
    """A cell run on a Dask cluster ran on one of its workers, whose CPU is not known here: not this machine's."""
    monkeypatch.setattr(report, "cpu_name", lambda: "this machine")
    grid.record_machine(tmp_path, {"seed": 0}, "v1", scheduler="tcp://10.0.0.5:8786")
    grid.record_machine(tmp_path, {"seed": 1}, "v1")
    machines = json.loads((tmp_path / grid.MACHINES_FILE).read_text())
    assert {key: (entry["machine"], entry["cpu_vector_isa"]) for key, entry in machines.items()} == {
        'v1 {"seed": 0}': ("Dask cluster at tcp://10.0.0.5:8786", None),
        'v1 {"seed": 1}': ("this machine", report.cpu_vector_isa())}
