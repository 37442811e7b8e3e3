"""Nair & Hinton 2010, "Rectified Linear Units Improve Restricted Boltzmann Machines": what the LFW and NORB chapters
share (``nair_hinton2010_lfw``, ``nair_hinton2010_norb``).

Both compare two kinds of hidden units in an RBM with unit-variance Gaussian visible units (data standardised):

* ``"NReLU"``: noisy rectified linear units, h = max(0, x + N(0, sigmoid(x))) during CD (their eq. 4), the
  noise-free max(0, x) as a feature;
* ``"binary"``: Bernoulli units, P(h = 1) = sigmoid(x), the probability as a feature.

A pre-trained RBM becomes a layer of a plain torch net (``rbmlib.stack.to_sequential``: Linear + ReLU or Sigmoid)
that is then trained discriminatively with Adam (``fit_net``); "no pre-training" is the same net started from the
RBM's own random initial weights, N(0, weight_std²).
"""
from __future__ import annotations

import math
import sys
from typing import Callable, Iterable

import torch
from tqdm import tqdm

from .. import report
from ..stack import layer_features
from ..train import DivergenceError
from ..units import Bernoulli, NReLU, Units

HIDDEN_KINDS = ("NReLU", "binary")
PAPER_CITATION = "Nair & Hinton (2010)"


def hidden_units(kind: str) -> Units:
    """The unit type of one kind of hidden layer: NReLU (noise variance sigmoid(x)) or binary."""
    if kind == "NReLU":
        return NReLU()
    if kind == "binary":
        return Bernoulli()
    raise ValueError(f"hidden unit kind must be one of {', '.join(HIDDEN_KINDS)}, got {kind!r}")


def mean_and_standard_error(values: Iterable[float]) -> tuple[float, float]:
    """Mean and standard error of the mean, s / √n with s the sample standard deviation (0 for one value)."""
    x = torch.tensor(list(values), dtype=torch.float64)
    if x.numel() == 0:
        raise ValueError("no values to average")
    se = x.std(correction=1).item() / math.sqrt(x.numel()) if x.numel() > 1 else 0.0
    return x.mean().item(), se


def fit_net(parameter_groups: list[dict], loss_of_batch: Callable[[torch.Tensor], torch.Tensor], n: int,
            epochs: int, batch_size: int, generator: torch.Generator, progress: bool = False,
            desc: str = "fine-tuning") -> list[float]:
    """Adam on shuffled mini-batches of example indices 0..n−1; ``loss_of_batch(indices)`` is the batch-mean loss.

    Returns the mean training loss of each epoch; raises ``DivergenceError`` on a non-finite loss.
    """
    if epochs < 0 or batch_size < 1 or n < 1:
        raise ValueError(f"need epochs >= 0, batch_size >= 1 and n >= 1; got {epochs}, {batch_size}, {n}")
    optimiser = torch.optim.Adam(parameter_groups)
    losses = []
    for epoch in tqdm(range(epochs), desc=desc, file=sys.stdout, disable=not progress, leave=False):
        order = torch.randperm(n, generator=generator, device=generator.device)
        total = 0.0
        for first in range(0, n, batch_size):
            batch = order[first:first + batch_size]
            loss = loss_of_batch(batch)
            if not torch.isfinite(loss):
                lrs = ", ".join(f"{g['lr']:g}" for g in parameter_groups)
                raise DivergenceError(f"{desc} diverged in epoch {epoch + 1}: non-finite loss. Lower the "
                                      f"learning rate (now {lrs}).")
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.item() * batch.numel()
        losses.append(total / n)
    return losses


def best_learning_rate(scores: dict, lower_is_better: bool) -> float:
    """The learning rate with the best validation score (``None``: the run diverged, never chosen); the smaller rate
    on a tie."""
    finite = {lr: s for lr, s in scores.items() if s is not None}
    if not finite:
        raise DivergenceError(f"every learning rate diverged: {sorted(scores)}")
    sign = 1.0 if lower_is_better else -1.0
    return min(finite, key=lambda lr: (sign * finite[lr], lr))


def selection_cell(score: float | None, chosen: bool, percent: bool = False) -> str:
    """A validation score for a learning-rate table: 'diverged' for None, '←' on the chosen rate."""
    text = "diverged" if score is None else report.fmt(score, 2 if percent else 4, percent=percent)
    return text + (" ←" if chosen else "")


def is_active(kind: str, features: torch.Tensor) -> torch.Tensor:
    """Whether each unit is on: NReLU features > 0; binary units with P(h = 1) > 1/2."""
    return features > 0 if kind == "NReLU" else features > 0.5


def activity_figure(rbms: dict, data: torch.Tensor, title: str):
    """Per hidden unit, the fraction of examples on which it is active, one histogram per kind of unit
    (the paper's question of how often the units are on), and the distribution of the features' values."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    for kind, rbm in rbms.items():
        features = layer_features(rbm, data).cpu()
        axes[0].hist(is_active(kind, features).float().mean(0).numpy(), bins=25, range=(0, 1), alpha=0.6,
                     label=kind)
        axes[1].hist(features.flatten().numpy(), bins=60, alpha=0.6, label=kind, log=True)
    axes[0].set_xlabel("fraction of examples on which a unit is active")
    axes[0].set_ylabel("hidden units")
    axes[1].set_xlabel("feature value (max(0, x) for NReLU, sigmoid(x) for binary)")
    axes[1].set_ylabel("count (log scale)")
    for ax in axes:
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def filters_figure(rbms: dict, channels: int, size: int, n: int = 20, title: str = ""):
    """The first ``n`` filters (columns of W) of each RBM as (size × size × channels) images: colour for 3 channels,
    else the first channel in grey (red positive, blue negative; for NORB's stereo pairs, the first camera)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rbms), 1, figsize=(12, 1.5 * len(rbms) * math.ceil(n / 20)))
    for ax, (kind, rbm) in zip(axes, rbms.items()):
        w = rbm.weight.detach().cpu().t()[:n].reshape(n, channels, size, size)
        if channels != 3:
            report.image_grid(w[:, 0].reshape(n, -1), (size, size), ncols=20, ax=ax, symmetric=True,
                              title=f"{kind} hidden units: the first {n} of {rbm.n_hidden} filters")
        else:
            report.image_grid(w.permute(0, 2, 3, 1).reshape(n, -1), (size, size, channels), ncols=20, ax=ax,
                              title=f"{kind} hidden units: the first {n} of {rbm.n_hidden} filters")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
