"""How good is an RBM? Reconstruction error, pseudo-likelihood, exact log Z, and annealed importance sampling.

For an RBM with free energy F (``rbmlib.rbm``), p(v) = exp(−F(v)) / Z and log p(v) = −F(v) − log Z. Z is a sum over
2^n states: exact by enumeration when the smaller binary layer is tiny, otherwise estimated by AIS (Salakhutdinov &
Murray 2008) from a base-rate model, forward (an unbiased estimate of Z, so E[log Ẑ] ≤ log Z) or in reverse from
samples of the model (an unbiased estimate of 1/Z, so E[log Ẑ] ≥ log Z: Burda, Grosse & Salakhutdinov 2015).

Everything runs under ``torch.no_grad`` on the RBM's device; log-weights and exact sums are accumulated in float64.
"""
from __future__ import annotations

import copy
import functools
import math
import sys
from dataclasses import dataclass

import torch
from tqdm import tqdm

from . import portable
from .rbm import RBM
from .units import Bernoulli

#: Largest binary layer ``exact_log_partition`` enumerates by default (2^25 states).
MAX_ENUMERATED_UNITS = 25
#: The β schedule of Salakhutdinov & Murray 2008 as (end of segment, number of steps in it) pairs, from β = 0.
PAPER_SCHEDULE = ((0.5, 500), (0.9, 4_000), (1.0, 10_000))
_CHUNK_ELEMENTS = 1 << 22  # states × units per chunk when enumerating or flipping bits


def _require_finite(rbm: RBM | None = None, **inputs) -> None:
    """Refuse NaN or ±inf in the RBM's parameters or in the named inputs (tensors or numbers; None is skipped)."""
    if rbm is not None:
        for name, tensor in [*rbm.named_parameters(), *rbm.named_buffers()]:
            if not torch.isfinite(tensor).all():
                raise ValueError(f"the RBM's {name} holds non-finite values (NaN or ±inf): a diverged or damaged "
                                 "model has no meaningful estimate; retrain it (e.g. with a lower learning rate)")
    for name, value in inputs.items():
        if value is not None and not torch.isfinite(torch.as_tensor(value)).all():
            raise ValueError(f"{name} holds non-finite values (NaN or ±inf)")


# ------------------------------------------------------------------------------------------------ cheap monitors
@torch.no_grad()
def reconstruction_error(rbm: RBM, v: torch.Tensor) -> float:
    """Mean over examples and pixels of (v − E[v | E[h | v]])²: the deterministic mean-field one-step reconstruction."""
    _require_finite(rbm, v=v)
    return ((v - rbm.visible_mean(rbm.hidden_mean(v))) ** 2).mean().item()


@torch.no_grad()
def pseudo_log_likelihood(rbm: RBM, v: torch.Tensor, n_bits: int | None = None,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """Σ_i log p(v_i | v_−i) for each row of binary v: a *sum* over pixels, not a mean (Besag's pseudo-likelihood).

    log p(v_i | v_−i) = −softplus(F(v) − F(v̄ⁱ)), with v̄ⁱ = v with bit i flipped. ``n_bits=None`` (default) sums all
    bits exactly. ``n_bits=k`` sums k bits drawn without replacement for each example and scales by n_visible / k:
    an unbiased estimate of the same all-bits sum (scikit-learn's ``score_samples`` is the k = 1 case, with no
    rescaling to a per-pixel value: compare sums with sums).
    """
    if not rbm.visible.binary:
        raise ValueError(f"pseudo_log_likelihood needs binary visible units, got {rbm.visible!r}")
    _require_finite(rbm, v=v)
    n, n_visible = v.shape
    if n_bits is None:
        bits = torch.arange(n_visible, device=v.device).expand(n, n_visible)
    elif 1 <= n_bits <= n_visible:
        bits = torch.rand(n, n_visible, generator=generator, device=v.device).argsort(dim=1)[:, :n_bits]
    else:
        raise ValueError(f"n_bits must be None or in [1, {n_visible}], got {n_bits}")
    x = rbm.hidden_input(v)  # (n, H)
    log_partition = rbm.hidden.log_partition(x).sum(-1)  # (n,)
    total = torch.zeros(n, dtype=v.dtype, device=v.device)
    chunk = max(1, _CHUNK_ELEMENTS // (n * rbm.n_hidden))
    for start in range(0, bits.shape[1], chunk):
        idx = bits[:, start:start + chunk]  # (n, c)
        sign = 1 - 2 * v.gather(1, idx)  # +1 turns a bit on, −1 turns it off
        x_flipped = x.unsqueeze(1) + sign.unsqueeze(-1) * rbm.weight[idx]  # (n, c, H)
        # F(v̄ⁱ) − F(v) = −b_i·sign − Σ_j [log_partition(x̄ⁱ_j) − log_partition(x_j)]
        delta = (-rbm.visible_bias[idx] * sign
                 - (rbm.hidden.log_partition(x_flipped).sum(-1) - log_partition.unsqueeze(1)))
        total -= torch.nn.functional.softplus(-delta).sum(1)
    return total * (n_visible / bits.shape[1])


# ------------------------------------------------------------------------------------------------ exact log Z
def _float64(rbm: RBM) -> RBM:
    return rbm if rbm.weight.dtype == torch.float64 else copy.deepcopy(rbm).to(torch.float64)


def _binary_states(start: int, stop: int, n: int, like: torch.Tensor) -> torch.Tensor:
    """Rows start … stop−1 of the 2^n binary states, bit j of the row index in column j."""
    index = torch.arange(start, stop, device=like.device).unsqueeze(1)
    return ((index >> torch.arange(n, device=like.device)) & 1).to(like.dtype)


@torch.no_grad()
def exact_log_partition(rbm: RBM, max_units: int = MAX_ENUMERATED_UNITS, chunk_elements: int = 1 << 17) -> float:
    """log Z by enumerating the smaller binary layer whose partner layer sums out exactly, in float64.

    log Z = logsumexp_v −F(v) over the 2^n_visible binary v, or logsumexp_h −F_h(h) over the 2^n_hidden binary h
    (F_h integrates Gaussian visibles analytically). States are summed in chunks of at most ``chunk_elements``
    states × units, folded into a running log-sum-exp, so memory stays bounded (a few MB) whatever n is.
    """
    _require_finite(rbm)
    options = []  # (units enumerated, free-energy function of that layer's states)
    if rbm.hidden.binary and rbm.visible.exact:
        options.append((rbm.n_hidden, "free_energy_hidden"))
    if rbm.visible.binary and rbm.hidden.exact:
        options.append((rbm.n_visible, "free_energy"))
    if not options:
        raise ValueError(f"exact_log_partition needs a binary layer whose partner sums out exactly; got visible "
                         f"{rbm.visible!r}, hidden {rbm.hidden!r}")
    n, method = min(options)
    if n > max_units:
        raise ValueError(f"the smaller enumerable layer has {n} units: 2^{n} states is too many (max_units="
                         f"{max_units}); estimate log Z with ais() instead")
    rbm64 = _float64(rbm)
    free_energy = getattr(rbm64, method)
    chunk = max(1, chunk_elements // (rbm.n_visible + rbm.n_hidden))
    log_z = torch.full((), -math.inf, dtype=torch.float64, device=rbm64.weight.device)
    for start in range(0, 2 ** n, chunk):
        states = _binary_states(start, min(start + chunk, 2 ** n), n, rbm64.weight)
        log_z = torch.logaddexp(log_z, portable.logsumexp(-free_energy(states), 0))
    return log_z.item()


@torch.no_grad()
def exact_log_likelihood(rbm: RBM, v: torch.Tensor, log_z: float | None = None) -> torch.Tensor:
    """log p(v) = −F(v) − log Z for each row of v, in float64 (log Z from ``exact_log_partition`` unless given)."""
    if not rbm.hidden.exact:
        raise ValueError(f"{rbm.hidden!r} units have no exact free energy, so no exact likelihood")
    _require_finite(rbm, v=v, log_z=log_z)
    if log_z is None:
        log_z = exact_log_partition(rbm)
    return -_float64(rbm).free_energy(v.to(torch.float64)) - log_z


@torch.no_grad()
def average_log_probability(rbm: RBM, v: torch.Tensor, log_z: float) -> float:
    """Mean over the rows of v of log p(v) = −F(v) − log Z, with log Z exact or estimated (e.g. ``ais(...).log_z``)."""
    if not rbm.hidden.exact:
        raise ValueError(f"{rbm.hidden!r} units have no exact free energy, so no log-probability")
    _require_finite(rbm, v=v, log_z=log_z)
    return (-rbm.free_energy(v).to(torch.float64).mean() - log_z).item()


# ------------------------------------------------------------------------------------------------ AIS
def default_betas(n_steps: int = 14_500) -> torch.Tensor:
    """The β schedule of Salakhutdinov & Murray 2008 as n_steps + 1 float64 values from 0 to 1.

    The default is the paper's 14,500 steps: 0 → 0.5 by 1e-3, 0.5 → 0.9 by 1e-4, 0.9 → 1 by 1e-5. A smaller
    ``n_steps`` keeps the shape: the three segments get n_steps in the proportions 500 : 4,000 : 10,000.
    """
    total = sum(steps for _, steps in PAPER_SCHEDULE)
    if n_steps < len(PAPER_SCHEDULE):
        raise ValueError(f"n_steps must be >= {len(PAPER_SCHEDULE)}, got {n_steps}")
    counts = [max(1, round(n_steps * steps / total)) for _, steps in PAPER_SCHEDULE[:-1]]
    counts.append(n_steps - sum(counts))
    pieces, start = [torch.zeros(1, dtype=torch.float64)], 0.0
    for (end, _), count in zip(PAPER_SCHEDULE, counts):
        pieces.append(torch.linspace(start, end, count + 1, dtype=torch.float64)[1:])
        start = end
    return torch.cat(pieces)


def base_rate_biases(data: torch.Tensor, eps: float = 0.05) -> torch.Tensor:
    """Visible biases of the base-rate model: logit of the smoothed pixel marginals, p = (mean + eps) / (1 + 2 eps).

    The maximum-likelihood biases of a zero-weight RBM are logit(mean); ``eps`` (5 pseudo-counts of each value per
    100 cases, a symmetric version of the authors' code) keeps pixels that are always off or on finite.
    """
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    p = (data.to(torch.float64).mean(0) + eps) / (1 + 2 * eps)
    return (portable.log(p) - torch.log1p(-p)).to(data.dtype)  # logit p, without MKL's vendor-dependent log


@dataclass(frozen=True)
class AISResult:
    """An AIS estimate of log Z.

    ``log_z``: the estimate (log of the mean importance weight); ``log_z_low``, ``log_z_high``: log of
    mean ± 3·std/√n_runs of the weights (Salakhutdinov & Murray's band; −inf / +inf where mean − 3σ ≤ 0);
    ``log_weights``: one float64 value per run; ``log_z_base``: log Z of the base-rate model; ``n_betas``: the number
    of annealing steps K (β_0 = 0 < β_1 < … < β_K = 1); ``reverse``: annealed from the model to the base model.
    """

    log_z: float
    log_z_low: float
    log_z_high: float
    log_weights: torch.Tensor
    log_z_base: float
    n_runs: int
    n_betas: int
    reverse: bool = False


def _check_ais_inputs(rbm: RBM, base_visible_bias, betas):
    _require_finite(rbm, base_visible_bias=base_visible_bias, betas=betas)
    for layer in (rbm.visible, rbm.hidden):
        if not layer.exact:
            raise ValueError(f"AIS needs units with an exact free energy, got {layer!r}")
    base = (torch.zeros_like(rbm.visible_bias) if base_visible_bias is None
            else base_visible_bias.to(rbm.visible_bias))
    if base.shape != rbm.visible_bias.shape:
        raise ValueError(f"base_visible_bias has shape {tuple(base.shape)}, expected {tuple(rbm.visible_bias.shape)}")
    betas = default_betas() if betas is None else torch.as_tensor(betas, dtype=torch.float64).flatten()
    if len(betas) < 2 or betas[0] != 0 or betas[-1] != 1 or bool((betas.diff() < 0).any()):
        raise ValueError("betas must increase from 0 to 1 (at least two values)")
    return base, betas


@torch.no_grad()
def _anneal(rbm: RBM, v: torch.Tensor, betas: list[float], base: torch.Tensor, generator, progress: bool):
    """Σ_k log f_{β_k}(v_{k−1}) − log f_{β_{k−1}}(v_{k−1}) along a Gibbs chain through the β's in the given order.

    f_β is the path p_A^(1−β) p_B^β on the joint (v, h): an RBM with visible bias (1−β)b_A + βb, hidden bias βc and
    weights βW, so log f_β(v) = ((1−β)b_A + βb)·v − Σψ_v(v) + Σ_j log_partition_h(β(c + vW)_j). After each weight
    update the chain moves by one block-Gibbs sweep under the new β (none after the last).
    """
    log_w = torch.zeros(v.shape[0], dtype=torch.float64, device=v.device)
    bias_step = rbm.visible_bias - base
    x = rbm.hidden_input(v)
    steps = tqdm(range(1, len(betas)), desc="AIS", file=sys.stdout, disable=not progress, mininterval=1.0)
    for k in steps:
        before, after = betas[k - 1], betas[k]
        log_w += ((after - before) * (v @ bias_step)).to(torch.float64)
        log_w += _log_partition_change(rbm.hidden, x, before, after)
        if k < len(betas) - 1:
            h = rbm.hidden.sample(after * x, generator)
            visible_input = torch.addmm(torch.lerp(base, rbm.visible_bias, after), h, rbm.weight.t(), alpha=after)
            v = rbm.visible.sample(visible_input, generator)
            x = rbm.hidden_input(v)
    return log_w


def _log_partition_change(units, x: torch.Tensor, before: float, after: float) -> torch.Tensor:
    """Σ_j log_partition(after·x_j) − log_partition(before·x_j) per row, in float64.

    For binary units softplus(a + d) − softplus(a) = log1p(sigmoid(a)·expm1(d)) has no cancellation, so it is exact
    to the working precision of the (small) difference itself and ~3x cheaper than two float64 softplus; it runs in
    :func:`_update_dtype`. Other units take the difference of float64 log-partitions.
    """
    if isinstance(units, Bernoulli):
        xw = x.to(_update_dtype(x))
        change = torch.log1p(torch.sigmoid(before * xw) * torch.expm1((after - before) * xw))
        return change.sum(-1).to(torch.float64)
    x64 = x.to(torch.float64)
    return (units.log_partition(after * x64) - units.log_partition(before * x64)).sum(-1)


def _update_dtype(x: torch.Tensor) -> torch.dtype:
    """The precision of the binary update: float64 for CPU tensors where ATen's kernels run at AVX-512 on an AMD CPU,
    whose float32 ``log1p`` and ``expm1`` there ran 7-8x slower than its float64 ones (AVX-512 EPYC); ``x``'s own
    dtype elsewhere: on an AVX-512 Intel Xeon float32 is 2.5x the faster (``benchmarks/aten_kernels.py``), and the
    pinned (AVX2) path keeps its arithmetic."""
    slow_float32 = x.device.type == "cpu" and _aten_capability() == "AVX512" and _cpu_vendor() == "AuthenticAMD"
    return torch.float64 if slow_float32 else x.dtype


@functools.cache
def _aten_capability() -> str:
    """ATen's CPU kernel level in this process (fixed once torch has loaded: ``ATEN_CPU_CAPABILITY`` caps it)."""
    return torch.backends.cpu.get_cpu_capability()


@functools.cache
def _cpu_vendor() -> str | None:
    from .report import cpu_vendor

    return cpu_vendor()


def _base_log_partition(rbm: RBM, base: torch.Tensor) -> float:
    """log Z_A of the β = 0 model: independent visibles with biases b_A, hidden units with zero input."""
    zero = torch.zeros(rbm.n_hidden, dtype=torch.float64, device=base.device)
    return (rbm.visible.log_partition(base.to(torch.float64)).sum()
            + rbm.hidden.log_partition(zero).sum()).item()


def _result(log_w: torch.Tensor, log_z_base: float, n_betas: int, reverse: bool) -> AISResult:
    """Turn log-weights into log Ẑ and the ±3σ band of the mean weight, computed stably relative to max log w."""
    n = log_w.numel()
    shift = log_w.max().item()
    w = portable.exp(log_w - shift)  # not torch.exp, whose bits depend on the CPU vendor (rbmlib.portable)
    mean, spread = w.mean().item(), 3 * w.std().item() / math.sqrt(n)
    log_mean = math.log(mean) + shift  # log of the mean weight = logsumexp(log w) − log n
    upper = math.log(mean + spread) + shift
    lower = math.log(mean - spread) + shift if mean > spread else -math.inf
    if reverse:  # the weights estimate Z_A / Z_B
        return AISResult(log_z_base - log_mean, log_z_base - upper, log_z_base - lower, log_w, log_z_base, n,
                         n_betas, True)
    return AISResult(log_z_base + log_mean, log_z_base + lower, log_z_base + upper, log_w, log_z_base, n,
                     n_betas, False)


@torch.no_grad()
def ais(rbm: RBM, n_runs: int = 100, betas: torch.Tensor | None = None, base_visible_bias: torch.Tensor | None = None,
        generator: torch.Generator | None = None, progress: bool = False) -> AISResult:
    """Annealed importance sampling estimate of log Z (Salakhutdinov & Murray 2008, §3 and eq. 11–12).

    ``n_runs`` independent chains start from exact samples of the base-rate model p_A (zero weights, visible biases
    ``base_visible_bias``, e.g. ``base_rate_biases(train_data)``, default 0; hidden biases 0, the target's scaled by
    β = 0) and anneal through ``betas`` (default ``default_betas()``, the paper's 14,500 steps). The mean importance
    weight is an unbiased estimate of Z_B / Z_A, so log Ẑ = log Z_A + log mean w underestimates log Z on average
    (Jensen): p(v) is then overestimated. Works for any visible and hidden units with an exact free energy
    (Bernoulli, Gaussian visibles, stepped sigmoid).

    Parameters
    ----------
    rbm : rbmlib.rbm.RBM
        The model whose log Z is estimated.
    n_runs : int
        Independent annealing runs (at least 2).
    betas : torch.Tensor, optional
        Inverse temperatures increasing from 0 to 1, e.g. ``default_betas(2_000)`` for a quick estimate.
    base_visible_bias : torch.Tensor, optional
        Visible biases of the base-rate model, e.g. ``base_rate_biases(train_data)``.
    generator : torch.Generator, optional
        Source of the Gibbs samples.
    progress : bool
        Show a progress bar over the βs.

    Returns
    -------
    AISResult
        ``log_z`` with its ±3σ band (``log_z_low``, ``log_z_high``) and the log-weights of the runs.
    """
    if n_runs < 2:
        raise ValueError(f"n_runs must be >= 2 (the band needs a standard deviation), got {n_runs}")
    base, betas = _check_ais_inputs(rbm, base_visible_bias, betas)
    v = rbm.visible.sample(base.expand(n_runs, -1), generator)
    log_w = _anneal(rbm, v, betas.tolist(), base, generator, progress)
    return _result(log_w, _base_log_partition(rbm, base), len(betas) - 1, reverse=False)


@torch.no_grad()
def reverse_ais(rbm: RBM, v_model: torch.Tensor, betas: torch.Tensor | None = None,
                base_visible_bias: torch.Tensor | None = None, generator: torch.Generator | None = None,
                progress: bool = False) -> AISResult:
    """Reverse AIS: anneal from samples of the model (β = 1) down to the base-rate model (β = 0).

    Each row of ``v_model`` starts a run. The mean weight Π_k f_{β_(k−1)}(v_k) / f_{β_k}(v_k) is an unbiased
    estimate of Z_A / Z_B when the rows are exact samples of the model, so log Ẑ = log Z_A − log mean w
    overestimates log Z on average (Jensen; Burda, Grosse & Salakhutdinov 2015): a stochastic upper bound on log Z
    and hence a stochastic lower bound on log p(v) (P(log Ẑ < log Z − t) ≤ e^(−t) by Markov). Forward and reverse
    AIS sandwich log Z. With approximate samples (persistent chains, or data for a well-fitted model) the bound is
    only approximate: its guarantee holds as the start approaches the model distribution.
    """
    if v_model.shape[0] < 2 or v_model.shape[1] != rbm.n_visible:
        raise ValueError(f"v_model must have shape (n_runs >= 2, {rbm.n_visible}), got {tuple(v_model.shape)}")
    _require_finite(v_model=v_model)
    base, betas = _check_ais_inputs(rbm, base_visible_bias, betas)
    log_w = _anneal(rbm, v_model.to(rbm.weight), betas.flip(0).tolist(), base, generator, progress)
    return _result(log_w, _base_log_partition(rbm, base), len(betas) - 1, reverse=True)
