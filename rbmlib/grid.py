"""A grid of independent cells (seed × fold × arm × stage), each one call ``fn(**cell)``: run serially in-process
(the default), in parallel processes (joblib), or on a Dask cluster (joblib's Dask backend), and cached on disk so
that an interrupted run resumes from the last finished cell.

The cache is ``joblib.Memory`` under ``<RBMBOOK_GRID_CACHE>/<name>`` (default ``<RBMBOOK_CACHE>/grid/<name>``;
``make long`` keeps it in the checkout, ``book/results/cells``, so that a run committed unfinished resumes on another
machine): a cell is recomputed when its arguments, the
source of ``fn`` or ``version`` change (pass ``code_version(...)`` of what ``fn`` calls, e.g. rbmlib and the
notebook's protocol cells). Each cell must seed itself (``seed_everything``) so that its result does not depend on
where or in which order it runs. The key names the code, not the machine: a cache filled over several sessions can
hold cells computed on different machines, so each computed cell's machine is added to ``machines.json`` beside the
cache (:func:`record_machine`).
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import joblib
from tqdm import tqdm

from ._grid_cell import call_cell
from .reproducibility import cpu_arithmetic_pinned, pin_cpu_arithmetic

SCHEDULER_ENV = "RBMBOOK_DASK_SCHEDULER"  # e.g. tcp://host:8786: run the cells on that Dask cluster
JOBS_ENV = "RBMBOOK_JOBS"  # worker processes on this machine (default 1: serial, in-process)
GRID_CACHE_ENV = "RBMBOOK_GRID_CACHE"  # the folder of the grids' caches (default: <RBMBOOK_CACHE>/grid)


# rbmlib's modules that only present, decide, schedule or store results: a grid cell's numbers do not depend on
# them, so editing them leaves cached cells valid (every other module, data loading included, is in the key)
NOT_COMPUTING = ("_grid_cell.py", "checkpoint.py", "grid.py", "profiles.py", "report.py", "stats.py")


def code_version(*texts: str) -> str:
    """A short hash of the code of rbmlib's computing modules (all but ``NOT_COMPUTING``; each without docstrings and
    comments: ``rbmlib.report.module_code``) and ``texts`` (e.g. the notebook cells that define a cell's protocol): a
    change to either recomputes the cells cached under it; rewording documentation does not."""
    from .report import computing_modules, module_code

    digest = hashlib.sha256()
    for _, path in computing_modules():
        digest.update(module_code(path.read_text("utf-8")).encode())
    for text in texts:
        digest.update(text.encode())
    return digest.hexdigest()[:16]


def data_version(*tensors) -> str:
    """A short hash of tensors' dtypes, shapes and values: pass it to :func:`code_version` with the protocol, so that a
    change to the data a grid's cells read (a seed of a random binarisation, a split, a preprocessing step outside the
    hashed functions) recomputes them instead of reusing cells computed on other data."""
    import torch

    digest = hashlib.sha256()
    for t in tensors:
        t = torch.as_tensor(t).detach().cpu().contiguous()
        digest.update(f"{t.dtype} {tuple(t.shape)}\0".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


class _Log:
    """One line per finished cell on the process's own stderr (``sys.__stderr__``, file descriptor 2): the terminal
    or log file of ``make long``, where the notebook's progress bar does not show (ipykernel also copies these lines
    into the executed notebook's outputs). ``cached[i]``: cell i was in the cache when the run started; the time
    left counts the cells still to compute at the rate of those computed so far."""

    def __init__(self, desc: str, cached: Sequence[bool], enabled: bool):
        self.desc, self.cached, self.enabled = desc, list(cached), enabled and sys.__stderr__ is not None
        self.done, self.computed, self.start = 0, 0, time.monotonic()
        n_cached = sum(self.cached)
        self.write(f"{len(self.cached)} cells, {n_cached} of them cached" if n_cached else f"{len(self.cached)} cells")

    def write(self, text: str):
        if self.enabled:
            print(f"[{time.strftime('%H:%M:%S')}] {self.desc}: {text}", file=sys.__stderr__, flush=True)

    def finished(self, index: int, cell: dict):
        self.done += 1
        self.computed += not self.cached[index]
        to_compute = sum(not c for c in self.cached) - self.computed
        rate = (time.monotonic() - self.start) / self.computed if self.computed else 0.0
        eta = (f", about {rate * to_compute / 60:.0f} min left at {rate / 60:.1f} min per cell"
               if self.computed and to_compute else "")
        self.write(f"{self.done}/{len(self.cached)} done ({cell}){eta}")


_CELLS_RUN = {"cells": 0, "cached_at_start": 0, "compute_s": 0.0}  # this process's cached grid runs (cells_run)


def cells_run() -> dict:
    """What this process's cached grid runs have cost so far: ``cells`` run, how many of them were
    ``cached_at_start`` (computed by an earlier execution, e.g. one that was interrupted), and ``compute_s``, the
    seconds each cell took when it was computed, as joblib recorded them, summed (cells run at once each count in
    full). A resumed long run's wall time covers only its last execution; this covers every cell."""
    return {**_CELLS_RUN, "compute_s": round(_CELLS_RUN["compute_s"], 1)}


def default_jobs() -> int:
    """Grid cells run at once when :func:`run` is not told: ``$RBMBOOK_JOBS``, else 1 (serial, in-process)."""
    return int(os.environ.get(JOBS_ENV) or 1)


def cache_folder(name: str) -> Path:
    """Where the grid ``name`` caches its cells: ``$RBMBOOK_GRID_CACHE/<name>`` if set, else
    ``<RBMBOOK_CACHE>/grid/<name>``."""
    from .data.files import cache_dir, writable_dir

    root = os.environ.get(GRID_CACHE_ENV)
    return writable_dir(Path(root).expanduser() / name) if root else cache_dir("grid", name)


MACHINES_FILE = "machines.json"  # beside a grid's cache: which machine computed each cell


def record_machine(folder: Path, cell: dict, version: str, scheduler: str | None = None) -> None:
    """Add to ``folder/machines.json`` the machine that computed ``cell`` under ``version``: this process's CPU
    (``report.cpu_name``, ``cpu_vector_isa``) and the time it finished, or the Dask scheduler that ran it (whose
    workers' CPUs are not known here). Entries are keyed by ``version`` and the cell; a recomputed cell's entry is
    replaced."""
    from .report import cpu_name, cpu_vector_isa

    path = Path(folder) / MACHINES_FILE
    machines = json.loads(path.read_text()) if path.exists() else {}
    machines[f"{version} {json.dumps(cell, sort_keys=True, default=str)}"] = {
        "cell": {k: str(v) if not isinstance(v, (int, float, str, bool)) else v for k, v in cell.items()},
        "version": version,
        "machine": f"Dask cluster at {scheduler}" if scheduler else cpu_name(),
        "cpu_vector_isa": None if scheduler else cpu_vector_isa(),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    temporary = path.with_suffix(".json.part")
    temporary.write_text(json.dumps(machines, indent=1, sort_keys=True) + "\n")
    temporary.replace(path)


def run(fn: Callable, cells: Sequence[dict], *, cache: str | None = None, version: str = "",
        n_jobs: int | None = None, scheduler: str | None = None, progress: bool = True,
        desc: str = "grid") -> list:
    """``[fn(**cell) for cell in cells]``, in order, with an ETA (with ``progress``: a bar on stdout, and one line per
    finished cell on the process's own stderr, the terminal of ``make long``). ``cache`` names an on-disk cache
    (:func:`cache_folder`; None: no cache); ``n_jobs`` worker processes (default ``$RBMBOOK_JOBS`` or 1); ``scheduler`` a Dask scheduler address (default
    ``$RBMBOOK_DASK_SCHEDULER``), which needs ``dask.distributed`` and a cache folder the workers can reach. Each cell
    computed (not found in the cache) is recorded in the cache's ``machines.json`` (:func:`record_machine`)."""
    cells = [dict(c) for c in cells]
    n_jobs = n_jobs or default_jobs()
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    call, computed = call_cell, None
    if cache is not None:
        folder = cache_folder(cache)
        memory = joblib.Memory(folder, verbose=0)
        call = memory.cache(call_cell, ignore=["fn"])  # see _grid_cell: never edited, so never cleared
        version = hashlib.sha256((inspect.getsource(fn) + version).encode()).hexdigest()[:16]
    cached = [cache is not None and call.check_call_in_cache(fn, cell, version) for cell in cells]
    log = _Log(desc, cached, progress)
    if cache is not None:
        computed = functools.partial(_record_computed, folder, cached, version, scheduler)
    bar = tqdm(total=len(cells), desc=desc, file=sys.stdout, disable=not progress, leave=False)
    try:
        if scheduler is None and n_jobs == 1:  # in this process, one cell at a time as the generator is consumed
            results = _collect((call(fn, cell, version) for cell in cells), cells, bar, log, computed)
        else:  # worker processes inherit the pin's environment but not its kernels (rbmlib.blas): they pin again
            pinned = functools.partial(_pinned_cell, fn) if cpu_arithmetic_pinned() else fn
            jobs = (joblib.delayed(call)(pinned, cell, version) for cell in cells)
            if scheduler is not None:
                from dask.distributed import Client

                with Client(scheduler), joblib.parallel_config(backend="dask"):
                    results = _collect(joblib.Parallel(return_as="generator")(jobs), cells, bar, log, computed)
            else:
                results = _collect(joblib.Parallel(n_jobs=n_jobs, return_as="generator")(jobs), cells, bar, log,
                                   computed)
    finally:
        bar.close()
    if cache is not None:  # every cell is in the cache now, with the seconds it took when it was computed
        _CELLS_RUN["cells"] += len(cells)
        _CELLS_RUN["cached_at_start"] += sum(cached)
        _CELLS_RUN["compute_s"] += math.fsum(call.call_and_shelve(fn, cell, version).duration or 0.0 for cell in cells)
    return results


def _pinned_cell(fn: Callable, **cell):
    """``fn(**cell)`` in a worker process, after ``rbmlib.pin_cpu_arithmetic()``: the same arithmetic as in the
    pinned caller, so that a cell's result does not depend on where it ran."""
    pin_cpu_arithmetic()
    return fn(**cell)


def _record_computed(folder: Path, cached: Sequence[bool], version: str, scheduler: str | None, index: int,
                     cell: dict) -> None:
    """:func:`record_machine` for cell ``index`` of a run, unless it came from the cache."""
    if not cached[index]:
        record_machine(folder, cell, version, scheduler)


def _collect(results, cells: Sequence[dict], bar, log: _Log, computed: Callable | None = None) -> list:
    """The results, in order, as they arrive; the bar and the log advance with each, and ``computed(i, cell)`` is
    called for each."""
    collected = []
    for i, (cell, result) in enumerate(zip(cells, results)):
        collected.append(result)
        bar.update(1)
        log.finished(i, cell)
        if computed is not None:
            computed(i, cell)
    return collected
