"""rbmlib.grid: a grid of self-seeding cells gives the same results serially, in processes, on a Dask cluster, and
after an interrupted run is resumed from its on-disk cache."""
import pytest
import torch

from rbmlib import grid
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


def test_a_dask_local_cluster_matches_the_serial_run():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_cluster = grid.run(train_cell, CELLS, scheduler=cluster.scheduler_address, progress=False)
    assert on_cluster == grid.run(train_cell, CELLS, progress=False)
