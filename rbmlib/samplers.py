"""Negative-phase samplers: where the model statistics ⟨v hᵀ⟩_model of the likelihood gradient come from.

∂ log p(v) / ∂W = ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model. Each sampler returns visible states standing in for samples of the
model; the trainer pairs them with E[h | v]. CD and PCD differ in where the chain starts (paysage's view) and in
whether the last visible step is sampled by default (``sample_visible``: False for CD, True for PCD):

* ``CD(k)``: k Gibbs sweeps starting from the data (Hinton 2002);
* ``PCD(k)``: k sweeps continuing persistent chains kept across updates (Tieleman 2008);
* ``FastPCD(k)``: PCD whose chains run on W + W_fast, fast weights that learn with a large rate and decay
  (Tieleman & Hinton 2009).

Samplers are ``nn.Module``s so that persistent chains and fast weights are saved in ``state_dict``.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .rbm import RBM


class CD(nn.Module):
    """Contrastive divergence with k steps.

    The chain starts from the hidden sample drawn for the data, h₀ ~ p(h | v_data); intermediate visibles are
    sampled, so the k − 1 inner sweeps are the model's Gibbs chain. ``sample_visible=False`` (default) makes the
    *final* reconstruction E[v | h] — probabilities for binary units (Hinton's guide §3.2) and the noise-free
    reconstruction of Gaussian units (Nair & Hinton 2010 §1.2). That reduces noise at the price of a bias that does
    not vanish as k grows; ``sample_visible=True`` gives the estimate that approaches the likelihood gradient.
    """

    def __init__(self, k: int = 1, sample_visible: bool = False):
        super().__init__()
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        self.sample_visible = sample_visible

    def _visible(self, rbm: RBM, h, generator):
        return rbm.sample_visible(h, generator) if self.sample_visible else rbm.visible_mean(h)

    def negative_phase(self, rbm: RBM, v_data, h_data_sample, generator=None):
        """v_model for one update: from h₀ = ``h_data_sample``, k − 1 sweeps v ~ p(v | h), h ~ p(h | v), then a last
        visible step (E[v | h], or a draw with ``sample_visible``); ``v_data`` is not used."""
        h = h_data_sample
        for _ in range(self.k - 1):
            h = rbm.sample_hidden(rbm.sample_visible(h, generator), generator)
        return self._visible(rbm, h, generator)

    def after_update(self, rbm: RBM, gradients: dict) -> None:
        """Hook called after each parameter update with ``gradients``, the update's estimates ĝ by parameter name;
        a no-op here (fast PCD overrides it; ``rbmlib.train.Trainer`` forms ĝ_W only for samplers that do)."""

    def extra_repr(self) -> str:
        return f"k={self.k}, sample_visible={self.sample_visible}"


class PCD(CD):
    """Persistent contrastive divergence: chains persist across updates (Tieleman 2008).

    ``n_chains`` fantasy particles (default: the number of rows of the first mini-batch seen), started from the
    first ``n_chains`` rows of that mini-batch (a ValueError if it has fewer) unless loaded from a state dict; each
    update advances them k sweeps v → h ~ p(h | v) → v. Visibles are sampled by default (``sample_visible=True``), so
    the chains are true Gibbs chains of the model; with ``sample_visible=False`` they carry E[v | h].
    """

    def __init__(self, k: int = 1, n_chains: int | None = None, sample_visible: bool = True):
        super().__init__(k, sample_visible)
        if n_chains is not None and n_chains < 1:
            raise ValueError(f"n_chains must be >= 1, got {n_chains}")
        self.n_chains = n_chains
        self.register_buffer("chains", torch.empty(0))

    def _chain_rbm(self, rbm: RBM) -> RBM:
        return rbm

    def negative_phase(self, rbm: RBM, v_data, h_data_sample, generator=None):
        """The chains after k more sweeps, kept in ``chains``; ``h_data_sample`` is not used."""
        if self.chains.numel() == 0:
            n = self.n_chains or v_data.shape[0]
            if n > v_data.shape[0]:
                raise ValueError(f"n_chains={n} is larger than the first mini-batch ({v_data.shape[0]})")
            self.chains = v_data[:n].clone()
        chain_rbm = self._chain_rbm(rbm)
        v = self.chains
        for _ in range(self.k):
            v = self._visible(chain_rbm, chain_rbm.sample_hidden(v, generator), generator)
        self.chains = v
        return v

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # chains are created lazily: take the saved shape (and dtype and device) before loading
        key = prefix + "chains"
        if key in state_dict:
            self.chains = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class FastPCD(PCD):
    """Fast persistent contrastive divergence (Tieleman & Hinton 2009).

    The chains run on θ + θ_fast: θ the RBM's learned parameters, θ_fast zeros of their shapes at the first negative
    phase. After each update the fast parameters follow the trainer's gradient estimate ĝ (sparsity penalty included;
    no momentum, no weight decay) with their own rate and decay:
    θ_fast ← fast_decay · θ_fast + fast_learning_rate · ĝ (the paper's decay, 19/20, is the default). A ValueError
    unless fast_learning_rate > 0 and 0 ≤ fast_decay < 1.
    """

    def __init__(self, fast_learning_rate: float, k: int = 1, n_chains: int | None = None,
                 fast_decay: float = 19 / 20, sample_visible: bool = True):
        super().__init__(k, n_chains, sample_visible)
        if fast_learning_rate <= 0:
            raise ValueError(f"fast_learning_rate must be > 0, got {fast_learning_rate}")
        if not 0 <= fast_decay < 1:
            raise ValueError(f"fast_decay must be in [0, 1), got {fast_decay}")
        self.fast_learning_rate = fast_learning_rate
        self.fast_decay = fast_decay
        self.fast = nn.ParameterDict()
        self._shadow: list[RBM] = []  # θ + θ_fast, rebuilt from the two each update; not saved

    def _chain_rbm(self, rbm: RBM) -> RBM:
        if not self.fast:
            for name, p in rbm.named_parameters():
                self.fast[name] = nn.Parameter(torch.zeros_like(p), requires_grad=False)
        if not self._shadow:
            self._shadow.append(copy.deepcopy(rbm))
        shadow = self._shadow[0]
        shadow.load_state_dict(rbm.state_dict())
        with torch.no_grad():
            for name, p in shadow.named_parameters():
                p.add_(self.fast[name])
        return shadow

    def after_update(self, rbm: RBM, gradients: dict) -> None:
        with torch.no_grad():
            for name, g in gradients.items():
                self.fast[name].mul_(self.fast_decay).add_(g, alpha=self.fast_learning_rate)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for key, value in state_dict.items():
            if key.startswith(prefix + "fast."):
                name = key[len(prefix + "fast."):]
                if name not in self.fast:
                    self.fast[name] = nn.Parameter(torch.zeros_like(value), requires_grad=False)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return (f"k={self.k}, fast_learning_rate={self.fast_learning_rate}, fast_decay={self.fast_decay}, "
                f"sample_visible={self.sample_visible}")
