"""Elementwise maths whose bits do not depend on the CPU vendor: √x, eˣ, log x, log Σ eˣ, tanh x and the normal CDF.

On CPU, PyTorch computes ``sqrt``, ``exp``, ``log``, ``tanh``, ``erf`` (so ``special.ndtr``), ``logsumexp`` and a
few more (``VML_OPS``) through MKL's vector maths, VML, which chooses its kernel for the CPU it runs on: their bits
change with ``MKL_CBWR`` (float32 ``sqrt`` is not even correctly rounded on the ``COMPATIBLE`` branch), and with
every other kernel pinned (``rbmlib.reproducibility``) two chapters that called them (through Adam's default
update and NReLU units) printed different checked digits on an Intel Xeon and an AMD EPYC. The functions below
compute the same quantities with ATen's own kernels (IEEE ``rsqrt`` and division, ``exp2``, ``log1p``, ``frexp``,
``sigmoid``, ``erfcx``), which ``ATEN_CPU_CAPABILITY=avx2`` fixes on every x86-64 CPU. For Adam, use PyTorch's
``torch.optim.Adam(..., fused=True)``. ``audit()`` counts the calls a block makes to ``VML_OPS``; the unit suite
runs every chapter inside it.
"""
from __future__ import annotations

import collections
import contextlib
import math

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

# ATen operators computed by MKL VML on CPU, as the dispatcher sees them (measured: their float32 bits change with
# MKL_CBWR; pow only for the exponent 0.5, which ATen sends to sqrt; torch.special.ndtr reaches erf; the non-fused
# Adam step calls sqrt).
VML_OPS = frozenset({"sqrt", "exp", "log", "log2", "log10", "tanh", "tan", "erf", "erfc", "erfinv", "atan", "asin",
                     "acos", "logsumexp", "logit"})


class _Audit(TorchDispatchMode):
    def __init__(self, calls: collections.Counter):
        super().__init__()
        self.calls = calls

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__.rstrip("_")
        if name in VML_OPS or (name == "pow" and len(args) > 1 and args[1] == 0.5):
            self.calls[name] += 1
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def audit():
    """``with audit() as calls:`` counts, by name, the ``VML_OPS`` calls that reach PyTorch's dispatcher in the block
    (autograd's backward included; an operator that calls one inside its own kernel is itself in ``VML_OPS``)."""
    calls = collections.Counter()
    with _Audit(calls):
        yield calls


_LN_2 = math.log(2.0)
_LOG2_E = 1.0 / _LN_2
_SQRT_HALF = math.sqrt(0.5)


def sqrt(x: torch.Tensor) -> torch.Tensor:
    """√x as 1 / (1 / √x) (ATen's ``rsqrt``, then ``reciprocal``): within 1.5 units in the last place, √0 = 0."""
    return x.rsqrt().reciprocal()


def exp(x: torch.Tensor) -> torch.Tensor:
    """eˣ = 2^(x·log₂e) (ATen's ``exp2``): relative error about 2⁻²⁴ times abs(x), from rounding x·log₂e."""
    return torch.exp2(x * _LOG2_E)


def log(x: torch.Tensor) -> torch.Tensor:
    """log x = log1p(m − 1) + e·ln 2 for x = m·2ᵉ with m in [√½, √2) (``frexp``; m − 1 is exact there): a few
    units in the last place, log 0 = −inf, log of a negative number = nan."""
    m, e = torch.frexp(x)
    low = m < _SQRT_HALF
    m, e = torch.where(low, 2 * m, m), e - low.to(e.dtype)
    return torch.log1p(m - 1) + e.to(x.dtype) * _LN_2


def logsumexp(x: torch.Tensor, dim: int) -> torch.Tensor:
    """log Σ exp(x) along ``dim``, as max + log Σ exp(x − max) (an all −inf slice gives −inf, as torch's does)."""
    top = x.amax(dim, keepdim=True)
    top = torch.where(top.isinf(), 0.0, top)
    return (log(exp(x - top).sum(dim, keepdim=True)) + top).squeeze(dim)


def ndtr(x: torch.Tensor) -> torch.Tensor:
    """The standard normal CDF Φ(x): Φ(−a) = ½ erfc(a/√2) = ½ erfcx(a/√2)·e^(−a²/2) for a = abs(x) ≥ 0, and
    Φ(a) = 1 − Φ(−a)."""
    lower = 0.5 * torch.special.erfcx(x.abs() * _SQRT_HALF) * exp(-0.5 * x * x)
    return torch.where(x < 0, lower, 1.0 - lower)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh x = 2·sigmoid(2x) − 1 (ATen's ``sigmoid``): absolute error below 2⁻²², derivative 1 − tanh² by autograd."""
    return 2.0 * torch.sigmoid(2.0 * x) - 1.0


class Tanh(nn.Module):
    """``nn.Tanh`` through ``tanh`` above: the same function, the same bits on every x86-64 CPU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """tanh x, elementwise."""
        return tanh(x)
