"""The notebooks' deterministic GEMMs, two routes (issue 24): torch's CPU products on numpy's OpenBLAS with its
Haswell kernels (``rbmlib.blas``, the pin since 2026-12-02) and on MKL's vendor-neutral ``COMPATIBLE`` branch (the
pin before it), against the unpinned path, on the notebooks' GEMM-bound workloads.

Settings, each in its own process: ``unpinned`` (``RBMBOOK_PIN_CPU=0``: MKL and ATen pick their fastest kernels),
``pinned, MKL COMPATIBLE`` (the pin's environment without ``rbmlib.blas``), ``pinned``
(``rbmlib.pin_cpu_arithmetic()``), and, at more than one thread, ``pinned, torch pool at 1 thread``: a route tried,
not rbmlib's: the pin with torch's own thread pool (element-wise work, reductions, convolutions) at one thread and
OpenBLAS's products at all of them, so that no sleeping OpenMP thread is woken per operation (its ``_matmul`` is
replaced here for the experiment, since ``rbmlib.blas`` gives OpenBLAS torch's thread count); and, on a CPU with
AVX-512, ``pinned at AVX-512``: a route tried, not rbmlib's: the pin with every cap raised to AVX-512 (ATen
``avx512``, oneDNN ``AVX512_CORE``, OpenBLAS's ``SkylakeX`` kernels), what a pin would cost that gave up identity
with CPUs without AVX-512 (its outputs differ from the AVX2 pin's). Workloads, one timing each per round, settings interleaved round by round:

* ``cd1``: one epoch of rbmlib's ``Trainer`` + ``CD(1)``, 784×500, the 60,000 MNIST training images, batches of 100;
* ``mlp``: one epoch of ``supervised.fit`` (SGD, momentum 0.9, batches of 100) of a 784-1000-1000-1000-10 tanh net on
  10,000 MNIST images;
* ``ais``: ``rbmlib.estimators.ais`` on the CD-1 RBM, 100 runs × 2,000 βs.

Each result's fingerprint (SHA-256 of the trained parameters or AIS's log-weights, 16 hex digits) is recorded: the
same setting must give one fingerprint in every round, and a pinned run on another CPU, Intel or AMD, the same one
(``tests/test_blas.py`` checks a stored one for a product and a short training run on every CI machine).

    RBMBOOK_DATA=/path/to/data .venv/bin/python benchmarks/openblas_route.py --threads 1 2 --rounds 3
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import default_output, paired_ratio, run_setting, shown, write_results  # noqa: E402

SETTINGS = ("unpinned", "pinned, MKL COMPATIBLE", "pinned", "pinned, torch pool at 1 thread", "pinned at AVX-512")
SPLIT, AVX512 = SETTINGS[3], SETTINGS[4]
PINNED = ("pinned", SPLIT, AVX512)  # the settings that call rbmlib.pin_cpu_arithmetic()
WORKLOADS = ("cd1", "mlp", "ais")


def fingerprint(*tensors) -> str:
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def split_thread_pools(blas_threads: int) -> None:
    """torch's pool at one thread, OpenBLAS's products at ``blas_threads`` (the experimental setting ``SPLIT``)."""
    import numpy as np
    import torch

    from rbmlib import blas

    torch.set_num_threads(1)

    def matmul(a, b, out):
        if blas._state["openblas"].get_num_threads() != blas_threads:
            blas._state["openblas"].set_num_threads(blas_threads)
        with np.errstate(all="ignore"):
            np.matmul(blas._blas_view(a), blas._blas_view(b), out=out.numpy())
        return out

    blas._matmul = matmul


def worker(threads: int, setting: str) -> dict:
    import rbmlib
    from rbmlib.reproducibility import CPU_ARITHMETIC_ENV

    if setting == "pinned, MKL COMPATIBLE":  # the pin before rbmlib.blas: its environment, products left on MKL
        os.environ.update({k: v for k, v in CPU_ARITHMETIC_ENV.items() if k != "OPENBLAS_CORETYPE"})
    if setting == AVX512:  # the pin with its caps raised, for the experiment
        from rbmlib import blas, reproducibility

        blas.CORETYPE = "SkylakeX"
        reproducibility.CPU_ARITHMETIC_ENV = dict(CPU_ARITHMETIC_ENV, ATEN_CPU_CAPABILITY="avx512",
                                                  ONEDNN_MAX_CPU_ISA="AVX512_CORE", OPENBLAS_CORETYPE="SkylakeX")
    pinned = rbmlib.pin_cpu_arithmetic() if setting in PINNED else False  # before torch and numpy load
    import torch
    from threadpoolctl import threadpool_info
    from torch import nn

    from rbmlib import supervised
    from rbmlib.data import load_mnist
    from rbmlib.estimators import ais, base_rate_biases, default_betas
    from rbmlib.portable import Tanh
    from rbmlib.samplers import CD
    from rbmlib.train import TrainConfig, Trainer

    rbmlib.seed_everything(0, threads=threads)
    if setting == SPLIT:
        split_thread_pools(threads)
    x, y = load_mnist(train=True)
    seconds, prints = {}, {}

    rbm = rbmlib.RBM(784, 500, weight_std=0.01, generator=torch.Generator().manual_seed(0))
    trainer = Trainer(rbm, TrainConfig(epochs=1, batch_size=100, learning_rate=0.05), CD(1),
                      torch.Generator().manual_seed(0))
    start = time.perf_counter()
    trainer.fit(x, progress=False)
    seconds["cd1"], prints["cd1"] = time.perf_counter() - start, fingerprint(*rbm.parameters())

    g = torch.Generator().manual_seed(0)
    # rbmlib.portable.Tanh: nn.Tanh's bits come from MKL's vector maths, chosen by CPU vendor (rbmlib.portable)
    net = nn.Sequential(nn.Linear(784, 1000), Tanh(), nn.Linear(1000, 1000), Tanh(), nn.Linear(1000, 1000), Tanh(),
                        nn.Linear(1000, 10))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight, generator=g)
            nn.init.zeros_(m.bias)
    x10, y10 = x[:10_000], y[:10_000]
    start = time.perf_counter()
    supervised.fit(supervised.cross_entropy_loss(net, x10, y10), supervised.sgd(net, 0.01, momentum=0.9), len(x10),
                   epochs=1, batch_size=100, generator=g)
    seconds["mlp"], prints["mlp"] = time.perf_counter() - start, fingerprint(*net.parameters())

    start = time.perf_counter()
    result = ais(rbm, n_runs=100, betas=default_betas(2_000), base_visible_bias=base_rate_biases(x),
                 generator=torch.Generator().manual_seed(0))
    seconds["ais"], prints["ais"] = time.perf_counter() - start, fingerprint(result.log_weights)
    blas = [{k: i.get(k) for k in ("internal_api", "architecture", "num_threads", "version")}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"threads": threads, "setting": setting, "pinned": pinned, "seconds": seconds, "fingerprints": prints,
            "log_z": result.log_z, "blas": blas, "torch_threads": torch.get_num_threads(),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path,
                        help="results JSON (default benchmarks/results/openblas_route-<cpu>-<isa>.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--setting", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or any(t < 1 for t in args.threads):
        parser.error("--rounds and --threads must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.threads[0], args.setting)))
        return

    from rbmlib.report import Table, cpu_name, cpu_vector_isa, fmt

    start, load_before = time.perf_counter(), os.getloadavg()
    avx512 = (cpu_vector_isa() or "").startswith("AVX-512")
    runs = {(t, s): [] for t in args.threads for s in SETTINGS if (s != SPLIT or t > 1) and (s != AVX512 or avx512)}
    for _ in range(args.rounds):
        for threads, setting in runs:
            runs[threads, setting].append(run_setting(__file__, threads, setting in PINNED,
                                                      "--setting", setting))
    rows = []
    for (threads, setting), results in runs.items():
        base = runs[threads, "unpinned"]
        for w in WORKLOADS:
            times = [r["seconds"][w] for r in results]
            prints = sorted({r["fingerprints"][w] for r in results})
            rows.append([w, str(threads), setting, fmt(statistics.median(times), 2),
                         fmt(paired_ratio(times, [r["seconds"][w] for r in base]), 2), ", ".join(prints)])
    rows.sort(key=lambda r: (WORKLOADS.index(r[0]), r[1], SETTINGS.index(r[2])))
    text = Table(["workload", "threads", "setting", "s (median)", "÷ unpinned (paired)",
                  "fingerprint(s) over rounds"], rows).markdown()
    output = write_results("openblas_route", argv, args.output or default_output("openblas_route"), start, [0],
                           device=cpu_name(), cpu_vector_isa=cpu_vector_isa(), load_average_before=load_before,
                           load_average_after=os.getloadavg(),
                           runs={f"threads={t} {s}": v for (t, s), v in runs.items()}, table_markdown=text)
    print(text)
    print(f"\nwritten {shown(output)}")


if __name__ == "__main__":
    main()
