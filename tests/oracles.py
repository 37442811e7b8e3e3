"""Brute-force oracles for tests: every state of a tiny RBM enumerated with itertools, independently of rbmlib's
own enumeration in ``rbmlib.estimators``."""
import itertools

import torch

from rbmlib.rbm import RBM


def all_binary_states(n: int, dtype=torch.float64) -> torch.Tensor:
    """The 2^n binary vectors of length n, one per row."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=dtype)


def random_rbm(n_visible: int, n_hidden: int, seed: int = 0, scale: float = 1.0, dtype=torch.float64,
               **kwargs) -> RBM:
    """An RBM whose weights and both biases are N(0, scale²): far from the zero-weight model."""
    generator = torch.Generator().manual_seed(seed)
    rbm = RBM(n_visible, n_hidden, weight_std=scale, generator=generator, dtype=dtype, **kwargs)
    with torch.no_grad():
        rbm.visible_bias.normal_(0, scale, generator=generator)
        if isinstance(rbm.hidden_bias, torch.nn.Parameter):
            rbm.hidden_bias.normal_(0, scale, generator=generator)
    return rbm


def joint_log_probabilities(rbm: RBM):
    """(v states, h states, log p(v, h) as a 2^n_visible × 2^n_hidden table) from −E(v, h) of a binary RBM."""
    v, h = all_binary_states(rbm.n_visible), all_binary_states(rbm.n_hidden)
    with torch.no_grad():
        energy = torch.stack([rbm.energy(v, h_row.expand(len(v), -1)) for h_row in h], dim=1)
    return v, h, -energy - torch.logsumexp(-energy.flatten(), 0)


def brute_force_free_energy(rbm: RBM, v: torch.Tensor) -> torch.Tensor:
    """−log Σ_h exp(−E(v, h)) over the enumerated binary h, for each row of v."""
    h = all_binary_states(rbm.n_hidden, v.dtype)
    with torch.no_grad():
        energy = torch.stack([rbm.energy(v, h_row.expand(len(v), -1)) for h_row in h], dim=1)
    return -torch.logsumexp(-energy, dim=1)
