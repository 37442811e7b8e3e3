"""Routes to a deterministic CD-1 GEMM: CD-1's three product shapes through MKL (``torch.mm``), oneDNN (the same
product as a 1×1 convolution, ``conv2d``) and numpy's OpenBLAS (``numpy.matmul``), under the pin's environment
(``rbmlib.reproducibility.CPU_ARITHMETIC_ENV``: MKL ``COMPATIBLE``, oneDNN capped at AVX2, OpenBLAS's Haswell kernels,
each vendor-neutral; ``torch.mm`` is left on MKL here, not routed as ``rbmlib.blas`` routes it) and without it, at
each thread count.

The question (issue 24): is there a GEMM whose kernels are fixed by an ISA cap rather than by the CPU's vendor and
that is faster than MKL's ``COMPATIBLE`` branch? The shapes: v (100×784) @ W (784×500), h (100×500) @ Wᵀ, and
vᵀ (784×100) @ h (100×500). Each (pin, threads) setting runs in its own process; a product is timed as the mean of
300 calls after a warm-up (for vᵀ @ h the conv route includes the two transposing copies it needs; the OpenBLAS
route writes into a preallocated array, as ``rbmlib.blas`` does into a new tensor). Each product's result is
fingerprinted (SHA-256 of its bits, 12 hex digits), so that routes and settings that compute the same bits show it:
unpinned, OpenBLAS runs the kernels it picks for the CPU (its SkylakeX table on an AVX-512 Xeon), so the pinned and
unpinned OpenBLAS columns compare its Haswell (AVX2) kernels with those.

    .venv/bin/python benchmarks/gemm_routes.py --threads 1 2
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import default_output, run_setting, shown  # noqa: E402
CALLS = 300


def worker(threads: int) -> dict:
    """Milliseconds per product for each shape and route, in this process."""
    from rbmlib.reproducibility import CPU_ARITHMETIC_ENV

    pinned = os.environ.get("RBMBOOK_PIN_CPU", "1") != "0"
    if pinned:  # the pin's environment, before torch and numpy load; torch.mm stays on MKL (no rbmlib.blas)
        os.environ.update(CPU_ARITHMETIC_ENV)
    import numpy as np
    import torch
    from torch.nn.functional import conv2d

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    v, h, W = torch.rand(100, 784, generator=g), torch.rand(100, 500, generator=g), torch.rand(784, 500, generator=g)
    W_out, W_in = W.t().contiguous().view(500, 784, 1, 1), W.contiguous().view(784, 500, 1, 1)
    vn, hn, Wn = v.numpy(), h.numpy(), W.numpy()
    out_h, out_v, out_W = np.empty((100, 500), np.float32), np.empty((100, 784), np.float32), np.empty_like(Wn)
    products = {
        "v @ W": {"MKL (torch.mm)": lambda: torch.mm(v, W),
                  "oneDNN (1×1 conv2d)": lambda: conv2d(v.view(100, 784, 1, 1), W_out),
                  "OpenBLAS (numpy.matmul)": lambda: np.matmul(vn, Wn, out=out_h)},
        "h @ Wᵀ": {"MKL (torch.mm)": lambda: torch.mm(h, W.t()),
                   "oneDNN (1×1 conv2d)": lambda: conv2d(h.view(100, 500, 1, 1), W_in),
                   "OpenBLAS (numpy.matmul)": lambda: np.matmul(hn, Wn.T, out=out_v)},
        "vᵀ @ h": {"MKL (torch.mm)": lambda: torch.mm(v.t(), h),
                   "oneDNN (1×1 conv2d)": lambda: conv2d(v.t().contiguous().view(784, 100, 1, 1),
                                                         h.t().contiguous().view(500, 100, 1, 1)),
                   "OpenBLAS (numpy.matmul)": lambda: np.matmul(vn.T, hn, out=out_W)},
    }
    ms, bits = {}, {}
    for shape, routes in products.items():
        for route, product in routes.items():
            result = product()
            bits[f"{shape}: {route}"] = hashlib.sha256(np.asarray(result).tobytes()).hexdigest()[:12]
            start = time.perf_counter()
            for _ in range(CALLS):
                product()
            ms[f"{shape}: {route}"] = (time.perf_counter() - start) / CALLS * 1e3
    from rbmlib.blas import openblas_coretype

    return {"threads": threads, "pinned": pinned, "ms": ms, "fingerprints": bits, "openblas_coretype": openblas_coretype(),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/gemm_routes-<cpu>-<isa>.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(t < 1 for t in args.threads):
        parser.error("--threads must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.threads[0])))
        return

    from rbmlib.report import Table, cpu_name, fmt, provenance

    start, load_before, runs = time.perf_counter(), os.getloadavg(), []
    for pinned in (True, False):
        for threads in args.threads:
            result = run_setting(__file__, threads, pinned)
            runs.append(result)
    keys = list(runs[0]["ms"])
    text = Table(["product: route", *(f"{r['threads']} thread(s), {'pinned' if r['pinned'] else 'unpinned'}"
                                       for r in runs)],
                 [[key, *(fmt(r["ms"][key], 3) for r in runs)] for key in keys]).markdown()
    kernels = Table(["product: route", *(f"{r['threads']} thread(s), {'pinned' if r['pinned'] else 'unpinned'}"
                                         f" ({r['openblas_coretype']})" for r in runs)],
                    [[key, *(r["fingerprints"][key] for r in runs)] for key in keys]).markdown()
    output = args.output or default_output("gemm_routes")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "gemm_routes", "command": " ".join(["benchmarks/gemm_routes.py"] + (argv or sys.argv[1:])),
        "device": cpu_name(), "unit": "ms per product", "load_average_before": load_before,
        "load_average_after": os.getloadavg(), "runs": runs, "table_markdown": text,
        "fingerprints_markdown": kernels,
        "provenance": provenance(seeds=[0], wall_time_s=time.perf_counter() - start)}, indent=2) + "\n")
    print(text)
    print(f"\nResult bits (SHA-256, 12 hex digits; the header names OpenBLAS's kernel table):\n\n{kernels}")
    print(f"\nwritten {shown(output)}")


if __name__ == "__main__":
    main()
