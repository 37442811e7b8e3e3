"""How active the hidden units of a feed-forward net are: the codes of its activation layers, exact sparsity, dead
units and histograms of codes (Glorot, Bordes & Bengio 2011, §3 and §4.1).

For a hidden layer with codes h ∈ ℝ^{N×J} on N examples:

* exact sparsity (the paper's "fraction of true zeros") = #{(n, j): h_nj = 0} / (N J);
* dead fraction = #{j: h_nj = 0 for every n} / J, the units never active on those examples: a layer can be very
  sparse because most of its units are dead, which is sparsity bought at the price of capacity;
* a histogram of the codes (the spike at exactly 0 is the rectifier's sparsity).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .portable import Tanh

ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.Tanh, Tanh, nn.Softplus, nn.Sigmoid, nn.LeakyReLU, nn.PReLU,
                                            nn.ELU)


def forward_with_codes(net: nn.Sequential, x: torch.Tensor, kinds: tuple[type[nn.Module], ...] = ACTIVATIONS
                       ) -> tuple[list[torch.Tensor], torch.Tensor]:
    """(the outputs of ``net``'s activation modules — the hidden codes, in order —, the net's output)."""
    codes = []
    for module in net:
        x = module(x)
        if isinstance(module, kinds):
            codes.append(x)
    return codes, x


@dataclass(frozen=True)
class LayerActivity:
    """One hidden layer on N examples: ``zero_fraction`` (exact zeros / (N J)), ``dead_fraction`` (units exactly 0 on
    every example / J), ``units`` J and ``examples`` N."""

    zero_fraction: float
    dead_fraction: float
    units: int
    examples: int


@torch.no_grad()
def layer_activity(net: nn.Sequential, x: torch.Tensor, batch_size: int = 1000,
                   kinds: tuple[type[nn.Module], ...] = ACTIVATIONS) -> list[LayerActivity]:
    """Exact sparsity and dead fraction of every hidden layer of ``net`` on the rows of x (in eval mode, mode
    restored), counted exactly over mini-batches of ``batch_size`` rows."""
    if len(x) == 0:
        raise ValueError("x is empty")
    was_training = net.training
    net.eval()
    try:
        zeros = None  # per layer, per unit: on how many examples the unit is exactly 0
        for first in range(0, len(x), batch_size):
            counts = [(h == 0).sum(0) for h in forward_with_codes(net, x[first:first + batch_size], kinds)[0]]
            zeros = counts if zeros is None else [z + c for z, c in zip(zeros, counts)]
    finally:
        net.train(was_training)
    n = len(x)
    return [LayerActivity(z.sum().item() / (n * len(z)), (z == n).sum().item() / len(z), len(z), n) for z in zeros]


def code_histogram(h: torch.Tensor, bins: int = 40) -> dict:
    """Histogram of the codes h on ``bins`` equal bins over [min(0, min h), max(max h, min h + 1e-6)] (0 always a
    bin edge or inside the range), with the exact-zero fraction beside it: {"edges", "counts", "zero_fraction"}."""
    if h.numel() == 0 or bins < 1:
        raise ValueError(f"need a non-empty h and bins >= 1, got {h.numel()} values and {bins} bins")
    h = h.detach().double().flatten().cpu()
    low = min(0.0, h.min().item())
    high = max(h.max().item(), low + 1e-6)
    counts = torch.histc(h, bins=bins, min=low, max=high)
    edges = torch.linspace(low, high, bins + 1, dtype=torch.float64)
    return {"edges": edges.tolist(), "counts": [int(c) for c in counts.tolist()],
            "zero_fraction": (h == 0).double().mean().item()}
