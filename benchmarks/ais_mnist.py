"""Speed of annealed importance sampling at the paper's schedule: log Z of a 784×500 binary RBM from 100 runs ×
14,500 βs (``rbmlib.estimators.ais``; Salakhutdinov & Murray 2008, the schedule of their section 4), at each thread
count, with the notebooks' arithmetic pin and without.

The model is trained once, by the driver: one epoch of CD-1 on the MNIST training set (pixel/255, mini-batches of
100, learning rate 0.05, ``rbmlib.Trainer``, seed 0, unpinned), with the base-rate visible biases of the training
data. Every worker loads that model, so the estimates compare like with like: they differ only by the arithmetic of
the setting (same generator seed). Each (pin, threads) setting runs in its own process with its threads fixed before
any work; a setting is timed ``--repeats`` times (median reported). The results file records how far the settings' estimates
spread (``log_z_spread_between_settings``, against the narrowest ±3σ band): they differ only in arithmetic.

``--experiment openblas`` (an experiment of the benchmark, not a setting of rbmlib) adds to each unpinned setting
one whose torch products go to numpy's OpenBLAS as under the pin (``rbmlib.blas.route_cpu_gemms()``, with the pin's
``OMP_WAIT_POLICY=PASSIVE``: without it the two thread pools spin against each other: two two-thread AIS runs had not finished
after 3.5 minutes, against 38 and 44 s with it), with ATen's other kernels left at the CPU's widest vector extension: a candidate for the
library's default path. ``--experiment aten-avx2`` adds instead an unpinned setting with ATen's kernels capped at
AVX2 (``ATEN_CPU_CAPABILITY=avx2``, the pin's cap) and nothing else changed. ``--experiment update-float32`` (or
``update-float64``) adds an unpinned setting whose log-weight update runs in that precision, whatever rbmlib would
choose (``rbmlib.estimators._update_dtype``: float64 at AVX-512 on AMD), to measure what the choice buys or costs on
the CPU at hand.

    RBMBOOK_DATA=/work/shared/data .venv/bin/python benchmarks/ais_mnist.py --threads 1 2
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import default_output, run_setting, shown, write_results  # noqa: E402

N_VISIBLE, N_HIDDEN, N_RUNS, N_BETAS = 784, 500, 100, 14_500


def train_model(path: Path) -> None:
    """One CD-1 epoch on MNIST, saved with the base-rate biases to ``path``."""
    import torch

    from rbmlib.data import load_mnist
    from rbmlib.estimators import base_rate_biases
    from rbmlib.rbm import RBM
    from rbmlib.samplers import CD
    from rbmlib.train import TrainConfig, Trainer

    x_train, _ = load_mnist(train=True)
    rbm = RBM(N_VISIBLE, N_HIDDEN, weight_std=0.01, generator=torch.Generator().manual_seed(0))
    config = TrainConfig(epochs=1, batch_size=100, learning_rate=0.05, initial_momentum=0.0, final_momentum=0.0,
                         weight_decay=0.0)
    Trainer(rbm, config, CD(1), torch.Generator().manual_seed(0)).fit(x_train, progress=False)
    torch.save({"state": rbm.state_dict(), "base": base_rate_biases(x_train)}, path)


def worker(threads: int, repeats: int, model: Path, openblas: bool = False, aten_avx2: bool = False,
           update: str | None = None) -> dict:
    """Time ``repeats`` AIS estimates at ``threads`` threads in this process (``openblas``: an unpinned process's
    products routed to OpenBLAS; ``aten_avx2``: its ATen kernels capped at AVX2; ``update``: its log-weight
    update in that dtype, "float32" or "float64": the experiments of ``--experiment``)."""
    import rbmlib

    if aten_avx2:
        os.environ["ATEN_CPU_CAPABILITY"] = "avx2"  # before torch loads

    pinned = rbmlib.pin_cpu_arithmetic()  # before torch loads; a no-op under RBMBOOK_PIN_CPU=0
    if openblas and not pinned:
        from rbmlib.blas import route_cpu_gemms
        from rbmlib.reproducibility import THREAD_POOL_ENV

        for name, value in THREAD_POOL_ENV.items():  # as the pin does: torch's OpenMP threads sleep between
            os.environ.setdefault(name, value)  # operations, else they and OpenBLAS's spin against each other
        route_cpu_gemms()
    import torch

    from rbmlib import estimators
    from rbmlib.estimators import ais, default_betas
    from rbmlib.rbm import RBM

    if update is not None:
        estimators._update_dtype = lambda x: getattr(torch, update)

    torch.set_num_threads(threads)
    saved = torch.load(model)
    rbm = RBM(N_VISIBLE, N_HIDDEN)
    rbm.load_state_dict(saved["state"])
    seconds, estimates = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = ais(rbm, N_RUNS, betas=default_betas(N_BETAS), base_visible_bias=saved["base"],
                     generator=torch.Generator().manual_seed(0))
        seconds.append(time.perf_counter() - start)
        estimates.append({"log_z": result.log_z, "log_z_low": result.log_z_low, "log_z_high": result.log_z_high})
    return {"threads": threads, "pinned": pinned, "products": "OpenBLAS" if pinned or openblas else "torch's (MKL)",
            "aten_capped_at_avx2": aten_avx2, "update_dtype": str(estimators._update_dtype(torch.zeros(1))),
            "seconds": seconds, "estimates": estimates,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(), "load_average_end": os.getloadavg()}


def table(runs: list[dict]) -> str:
    from rbmlib.report import Table, fmt

    rows = []
    for run in runs:
        first = run["estimates"][0]
        rows.append([str(run["threads"]), "yes" if run["pinned"] else "no", run.get("products", "—"),
                     run.get("torch_cpu_capability", "—"), run.get("update_dtype", "—").replace("torch.", ""),
                     f"{fmt(statistics.median(run['seconds']), 1)} ({len(run['seconds'])} timing(s))",
                     f"{first['log_z']:.3f} [{first['log_z_low']:.3f}, {first['log_z_high']:.3f}]"])
    return Table(["threads", "pinned (notebook path)", "products", "ATen kernels", "update", f"s per AIS ({N_RUNS} runs × {N_BETAS:,} βs)",
                  "log Ẑ [±3σ band]"], rows).markdown()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--pin", choices=("on", "off", "both"), default="both")
    parser.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/ais_mnist-<cpu>-<isa>.json)")
    parser.add_argument("--experiment", "--gemm-route", dest="experiment", choices=("none", "openblas", "aten-avx2",
                                                                               "update-float32", "update-float64"),
                        default="none", help="also time each unpinned setting with its products on OpenBLAS, with "
                                             "ATen capped at AVX2, or with the update in float32 or float64 (--gemm-route: the "
                                             "flag's first name)")
    parser.add_argument("--aten-avx2", action="store_true", help=argparse.SUPPRESS)  # a worker's experiment
    parser.add_argument("--openblas", action="store_true", help=argparse.SUPPRESS)  # a worker's experimental route
    parser.add_argument("--update", choices=("float32", "float64"), help=argparse.SUPPRESS)  # a worker's experiment
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)  # a worker's model file
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or any(t < 1 for t in args.threads):
        parser.error("--repeats and --threads must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.threads[0], args.repeats, args.model, args.openblas, args.aten_avx2,
                                args.update)))
        return

    from rbmlib.report import cpu_name

    start, load_before, runs = time.perf_counter(), os.getloadavg(), []
    with tempfile.TemporaryDirectory() as scratch:
        model = Path(scratch) / "rbm.pt"
        train_model(model)
        for pinned in {"on": [True], "off": [False], "both": [True, False]}[args.pin]:
            for threads in args.threads:
                print(f"running threads={threads} pinned={pinned} ...", file=sys.stderr, flush=True)
                runs.append(run_setting(__file__, threads, pinned, "--repeats", str(args.repeats), "--model",
                                        str(model)))
                if args.experiment != "none" and not pinned:
                    print(f"running threads={threads} unpinned, {args.experiment} ...", file=sys.stderr, flush=True)
                    flags = (["--update", args.experiment.split("-")[1]] if args.experiment.startswith("update-")
                             else ["--" + args.experiment])
                    runs.append(run_setting(__file__, threads, pinned, "--repeats", str(args.repeats), "--model",
                                            str(model), *flags))
    log_z = [run["estimates"][0]["log_z"] for run in runs]
    spread = max(log_z) - min(log_z)  # the settings differ only in arithmetic: a spread far inside the band
    band = min(run["estimates"][0]["log_z_high"] - run["estimates"][0]["log_z_low"] for run in runs)
    text = table(runs)
    output = write_results("ais_mnist", argv, args.output or default_output("ais_mnist"), start, [0],
                           device=cpu_name(), load_average_before=load_before, load_average_after=os.getloadavg(),
                           runs=runs, log_z_spread_between_settings=spread, narrowest_band=band,
                           table_markdown=text)
    print(text)
    print(f"\nlog Ẑ spans {spread:.2g} nats over the settings (narrowest ±3σ band {band:.3f} nats wide); "
          f"written {shown(output)}")


if __name__ == "__main__":
    main()
