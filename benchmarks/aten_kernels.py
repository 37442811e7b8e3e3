"""ATen's element-wise kernels at each vector width (issue 24, target 4): one pass over 100×500 float32 or float64
values at one thread, in a process with ATen at the CPU's widest vector extension and in one capped at AVX2
(``ATEN_CPU_CAPABILITY=avx2``, the notebooks' pin's cap), medians of ``--rounds`` blocks of ``--block`` calls.

It locates what made AIS 1.24–1.5× slower without the cap on an AVX-512 EPYC (book/benchmarks.md): the operations
AIS and the estimators call (``log1p``, ``expm1``, ``logaddexp``, ``softplus``) beside others for reference, in both
precisions: the float64 rows are why ``rbmlib.estimators`` runs AIS's binary update in float64 at AVX-512.

    .venv/bin/python benchmarks/aten_kernels.py --rounds 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import LAUNCH_ENV, REPO, THREAD_ENV, default_output, shown, write_results  # noqa: E402

OPERATIONS = ("exp", "exp2", "log", "log1p", "expm1", "logaddexp", "softplus", "sigmoid", "tanh", "rsqrt")
DTYPES = ("float32", "float64")


def worker(rounds: int, block: int) -> dict:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    calls = {"exp": torch.exp, "exp2": torch.exp2, "log": torch.log, "log1p": torch.log1p, "expm1": torch.expm1,
             "logaddexp": lambda t: torch.logaddexp(t, t), "softplus": F.softplus, "sigmoid": torch.sigmoid,
             "tanh": torch.tanh, "rsqrt": torch.rsqrt}
    times = {dtype: {name: [] for name in OPERATIONS} for dtype in DTYPES}
    for dtype in DTYPES:
        x = torch.rand(100, 500, generator=torch.Generator().manual_seed(0), dtype=getattr(torch, dtype)) * 0.1
        for name in OPERATIONS:
            calls[name](x)  # warm-up
        for _ in range(rounds):
            for name in OPERATIONS:
                start = time.perf_counter()
                for _ in range(block):
                    calls[name](x)
                times[dtype][name].append(1e6 * (time.perf_counter() - start) / block)
    return {"aten_capability": torch.backends.cpu.get_cpu_capability(), "microseconds_per_call": times}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=200)
    parser.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/aten_kernels-<cpu>.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.block < 1:
        parser.error("--rounds and --block must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.rounds, args.block)))
        return

    from rbmlib.report import Table

    start, load_before, runs = time.perf_counter(), os.getloadavg(), []
    for cap in (None, "avx2"):
        env = {k: v for k, v in LAUNCH_ENV.items() if k != "ATEN_CPU_CAPABILITY"}
        env.update({k: "1" for k in THREAD_ENV}, **({"ATEN_CPU_CAPABILITY": cap} if cap else {}))
        done = subprocess.run([sys.executable, __file__, "--worker", "--rounds", str(args.rounds), "--block",
                               str(args.block)], env=env, cwd=REPO, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    medians = [{dtype: {name: statistics.median(t) for name, t in per_op.items()}
                for dtype, per_op in run["microseconds_per_call"].items()} for run in runs]
    text = Table(["operation", "dtype", *(f"µs at {run['aten_capability']}" for run in runs), "widest ÷ AVX2"],
                 [[name, dtype, *(f"{m[dtype][name]:.1f}" for m in medians),
                   f"{medians[0][dtype][name] / medians[1][dtype][name]:.2f}"]
                  for name in OPERATIONS for dtype in DTYPES]).markdown()
    output = write_results("aten_kernels", argv, args.output or default_output("aten_kernels"), start, [0],
                           load_average_before=load_before, load_average_after=os.getloadavg(), runs=runs,
                           table_markdown=text)
    print(text)
    print(f"\nwritten {shown(output)}")


if __name__ == "__main__":
    main()
