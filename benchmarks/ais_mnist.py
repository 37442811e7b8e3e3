"""Speed of annealed importance sampling at the paper's schedule: log Z of a 784×500 binary RBM from 100 runs ×
14,500 βs (``rbmlib.estimators.ais``; Salakhutdinov & Murray 2008, the schedule of their section 4), at each thread
count, with the notebooks' arithmetic pin and without.

The model is trained once, by the driver: one epoch of CD-1 on the MNIST training set (pixel/255, mini-batches of
100, learning rate 0.05, ``rbmlib.Trainer``, seed 0, unpinned), with the base-rate visible biases of the training
data. Every worker loads that model, so the estimates compare like with like: they differ only by the arithmetic of
the setting (same generator seed). Each (pin, threads) setting runs in its own process with its threads fixed before
any work; a setting is timed ``--repeats`` times (median reported).

    RBMBOOK_DATA=/work/shared/data .venv/bin/python benchmarks/ais_mnist.py --threads 1 2
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAUNCH_ENV = dict(os.environ)
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = Path(__file__).resolve().parent / "results"
N_VISIBLE, N_HIDDEN, N_RUNS, N_BETAS = 784, 500, 100, 14_500
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


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


def worker(threads: int, repeats: int, model: Path) -> dict:
    """Time ``repeats`` AIS estimates at ``threads`` threads in this process."""
    import rbmlib

    pinned = rbmlib.pin_cpu_arithmetic()  # before torch loads; a no-op under RBMBOOK_PIN_CPU=0
    import torch

    from rbmlib.estimators import ais
    from rbmlib.rbm import RBM

    torch.set_num_threads(threads)
    saved = torch.load(model)
    rbm = RBM(N_VISIBLE, N_HIDDEN)
    rbm.load_state_dict(saved["state"])
    seconds, estimates = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = ais(rbm, N_RUNS, base_visible_bias=saved["base"], generator=torch.Generator().manual_seed(0))
        seconds.append(time.perf_counter() - start)
        estimates.append([result.log_z, result.log_z_low, result.log_z_high])
    return {"threads": threads, "pinned": pinned, "seconds": seconds, "log_z_low_high": estimates,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(), "load_average_end": os.getloadavg()}


def table(runs: list[dict]) -> str:
    from rbmlib.report import Table, fmt

    rows = []
    for run in runs:
        log_z, low, high = run["log_z_low_high"][0]
        rows.append([str(run["threads"]), "yes" if run["pinned"] else "no",
                     f"{fmt(statistics.median(run['seconds']), 1)} ({len(run['seconds'])} run(s))",
                     f"{log_z:.3f} [{low:.3f}, {high:.3f}]"])
    return Table(["threads", "pinned (notebook path)", f"s per AIS ({N_RUNS} runs × {N_BETAS:,} βs)",
                  "log Ẑ [±3σ band]"], rows).markdown()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--pin", choices=("on", "off", "both"), default="both")
    parser.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/ais_mnist-<cpu>.json)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or any(t < 1 for t in args.threads):
        parser.error("--repeats and --threads must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.threads[0], args.repeats, args.worker)))
        return

    from benchmarks.cd1_mnist import slug
    from rbmlib.report import cpu_name, provenance

    output = args.output or RESULTS / f"ais_mnist-{slug(cpu_name())}.json"
    start, load_before, runs = time.perf_counter(), os.getloadavg(), []
    with tempfile.TemporaryDirectory() as scratch:
        model = Path(scratch) / "rbm.pt"
        train_model(model)
        for pinned in {"on": [True], "off": [False], "both": [True, False]}[args.pin]:
            for threads in args.threads:
                print(f"running threads={threads} pinned={pinned} ...", file=sys.stderr, flush=True)
                env = dict(LAUNCH_ENV, RBMBOOK_PIN_CPU="1" if pinned else "0",
                           **{k: str(threads) for k in THREAD_ENV})
                done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--threads", str(threads),
                                       "--repeats", str(args.repeats), "--worker", str(model)],
                                      env=env, cwd=REPO, capture_output=True, text=True)
                if done.returncode != 0:
                    raise RuntimeError(f"worker (threads={threads}, pinned={pinned}) failed:\n{done.stderr}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    text = table(runs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "ais_mnist", "command": " ".join(["benchmarks/ais_mnist.py"] + (argv or sys.argv[1:])),
        "device": cpu_name(), "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "runs": runs, "table_markdown": text, "provenance": provenance(seeds=[0], wall_time_s=time.perf_counter() - start),
    }, indent=2) + "\n")
    print(text)
    print(f"\nwritten {output.relative_to(REPO) if output.is_relative_to(REPO) else output}")


if __name__ == "__main__":
    main()
