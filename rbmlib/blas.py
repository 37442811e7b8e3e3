"""The pinned path's matrix products: torch's CPU GEMMs computed by numpy's OpenBLAS with its kernels fixed by name.

Under ``rbmlib.pin_cpu_arithmetic()`` a CPU matrix product must give the same bits on every x86-64 machine.
MKL's vendor-neutral branch (``MKL_CBWR=COMPATIBLE``) does, at 2–5× the time of its fastest one. OpenBLAS, as
numpy's wheels build it (``DYNAMIC_ARCH``), chooses its GEMM kernel and blocking from a table per core type;
``OPENBLAS_CORETYPE=Haswell`` makes every CPU with AVX2 and FMA, Intel or AMD, use the Haswell table, whose blocking
sizes are compile-time constants (no cache-size term), so the same instructions add the same products in the same
order. On an AMD EPYC it is also faster than MKL's fastest branch (``book/benchmarks.md``).

``route_cpu_gemms`` re-registers, with ``torch.library``, the CPU kernels of the products torch's layers, autograd
and rbmlib reach: ``aten::mm``, ``addmm``, ``addmm_`` and ``mv``. The product A·B is ``numpy.matmul`` on the
tensors' memory; ``addmm``'s β·C + α·(A·B) adds the scaled terms with torch's own element-wise kernels (capped at
AVX2 by the pin). Other products (``bmm``, ``addmv``, ``out=`` forms, linear algebra) stay on MKL's
``COMPATIBLE`` branch: pinned too, only slower. OpenBLAS runs on as many threads as torch
(``torch.get_num_threads()``), set before each product, since its sums depend on the thread count as MKL's do.
"""
from __future__ import annotations

import os

CORETYPE = "Haswell"  # OpenBLAS's kernel table for AVX2 + FMA, the pin's vector width
ROUTED = ("mm", "addmm", "addmm_", "mv")
_state: dict = {}  # "library": the torch.library registrations, "openblas": numpy's OpenBLAS controller, "threads"


def openblas_coretype() -> str | None:
    """The core type numpy's OpenBLAS runs its kernels for (``"Haswell"``, ``"SkylakeX"``, ...), None without it."""
    from threadpoolctl import threadpool_info

    return next((info.get("architecture") for info in threadpool_info() if info.get("internal_api") == "openblas"
                 and "numpy" in info.get("filepath", "")), None)


def routed() -> bool:
    """Whether torch's CPU products go through OpenBLAS (``route_cpu_gemms`` ran in this process)."""
    return "library" in _state


def route_cpu_gemms() -> None:
    """Send torch's CPU ``mm``, ``addmm``, ``addmm_`` and ``mv`` to numpy's OpenBLAS (see the module docstring).

    Needs ``OPENBLAS_CORETYPE=Haswell`` in the environment before numpy loads; raises ``RuntimeError`` when numpy's
    OpenBLAS runs other kernels (numpy loaded first without it). Idempotent.
    """
    if routed():
        return
    if os.environ.get("OPENBLAS_CORETYPE") != CORETYPE:
        raise RuntimeError(f"set OPENBLAS_CORETYPE={CORETYPE} before numpy loads (rbmlib.pin_cpu_arithmetic() does)")
    import warnings

    import numpy  # noqa: F401  (loads OpenBLAS under the core type set above)
    import torch
    from threadpoolctl import ThreadpoolController

    if (found := openblas_coretype()) != CORETYPE:
        raise RuntimeError(f"numpy's OpenBLAS runs {found} kernels, not {CORETYPE}: numpy was loaded before "
                           f"OPENBLAS_CORETYPE was set. Call rbmlib.pin_cpu_arithmetic() first, in a fresh process.")
    _state["openblas"] = next(c for c in ThreadpoolController().select(internal_api="openblas").lib_controllers
                              if "numpy" in c.filepath)
    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel": that is the point
        for name in ROUTED:
            library.impl(name, globals()[f"_{name}"], "CPU")
    _state["library"] = library


def _matmul(a, b, out):
    """``out`` = a·b by numpy.matmul (OpenBLAS) on as many threads as torch uses; half and bfloat16 via float32."""
    import numpy as np
    import torch

    threads = torch.get_num_threads()
    if _state.get("threads") != threads:
        _state["openblas"].set_num_threads(threads)
        _state["threads"] = threads
    if out.dtype in (torch.float16, torch.bfloat16):
        out.copy_(_matmul(a.float(), b.float(), torch.empty(out.shape)))
        return out
    with np.errstate(all="ignore"):  # inf and NaN pass through silently, as in torch's own kernels
        np.matmul(_blas_view(a), _blas_view(b), out=out.numpy())
    return out


def _blas_view(t):
    """A C- or F-contiguous array over ``t``'s memory (a copy only when neither), so that numpy calls BLAS."""
    t = t.detach()
    if t.dim() == 2 and not (t.is_contiguous() or t.t().is_contiguous()):
        t = t.contiguous()
    elif t.dim() == 1 and not t.is_contiguous():
        t = t.contiguous()
    return t.numpy()


def _check(a, b, name):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: expected both matrices to have the same dtype, got {a.dtype} and {b.dtype}")


def _mm(a, b):
    import torch

    _check(a, b, "mm")
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied")
    return _matmul(a, b, torch.empty((a.shape[0], b.shape[1]), dtype=a.dtype))


def _addmm(bias, a, b, *, beta=1, alpha=1):
    """β·bias + α·(a·b), bias broadcast; bias is ignored when β = 0 (its NaNs too), as in torch."""
    out = _mm(a, b)
    if alpha != 1:
        out.mul_(alpha)
    if beta != 0:
        out.add_(bias, alpha=beta)
    return out


def _addmm_(self, a, b, *, beta=1, alpha=1):
    """self ← β·self + α·(a·b), in place; self is overwritten, not scaled, when β = 0."""
    product = _mm(a, b)
    if beta == 0:
        self.zero_()
    elif beta != 1:
        self.mul_(beta)
    return self.add_(product, alpha=alpha)


def _mv(a, x):
    import torch

    _check(a, x, "mv")
    if a.dim() != 2 or x.dim() != 1 or a.shape[1] != x.shape[0]:
        raise RuntimeError(f"mv: shapes {tuple(a.shape)} and {tuple(x.shape)} cannot be multiplied")
    return _matmul(a, x, torch.empty(a.shape[0], dtype=a.dtype))
