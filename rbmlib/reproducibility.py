"""One place that fixes what a checked notebook output depends on: seeds, threads and the CPU arithmetic path.

PyTorch on CPU is bit-identical run to run for the same machine, thread count and instruction set. Across the
x86-64 machines the book runs on (Intel Xeon and AMD EPYC alike) two more knobs matter: the thread count (reduction
order) and the kernels that ATen, oneDNN and the BLAS pick for the CPU. ``pin_cpu_arithmetic`` fixes the second:
ATen's and oneDNN's vector kernels capped at AVX2, and torch's matrix products (``mm``, ``addmm``, ``mv``: every
layer, its gradients and rbmlib's samplers) computed by numpy's OpenBLAS with its Haswell (AVX2 + FMA) kernels on
every CPU (``rbmlib.blas``). The products it does not route stay on MKL, held in its vendor-neutral ``COMPATIBLE``
branch (MKL's own ``MKL_CBWR=AVX2`` holds on Intel CPUs only: on AMD it falls back to ``AUTO``, which was measured
to change the notebooks' checked digits; FastSurfer PR#892 found the same and the same fix). The pinned path is
about as fast as the unpinned one on an AMD EPYC (MKL's ``COMPATIBLE`` GEMMs, the route before ``rbmlib.blas``,
took 2–5× as long), but it is not torch's default, so the library leaves it to the caller: the notebooks and tests
call it, a user training for speed need not.

The pin does not reach MKL's vector maths (``torch.sqrt``, ``exp``, ``log``, ``tanh``, ...): code whose bits must
hold across vendors computes those through ``rbmlib.portable`` instead, as rbmlib's units, estimators and DAEs do.
"""
from __future__ import annotations

import os
import random
import sys
import warnings

from .blas import CORETYPE

# Environment knobs read once, when torch and numpy load their CPU libraries.
CPU_ARITHMETIC_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
    "OPENBLAS_CORETYPE": CORETYPE,
}
# Set unless the caller set them: torch's OpenMP threads sleep between parallel regions instead of spinning, which
# left no core to OpenBLAS's threads (two-thread CD-1 epochs ran ~20× slower with both pools spinning).
THREAD_POOL_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


def cpu_arithmetic_pinned() -> bool:
    """Whether the CPU arithmetic path is pinned in this process: the environment holds ``CPU_ARITHMETIC_ENV`` and
    torch's matrix products go through ``rbmlib.blas``."""
    from . import blas

    return all(os.environ.get(k) == v for k, v in CPU_ARITHMETIC_ENV.items()) and blas.routed()


def pin_cpu_arithmetic() -> bool:
    """Pin the CPU arithmetic path (``CPU_ARITHMETIC_ENV``, then ``rbmlib.blas.route_cpu_gemms``); return True if
    it is in force.

    Call it before anything imports torch or numpy (``import rbmlib`` alone does not); it loads both itself, under
    the pin. Warns, and returns False, when either was imported first without the pin's environment.
    ``RBMBOOK_PIN_CPU=0`` turns it into a no-op: full speed, outputs no longer bit-identical to the stored ones.
    """
    from . import blas

    if os.environ.get("RBMBOOK_PIN_CPU", "1") == "0":
        return False
    environment_pinned = all(os.environ.get(k) == v for k, v in CPU_ARITHMETIC_ENV.items())
    loaded = [name for name in ("torch", "numpy") if name in sys.modules]
    if loaded and not environment_pinned:
        warnings.warn(
            f"{' and '.join(loaded)} {'were' if len(loaded) > 1 else 'was'} imported before "
            "rbmlib.pin_cpu_arithmetic(), so the CPU arithmetic path is "
            "not pinned; results may differ in the last bits (and, after training, in the checked digits) on another "
            "CPU. Call it first, in a fresh process.",
            stacklevel=2,
        )
        return False
    os.environ.update(CPU_ARITHMETIC_ENV)
    for key, value in THREAD_POOL_ENV.items():
        os.environ.setdefault(key, value)
    blas.route_cpu_gemms()
    return True


def seed_everything(seed: int, threads: int | None = 1):
    """Seed Python, NumPy and torch, fix torch's intra-op thread count, flush subnormal floats to zero, and return a
    seeded ``torch.Generator``.

    ``threads=1`` (the default) makes results identical whatever the machine's core count; ``None`` leaves
    torch's thread count alone.
    """
    import numpy as np
    import torch

    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    # NReLU means underflow into subnormal floats, which make CPU matrix products ~4x slower: flush them to zero
    torch.set_flush_denormal(True)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
