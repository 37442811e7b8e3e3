"""The restricted Boltzmann machine as a PyTorch module.

E(v, h) = −b·v + Σ_i ψ_v(v_i) − c·h + Σ_j ψ_h(h_j) − vᵀ W h          (Hinton's practical guide, eq. 1, generalised)
F(v)    = −b·v + Σ_i ψ_v(v_i) − Σ_j log_partition_h(c_j + (vW)_j)     (free energy: h summed out)
F_h(h)  = −c·h + Σ_j ψ_h(h_j) − Σ_i log_partition_v(b_i + (Wh)_i)     (the same with v summed out)

The unit types (``rbmlib.units``) give ψ, the conditionals and the log-partition terms. Parameters are
``nn.Parameter``s so that autograd can differentiate free energies in tests; training updates them in place under
``torch.no_grad`` from the sufficient statistics (``rbmlib.train``), not through autograd.
"""
from __future__ import annotations

import torch
from torch import nn

from .units import Bernoulli, Units


class RBM(nn.Module):
    """An RBM with ``n_visible`` × ``n_hidden`` weights ``weight``, ``visible_bias`` and ``hidden_bias``.

    ``weight_std``: initial weights ~ N(0, weight_std²) (0.01 in Hinton's guide, 0.1 in the 2006 MATLAB code).
    ``hidden_bias=False`` fixes the hidden biases at 0 (a buffer, never learned): the bias-free, intensity-
    equivariant feature extractor of Nair & Hinton 2010 (§4). ``generator`` draws the initial weights, on the
    generator's device (so a CUDA generator builds the RBM on the GPU).

    ``state_dict`` records the ``architecture()`` (unit types with their settings, hidden-bias mode) in its metadata;
    ``load_state_dict`` refuses a state dict of another architecture or shape, naming the difference, and then
    loads nothing.

    Parameters
    ----------
    n_visible, n_hidden : int
        Numbers of visible and hidden units.
    visible, hidden : rbmlib.units.Units, optional
        Unit types of the two layers (default ``Bernoulli()``; see ``rbmlib.units``).
    weight_std : float
        Standard deviation of the initial weights.
    hidden_bias : bool
        Learn the hidden biases (True) or fix them at 0.
    generator : torch.Generator, optional
        Draws the initial weights, on its device.
    dtype : torch.dtype
        Dtype of the parameters (float32 by default).
    """

    def __init__(self, n_visible: int, n_hidden: int, visible: Units | None = None, hidden: Units | None = None,
                 *, weight_std: float = 0.01, hidden_bias: bool = True, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"n_visible and n_hidden must be >= 1, got {n_visible}, {n_hidden}")
        if weight_std < 0:
            raise ValueError(f"weight_std must be >= 0, got {weight_std}")
        self.visible = visible if visible is not None else Bernoulli()
        self.hidden = hidden if hidden is not None else Bernoulli()
        device = generator.device if generator is not None else None
        self.weight = nn.Parameter(weight_std * torch.randn(n_visible, n_hidden, generator=generator, dtype=dtype,
                                                            device=device))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible, dtype=dtype, device=device))
        if hidden_bias:
            self.hidden_bias = nn.Parameter(torch.zeros(n_hidden, dtype=dtype, device=device))
        else:
            self.register_buffer("hidden_bias", torch.zeros(n_hidden, dtype=dtype, device=device))
        self.register_state_dict_post_hook(_save_architecture)

    @property
    def n_visible(self) -> int:
        return self.weight.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.weight.shape[1]

    # conditionals -------------------------------------------------------------------------------------------
    def hidden_input(self, v: torch.Tensor) -> torch.Tensor:
        """x_h = c + vW, the total input of each hidden unit."""
        return torch.addmm(self.hidden_bias, v, self.weight)

    def visible_input(self, h: torch.Tensor) -> torch.Tensor:
        """x_v = b + hWᵀ, the total input of each visible unit."""
        return torch.addmm(self.visible_bias, h, self.weight.t())

    def hidden_mean(self, v: torch.Tensor) -> torch.Tensor:
        """E[h | v]."""
        return self.hidden.mean(self.hidden_input(v))

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """E[v | h]."""
        return self.visible.mean(self.visible_input(h))

    def sample_hidden(self, v: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.hidden.sample(self.hidden_input(v), generator)

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.visible.sample(self.visible_input(h), generator)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """The features of v: E[h | v]."""
        return self.hidden_mean(v)

    def gibbs(self, v: torch.Tensor, steps: int = 1, generator: torch.Generator | None = None,
              sample_visible: bool = True) -> torch.Tensor:
        """Run ``steps`` block-Gibbs sweeps v → h → v; ``sample_visible=False`` uses E[v | h] (mean-field)."""
        for _ in range(steps):
            h = self.sample_hidden(v, generator)
            v = self.sample_visible(h, generator) if sample_visible else self.visible_mean(h)
        return v

    # energies -----------------------------------------------------------------------------------------------
    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) for each row of v and h."""
        return (-(v @ self.visible_bias) + self.visible.potential(v).sum(-1)
                - (h @ self.hidden_bias) + self.hidden.potential(h).sum(-1)
                - ((v @ self.weight) * h).sum(-1))

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = −log Σ_h exp(−E(v, h)), one value per row of v (exact unless the hidden units say otherwise)."""
        return (-(v @ self.visible_bias) + self.visible.potential(v).sum(-1)
                - self.hidden.log_partition(self.hidden_input(v)).sum(-1))

    def free_energy_hidden(self, h: torch.Tensor) -> torch.Tensor:
        """F_h(h) = −log Σ_v exp(−E(v, h)) (an integral for Gaussian visibles), one value per row of h."""
        return (-(h @ self.hidden_bias) + self.hidden.potential(h).sum(-1)
                - self.visible.log_partition(self.visible_input(h)).sum(-1))

    # saving and loading -------------------------------------------------------------------------------------------
    def architecture(self) -> dict:
        """What the tensors of ``state_dict`` mean: unit types with their settings, and the hidden-bias mode."""
        return {"visible units": {"type": type(self.visible).__name__, **self.visible.settings()},
                "hidden units": {"type": type(self.hidden).__name__, **self.hidden.settings()},
                "hidden bias": "learned" if isinstance(self.hidden_bias, nn.Parameter) else "fixed at 0"}

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Refuse, before copying anything, a state dict of another architecture or shape, naming the difference.

        State dicts saved before the architecture was recorded (in their metadata) are checked for shapes only.
        """
        saved, mine = local_metadata.get(ARCHITECTURE_KEY, {}), self.architecture()
        differences = [f"{key}: {_describe(saved[key])} saved, {_describe(mine[key])} here"
                       for key in mine if key in saved and saved[key] != mine[key]]
        own = dict(self.named_parameters(recurse=False), **dict(self.named_buffers(recurse=False)))
        for name, tensor in own.items():
            if prefix + name not in state_dict:
                if strict:
                    differences.append(f"{name}: missing")
            elif state_dict[prefix + name].shape != tensor.shape:
                differences.append(f"{name}: shape {tuple(state_dict[prefix + name].shape)} saved, "
                                   f"{tuple(tensor.shape)} here")
        if strict:
            differences += [f"{key[len(prefix):]}: unexpected" for key in state_dict
                            if key.startswith(prefix) and key[len(prefix):] not in own]
        if differences:
            raise RuntimeError(f"cannot load this state dict into {self!r}; nothing was loaded. Differences: "
                               + "; ".join(differences))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return (f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, visible={self.visible!r}, "
                f"hidden={self.hidden!r}, hidden_bias={self.architecture()['hidden bias']}")


ARCHITECTURE_KEY = "rbmlib.architecture"


def _save_architecture(rbm: RBM, state_dict, prefix, local_metadata) -> None:
    """State-dict hook: record the architecture in the state dict's metadata (kept by torch.save and deepcopy)."""
    local_metadata[ARCHITECTURE_KEY] = rbm.architecture()


def _describe(value) -> str:
    if isinstance(value, dict):
        settings = ", ".join(f"{k}={v!r}" for k, v in value.items() if k != "type")
        return f"{value['type']}({settings})"
    return str(value)
