"""The pinned path's matrix products: torch's CPU GEMMs computed by numpy's OpenBLAS with its kernels fixed by name.

Under ``rbmlib.pin_cpu_arithmetic()`` a CPU matrix product must give the same bits on every x86-64 machine.
MKL's vendor-neutral branch (``MKL_CBWR=COMPATIBLE``) does, at 2–5× the time of its fastest one. OpenBLAS, as
numpy's wheels build it (``DYNAMIC_ARCH``), chooses its GEMM kernel and blocking from a table per core type;
``OPENBLAS_CORETYPE=Haswell`` makes every CPU with AVX2 and FMA, Intel or AMD, use the Haswell table, whose blocking
sizes are compile-time constants (no cache-size term), so the same instructions add the same products in the same
order (the argument; identity across vendors is shown only once a pinned run on the other vendor reproduces the
stored fingerprints of ``tests/test_blas.py``). On an AMD EPYC a single product takes less time than with MKL's
fastest branch (``book/benchmarks.md``).

``route_cpu_gemms`` re-registers, with ``torch.library``, the CPU kernels of the products torch's layers, autograd
and rbmlib reach: ``aten::mm``, ``addmm``, ``addmm_`` and ``mv``. The product A·B is ``numpy.matmul`` on the
tensors' memory; ``addmm``'s β·C + α·(A·B) adds the scaled terms with torch's own element-wise kernels (capped at
AVX2 by the pin). Only float32 and float64 tensors without a conjugate or negative bit take the route; other dtypes,
other products (``bmm``, ``addmv``, ``out=`` forms, linear algebra) and convolutions stay on torch's own kernels
(MKL's ``COMPATIBLE`` branch, oneDNN capped at AVX2): pinned too, only slower. OpenBLAS runs on as many threads as
torch (``torch.get_num_threads()``), checked against OpenBLAS's own count before each product, since its sums
depend on the thread count as MKL's do.
"""
from __future__ import annotations

import os

CORETYPE = "Haswell"  # OpenBLAS's kernel table for AVX2 + FMA, the pin's vector width
_state: dict = {}  # "library": the torch.library registrations; "openblas": numpy's OpenBLAS (threadpoolctl)


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
        for name, kernel in KERNELS.items():
            library.impl(name, kernel, "CPU")
    _state["library"] = library


def _routable(*tensors) -> bool:
    """Whether OpenBLAS computes this product: float32 or float64 operands of one dtype, no conjugate or negative bit."""
    import torch

    dtype = tensors[0].dtype
    return dtype in (torch.float32, torch.float64) and all(
        t.dtype == dtype and not t.is_conj() and not t.is_neg() for t in tensors)


def _matmul(a, b, out):
    """``out`` = a·b by numpy.matmul (OpenBLAS), on as many threads as torch uses."""
    import numpy as np
    import torch

    threads = torch.get_num_threads()
    if _state["openblas"].get_num_threads() != threads:  # also after threadpoolctl or scikit-learn changed it
        _state["openblas"].set_num_threads(threads)
    with np.errstate(all="ignore"):  # inf and NaN pass through silently, as in torch's own kernels
        np.matmul(_blas_view(a), _blas_view(b), out=out.numpy())
    return out


def _blas_view(t):
    """A C- or F-contiguous array over ``t``'s memory (a copy only when neither), so that numpy calls BLAS."""
    t = t.detach()
    if not (t.is_contiguous() or (t.dim() == 2 and t.t().is_contiguous())):
        t = t.contiguous()
    return t.numpy()


def _shapes(name, a, b):
    """Raise as torch does when ``a`` and ``b`` (matrix·matrix or matrix·vector) cannot be multiplied."""
    if a.dim() != 2 or b.dim() not in (1, 2) or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied")
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: expected both matrices to have the same dtype, got {a.dtype} and {b.dtype}")


def _mm(a, b):
    """a·b for a (n×k) and b (k×m)."""
    import torch

    _shapes("mm", a, b)
    out = torch.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    return _matmul(a, b, out) if _routable(a, b) else torch.ops.aten.mm.out(a, b, out=out)


def _addmm(bias, a, b, *, beta=1, alpha=1):
    """β·bias + α·(a·b), bias broadcast to n×m; bias is ignored when β = 0 and the product when α = 0 (their NaNs
    too), as in torch."""
    import torch

    _shapes("addmm", a, b)
    shape = (a.shape[0], b.shape[1])
    if bias.dtype != a.dtype:
        raise RuntimeError(f"addmm: expected bias and matrices to have the same dtype, got {bias.dtype} and {a.dtype}")
    if torch.broadcast_shapes(bias.shape, shape) != shape:
        raise RuntimeError(f"addmm: bias of shape {tuple(bias.shape)} cannot be broadcast to {shape}")
    if not _routable(bias, a, b):
        return torch.ops.aten.addmm.out(bias, a, b, beta=beta, alpha=alpha, out=torch.empty(shape, dtype=a.dtype))
    out = _mm(a, b) if alpha != 0 else torch.zeros(shape, dtype=a.dtype)
    if alpha not in (0, 1):
        out.mul_(alpha)
    if beta != 0:
        out.add_(bias, alpha=beta)
    return out


def _addmm_(self, a, b, *, beta=1, alpha=1):
    """self ← β·self + α·(a·b), in place; self is overwritten, not scaled, when β = 0, and the product skipped when
    α = 0."""
    import torch

    _shapes("addmm_", a, b)
    if not _routable(self, a, b):
        return self.copy_(torch.ops.aten.addmm.out(self, a, b, beta=beta, alpha=alpha, out=torch.empty_like(self)))
    product = _mm(a, b) if alpha != 0 else None
    if beta == 0:
        self.zero_()
    elif beta != 1:
        self.mul_(beta)
    return self if product is None else self.add_(product, alpha=alpha)


def _mv(a, x):
    """a·x for a (n×k) and x (k)."""
    import torch

    _shapes("mv", a, x)
    out = torch.empty(a.shape[0], dtype=a.dtype)
    return _matmul(a, x, out) if _routable(a, x) else torch.ops.aten.mv.out(a, x, out=out)


KERNELS = {"mm": _mm, "addmm": _addmm, "addmm_": _addmm_, "mv": _mv}  # the aten operators routed, and their kernels
