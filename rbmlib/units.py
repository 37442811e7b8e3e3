"""Unit types for the layers of an RBM.

A layer of units ``s`` with biases ``a`` contributes ``-a·s + Σ ψ(s)`` to the energy
E(v, h) = -b·v + Σψ_v(v) - c·h + Σψ_h(h) - vᵀWh. Given a unit's total input x (bias plus coupling), each unit type
provides

* ``mean(x)``: E[s | x];
* ``sample(x, generator)``: a draw of s | x, with an explicit ``torch.Generator``;
* ``mean_and_sample(x, generator)``: both, the same values as the two calls;
* ``potential(s)``: ψ(s), the unit's own energy term (0 for binary units, s²/2 for unit-variance Gaussians; stepped
  sigmoid and NReLU units have none and raise NotImplementedError);
* ``log_partition(x)``: log Σ_s exp(x·s − ψ(s)) (an integral for continuous units), the term a layer contributes to
  the free energy once it is summed out: F(v) = −b·v + Σψ_v(v) − Σ_j log_partition_h(x_j).

``exact`` says whether ``log_partition`` is the exact value (True) or a documented approximation (NReLU);
``binary`` whether the units take values in {0, 1} (``Bernoulli`` only). ``mean``, ``sample``, ``potential`` and
``log_partition`` act elementwise: their output has the input's shape, dtype and device.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import portable

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class Units:
    """Base class: the interface every unit type implements."""

    exact: bool = True
    binary: bool = False

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """E[s | x]."""
        raise NotImplementedError

    def sample(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A draw of s | x from ``generator`` (torch's default generator when None)."""
        raise NotImplementedError

    def mean_and_sample(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """(E[s | x], a draw of s | x) in one call: the same values as ``mean`` and ``sample`` (from the same
        generator state), for the trainer's positive phase, which needs both; units whose mean and draw share a
        computation (Bernoulli's sigmoid, NReLU's noise standard deviation) do it once."""
        return self.mean(x), self.sample(x, generator)

    def potential(self, s: torch.Tensor) -> torch.Tensor:
        """ψ(s), the unit's own energy term."""
        raise NotImplementedError

    def log_partition(self, x: torch.Tensor) -> torch.Tensor:
        """log Σ_s exp(x·s − ψ(s)) (an integral for continuous units)."""
        raise NotImplementedError

    def settings(self) -> dict:
        """The constructor arguments that rebuild these units (saved with an RBM's state dict)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.settings().items())})"


class Bernoulli(Units):
    """Binary units s ∈ {0, 1}: P(s=1 | x) = sigmoid(x); log Σ_s exp(x s) = softplus(x)."""

    binary = True

    def mean(self, x):
        return torch.sigmoid(x)

    def sample(self, x, generator=None):
        return self._draw(torch.sigmoid(x), generator)

    def mean_and_sample(self, x, generator=None):
        p = torch.sigmoid(x)
        return p, self._draw(p, generator)

    @staticmethod
    def _draw(p, generator):
        # s = [u < p], u ~ U[0, 1): the law of torch.bernoulli at ~1/4 of its CPU time; written into u (one buffer)
        u = torch.rand(p.shape, generator=generator, device=p.device, dtype=p.dtype)
        return torch.lt(u, p, out=u)

    def potential(self, s):
        return torch.zeros_like(s)

    def log_partition(self, x):
        return F.softplus(x)


class Gaussian(Units):
    """Unit-variance Gaussian units (data standardised, σ = 1 fixed, as in Nair & Hinton 2010 and Hinton's guide §13.2).

    ψ(s) = s²/2, so s | x ~ N(x, 1) and log ∫ exp(x s − s²/2) ds = x²/2 + ½ log 2π.
    """

    def mean(self, x):
        return x

    def sample(self, x, generator=None):
        return x + torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)

    def potential(self, s):
        return 0.5 * s * s

    def log_partition(self, x):
        return 0.5 * x * x + _HALF_LOG_2PI


class SteppedSigmoid(Units):
    """Stepped sigmoid units (Nair & Hinton 2010, §2): ``n_copies`` binary units sharing weights, with bias offsets
    −0.5, −1.5, −2.5, …; s = number of copies on.

    mean(x) = Σ_{i=1}^{N} sigmoid(x − i + 0.5) ≈ softplus(x) with N = ``n_copies``; the copies are independent given
    x, so log_partition(x) = Σ_i softplus(x − i + 0.5) exactly.
    """

    def __init__(self, n_copies: int = 100):
        if n_copies < 1:
            raise ValueError(f"n_copies must be >= 1, got {n_copies}")
        self.n_copies = n_copies

    def _shifted(self, x):
        offsets = torch.arange(self.n_copies, device=x.device, dtype=x.dtype) + 0.5
        return x.unsqueeze(-1) - offsets

    def mean(self, x):
        return torch.sigmoid(self._shifted(x)).sum(-1)

    def sample(self, x, generator=None):
        p = torch.sigmoid(self._shifted(x))
        u = torch.rand(p.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (u < p).to(x.dtype).sum(-1)

    def potential(self, s):
        raise NotImplementedError("a count of stepped sigmoid copies has no energy of its own (many configurations "
                                  "give one count): use free energies, which sum the copies out exactly")

    def log_partition(self, x):
        return F.softplus(self._shifted(x)).sum(-1)

    def settings(self) -> dict:
        return {"n_copies": self.n_copies}


class NReLU(Units):
    """Noisy rectified linear units (Nair & Hinton 2010, §2): s = max(0, x + N(0, v(x))).

    The noise *variance* v(x) is sigmoid(x) by default — the variance of the stepped sigmoid unit NReLU approximates;
    ``noise_variance="unit"`` gives max(0, x + N(0, 1)), as Hinton's practical guide (§13.5) writes it.

    mean(x) = E[max(0, x + σε)] = x Φ(x/σ) + σ φ(x/σ) with σ = √v(x) (the rectified-Gaussian mean); √, Φ and exp
    come from ``rbmlib.portable``, so a draw and a mean have the same bits on every x86-64 CPU.
    ``deterministic(x)`` = max(0, x) is the noise-free activation (the one ``rbmlib.stack`` uses for features,
    through ``nn.ReLU``); ``mean``, and so ``RBM.forward``, is the rectified-Gaussian mean above instead.
    NReLU units have no closed-form free energy: ``log_partition`` is that of ``n_copies`` stepped sigmoid units,
    which they approximate (``exact = False``), good for monitoring, not for likelihoods.
    """

    exact = False

    def __init__(self, noise_variance: str = "sigmoid", n_copies: int = 100):
        if noise_variance not in ("sigmoid", "unit"):
            raise ValueError(f"noise_variance must be 'sigmoid' or 'unit', got {noise_variance!r}")
        self.noise_variance = noise_variance
        self._reference = SteppedSigmoid(n_copies)

    def variance(self, x):
        """v(x), the noise variance: sigmoid(x), or 1 with ``noise_variance="unit"``."""
        return torch.sigmoid(x) if self.noise_variance == "sigmoid" else torch.ones_like(x)

    def mean(self, x):
        return self._mean(x, self._std(x))

    def sample(self, x, generator=None):
        return self._draw(x, self._std(x), generator)

    def mean_and_sample(self, x, generator=None):
        std = self._std(x)  # one sigmoid and one √ for both
        return self._mean(x, std), self._draw(x, std, generator)

    def _std(self, x):
        return portable.sqrt(self.variance(x))

    @staticmethod
    def _mean(x, std):
        z = x / std
        return x * portable.ndtr(z) + std * portable.exp(-0.5 * z * z - _HALF_LOG_2PI)

    @staticmethod
    def _draw(x, std, generator):
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return torch.relu(x + noise * std)

    def deterministic(self, x):
        """max(0, x): the unit without its noise."""
        return torch.relu(x)

    def potential(self, s):
        raise NotImplementedError("NReLU units define no energy function; use (approximate) free energies")

    def log_partition(self, x):
        return self._reference.log_partition(x)

    def settings(self) -> dict:
        return {"noise_variance": self.noise_variance, "n_copies": self._reference.n_copies}
