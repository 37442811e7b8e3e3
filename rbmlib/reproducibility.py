"""One place that fixes what a checked notebook output depends on: seeds, threads and the CPU arithmetic path.

PyTorch on CPU is bit-identical run to run for the same machine, thread count and instruction set. Two knobs
matter across machines of one kind: the thread count (reduction order) and the kernels MKL/oneDNN/ATen pick for
the CPU. ``pin_cpu_arithmetic`` fixes the second to AVX2 (every x86-64 machine of the project's kind has it); it
must run before ``torch`` is imported, which is why ``import rbmlib`` calls it first.
"""
from __future__ import annotations

import os
import random
import sys
import warnings

# Environment knobs read once, when torch loads its CPU libraries (FastSurfer PR#892 pins all three).
CPU_ARITHMETIC_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "AVX2",
}


def pin_cpu_arithmetic() -> bool:
    """Set the CPU-arithmetic variables (unless the user set them) before torch loads; return True if in time.

    Set ``RBMBOOK_PIN_CPU=0`` to leave the CPU libraries free to pick their fastest kernels (benchmarks do).
    """
    if os.environ.get("RBMBOOK_PIN_CPU", "1") == "0":
        return False
    if "torch" in sys.modules:
        if any(os.environ.get(k) != v for k, v in CPU_ARITHMETIC_ENV.items()):
            warnings.warn(
                "torch was imported before rbmlib, so the CPU arithmetic path is not pinned; checked notebook "
                "outputs may differ on another CPU. Import rbmlib first.",
                stacklevel=3,
            )
        return False
    for key, value in CPU_ARITHMETIC_ENV.items():
        os.environ.setdefault(key, value)
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
