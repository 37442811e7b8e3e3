"""One place that fixes what a checked notebook output depends on: seeds, threads and the CPU arithmetic path.

PyTorch on CPU is bit-identical run to run for the same machine, thread count and instruction set. Across the
x86-64 machines the book runs on (Intel Xeon and AMD EPYC alike) two more knobs matter: the thread count (reduction
order) and the kernels that ATen, oneDNN and MKL pick for the CPU. ``pin_cpu_arithmetic`` fixes the second: ATen's
and oneDNN's vector kernels capped at AVX2, and MKL in its vendor-neutral ``COMPATIBLE`` branch (MKL's own
``MKL_CBWR=AVX2`` holds on Intel CPUs only: on AMD it falls back to ``AUTO``, which was measured to change the
notebooks' checked digits; FastSurfer PR#892 found the same and the same fix). The price is speed: MKL's GEMMs run
~2.4× slower (0.82 → 2.0 ms for a 100×784 by 784×500 product on one AMD EPYC thread), so the library leaves this to
the caller: the notebooks and tests call it, a user training for speed does not.

The pin does not reach MKL's vector maths (``torch.sqrt``, ``exp``, ``log``, ``tanh``, ...): code whose bits must
hold across vendors computes those through ``rbmlib.portable`` instead, as rbmlib's units, estimators and DAEs do.
"""
from __future__ import annotations

import os
import random
import sys
import warnings

# Environment knobs read once, when torch loads its CPU libraries.
CPU_ARITHMETIC_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
}


def cpu_arithmetic_pinned() -> bool:
    """Whether the environment holds the pinned CPU arithmetic path (``CPU_ARITHMETIC_ENV``)."""
    return all(os.environ.get(k) == v for k, v in CPU_ARITHMETIC_ENV.items())


def pin_cpu_arithmetic() -> bool:
    """Pin the CPU arithmetic path (``CPU_ARITHMETIC_ENV``) before torch loads; return True if it is in force.

    Call it before anything imports torch (``import rbmlib`` alone does not). Warns, and returns False, when torch
    was imported first without the pin. ``RBMBOOK_PIN_CPU=0`` turns it into a no-op: full speed, outputs no longer
    bit-identical to the stored ones.
    """
    if os.environ.get("RBMBOOK_PIN_CPU", "1") == "0":
        return False
    pinned = cpu_arithmetic_pinned()
    if "torch" in sys.modules:
        if not pinned:
            warnings.warn(
                "torch was imported before rbmlib.pin_cpu_arithmetic(), so the CPU arithmetic path is not pinned; "
                "results may differ in the last bits (and, after training, in the checked digits) on another CPU. "
                "Call it first, in a fresh process.",
                stacklevel=2,
            )
        return pinned
    for key, value in CPU_ARITHMETIC_ENV.items():
        os.environ[key] = value
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
