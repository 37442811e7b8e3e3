"""What the benchmark scripts share: one process per (pin, threads) setting, paired ratios, results files named
after the device."""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

LAUNCH_ENV = dict(os.environ)  # the environment as launched: each setting's process starts from it
REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def run_setting(script: str | Path, threads: int, pinned: bool, *args: str) -> dict:
    """Run ``script --worker --threads T *args`` in a fresh process with the arithmetic pin on or off
    (``RBMBOOK_PIN_CPU``) and ``T`` threads in every thread pool; return the JSON of its last line of output."""
    env = dict(LAUNCH_ENV, RBMBOOK_PIN_CPU="1" if pinned else "0", **{k: str(threads) for k in THREAD_ENV})
    command = [sys.executable, str(Path(script).resolve()), "--worker", "--threads", str(threads), *args]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(script).name} (threads={threads}, pinned={pinned}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median over rounds of numerator_i / denominator_i: both timings of a round ran seconds apart, so a slow drift
    of the machine's speed cancels in each ratio (steadier on a noisy VM than a ratio of medians)."""
    return statistics.median(a / b for a, b in zip(numerators, denominators))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def default_output(benchmark: str, device: str | None = None) -> Path:
    """``benchmarks/results/<benchmark>-<device>[-<vector extension>].json``: the device is the CPU's name unless
    given (a GPU's); a CPU's vector extension is added because two CPUs of one name ("AMD EPYC") may differ in it
    and in speed. Files written before 2026-12-02 carry the name alone."""
    from rbmlib.report import cpu_name, cpu_vector_isa

    if device is not None and device != cpu_name():
        return RESULTS / f"{benchmark}-{slug(device)}.json"
    return RESULTS / f"{benchmark}-{slug(cpu_name())}-{slug(cpu_vector_isa() or 'unknown')}.json"


def shown(path: Path) -> Path:
    """``path`` relative to the checkout where it lies inside it."""
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def write_results(benchmark: str, argv: list[str] | None, output: Path, start: float, seeds: list[int],
                  **fields) -> Path:
    """Write a benchmark's results file: its name, the command that ran it, ``fields``, and provenance (commit,
    versions, device, threads, the wall time since ``start``, a ``time.perf_counter()`` reading)."""
    import time

    from rbmlib.report import provenance

    command = " ".join([f"benchmarks/{benchmark}.py"] + (sys.argv[1:] if argv is None else argv))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"benchmark": benchmark, "command": command, **fields,
                                  "provenance": provenance(seeds=seeds, wall_time_s=time.perf_counter() - start)},
                                 indent=2) + "\n")
    return output

