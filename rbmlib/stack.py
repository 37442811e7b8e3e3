"""Greedy layer-wise pre-training of RBM or denoising-auto-encoder layers, and export to a plain ``nn.Sequential``.

Greedy stacking (Hinton, Osindero & Teh 2006; Bengio et al. 2007): layer 1 is trained on the data, layer k on the
deterministic features of layer k − 1 computed for the whole training set, each layer frozen once trained.

* RBM layers (``pretrain_rbms``) are trained by ``rbmlib.train.Trainer``; their features are E[h | v] (sigmoid for
  Bernoulli hidden units, the input itself for Gaussian ones) and, for NReLU hidden units, the noise-free
  max(0, x) that Nair & Hinton (2010) use for recognition.
* Denoising auto-encoder layers (``pretrain_daes``, Vincent et al. 2008) follow Glorot, Bordes & Bengio (2011, §4.1):
  masking noise, f(x̃) = W_dec·act(W_enc x̃ + b_enc) + b_dec, a softplus reconstruction layer with quadratic cost for
  rectifier and softplus nets, cross-entropy for tanh nets, and an L1 penalty on the hidden activations.

``to_sequential`` turns either stack into Linear + activation modules (copies, trainable on their own) for
supervised fine-tuning; ``stack_features`` computes the same function from the stack itself.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import portable
from .rbm import RBM
from .samplers import CD
from .supervised import History, fit, sgd
from .train import TrainConfig, Trainer
from .units import Bernoulli, Gaussian, NReLU, Units

# tanh through rbmlib.portable: torch.tanh takes its bits from MKL, which chooses them by CPU vendor
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": portable.Tanh, "softplus": nn.Softplus}
# Reconstruction layer → the range its inputs must lie in (the cost is only meaningful there).
RECONSTRUCTIONS: dict[str, tuple[float, float]] = {
    "softplus": (0.0, math.inf),  # r = softplus(f), L = ‖x − r‖²: non-negative inputs (pixels, rectifier codes)
    "sigmoid": (0.0, 1.0),  # r = sigmoid(f), L = cross-entropy: inputs in [0, 1] (pixels)
    "tanh": (-1.0, 1.0),  # r = tanh(f), L = cross-entropy of (1 + x)/2 against (1 + r)/2: tanh codes
}
EXPLOSION_FACTOR = 1e3  # an epoch's mean loss this many times the first mini-batch's counts as divergence
_HIDDEN_TO_MODULE: dict[type[Units], Callable[[], nn.Module]] = {
    Bernoulli: nn.Sigmoid, NReLU: nn.ReLU, Gaussian: nn.Identity,
}


def _check_choice(name: str, value: str, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


class DenoisingAutoencoder(nn.Module):
    """One denoising auto-encoder layer of Glorot, Bordes & Bengio (2011, §4.1).

    h = act(W_enc x̃ + b_enc) with x̃ the input under masking noise (each component set to 0 with probability
    ``corruption``), f(x̃) = W_dec h + b_dec, and per example

        softplus: L = ‖x − softplus(f(x̃))‖²   (rectifier and softplus layers, the paper's choice for images)
        sigmoid:  L = −Σ_i [x_i log σ(f_i) + (1 − x_i) log(1 − σ(f_i))]   (tanh layers on inputs in [0, 1])
        tanh:     the same cross-entropy on (1 + x)/2 and (1 + tanh f)/2 = σ(2f)   (tanh layers on tanh codes)

    plus ``l1_activation`` · ``Σ_j |h_j|``; ``loss`` averages over the mini-batch. ``reconstruction=None`` picks
    "softplus" for relu/softplus and "sigmoid" for tanh.

    Weights are **untied**: the paper writes W_dec and W_enc as separate matrices, and a free decoder lets the
    softplus reconstruction layer set its own scale for rectifier codes, which are unbounded. Both matrices start
    Glorot-uniform, U(±√(6 / (fan_in + fan_out))) (the paper's "uniform initialisation"), biases at 0, drawn from
    ``generator`` (on ``device``, like the generator).
    """

    def __init__(self, n_in: int, n_hidden: int, activation: str = "relu", corruption: float = 0.25,
                 l1_activation: float = 0.0, reconstruction: str | None = None,
                 generator: torch.Generator | None = None, device=None, dtype=None):
        super().__init__()
        _check_choice("activation", activation, ACTIVATIONS)
        reconstruction = reconstruction or ("sigmoid" if activation == "tanh" else "softplus")
        _check_choice("reconstruction", reconstruction, RECONSTRUCTIONS)
        if n_in < 1 or n_hidden < 1:
            raise ValueError(f"n_in and n_hidden must be >= 1, got {n_in}, {n_hidden}")
        if not 0.0 <= corruption < 1.0:
            raise ValueError(f"corruption must be in [0, 1), got {corruption}")
        if l1_activation < 0:
            raise ValueError(f"l1_activation must be >= 0, got {l1_activation}")
        self.activation, self.reconstruction = activation, reconstruction
        self.corruption, self.l1_activation = corruption, l1_activation
        self.encoder = nn.Linear(n_in, n_hidden, device=device, dtype=dtype)
        self.decoder = nn.Linear(n_hidden, n_in, device=device, dtype=dtype)
        self.act = ACTIVATIONS[activation]()
        with torch.no_grad():
            for linear in (self.encoder, self.decoder):
                nn.init.xavier_uniform_(linear.weight, generator=generator)
                linear.bias.zero_()

    @property
    def n_in(self) -> int:
        return self.encoder.in_features

    @property
    def n_hidden(self) -> int:
        return self.encoder.out_features

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Masking noise: x̃_i = 0 with probability ``corruption``, else x_i."""
        keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= self.corruption
        return x * keep

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """h = act(W_enc x + b_enc): the layer's features (no noise)."""
        return self.act(self.encoder(x))

    def _output(self, pre: torch.Tensor) -> torch.Tensor:
        return {"softplus": F.softplus, "sigmoid": torch.sigmoid, "tanh": portable.tanh}[self.reconstruction](pre)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction of a clean input: softplus, sigmoid or tanh of W_dec h + b_dec."""
        return self._output(self.decoder(self.encode(x)))

    def _costs(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-example reconstruction cost of the corrupted input, and the codes h."""
        h = self.encode(self.corrupt(x, generator))
        pre = self.decoder(h)
        if self.reconstruction == "softplus":
            cost = (x - F.softplus(pre)).pow(2).sum(1)
        elif self.reconstruction == "sigmoid":
            cost = F.binary_cross_entropy_with_logits(pre, x, reduction="none").sum(1)
        else:
            cost = F.binary_cross_entropy_with_logits(2.0 * pre, 0.5 * (1.0 + x), reduction="none").sum(1)
        return cost, h

    def loss(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Mini-batch mean of the reconstruction cost of the corrupted input plus the L1 activation penalty."""
        cost, h = self._costs(x, generator)
        if self.l1_activation > 0:
            cost = cost + self.l1_activation * h.abs().sum(1)
        return cost.mean()

    def reconstruction_cost(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Mean denoising reconstruction cost on ``x`` without the L1 penalty: the paper's score of pre-training
        (e.g. on validation data, to choose its learning rate). Same noise as ``loss`` for the same generator state."""
        return self._costs(x, generator)[0].mean()

    def extra_repr(self) -> str:
        return (f"activation={self.activation!r}, reconstruction={self.reconstruction!r}, "
                f"corruption={self.corruption}, l1_activation={self.l1_activation}")


def fit_denoising_autoencoder(dae: DenoisingAutoencoder, data: torch.Tensor, epochs: int, batch_size: int,
                              learning_rate: float, generator: torch.Generator, progress: bool = True) -> History:
    """Plain SGD (no momentum, no weight decay: the paper's optimiser) on shuffled mini-batches of ``data``, through
    the book's one loop ``rbmlib.supervised.fit``; the generator draws both the mini-batches and the masking noise.

    Returns fit's ``History`` (mean training loss per epoch, loss per step). Raises ``DivergenceError`` when an
    epoch's mean loss is non-finite or above ``EXPLOSION_FACTOR`` × the loss of the first mini-batch (unbounded
    rectifier codes let SGD blow up while staying finite), and ``ValueError`` when ``data`` lies outside the range
    the reconstruction cost is defined on.
    """
    if data.ndim != 2 or data.shape[1] != dae.n_in:
        raise ValueError(f"data must have shape (N, {dae.n_in}), got {tuple(data.shape)}")
    low, high = RECONSTRUCTIONS[dae.reconstruction]
    if not torch.isfinite(data).all() or data.min() < low or data.max() > high:
        raise ValueError(f"data must be finite and in [{low}, {high}] for the {dae.reconstruction!r} reconstruction; "
                         f"got values in [{data.min().item():.3g}, {data.max().item():.3g}]")
    if epochs < 0 or batch_size < 1 or not learning_rate > 0:
        raise ValueError(f"need epochs >= 0, batch_size >= 1, learning_rate > 0; got {epochs}, {batch_size}, "
                         f"{learning_rate}")
    return fit(lambda batch: dae.loss(data[batch.to(data.device)], generator), sgd(dae, learning_rate), len(data),
               epochs=epochs, batch_size=batch_size, generator=generator, explosion_factor=EXPLOSION_FACTOR,
               progress=progress, desc=f"DAE {dae.n_in}→{dae.n_hidden} ({dae.activation})")


# features of one layer and of a stack ----------------------------------------------------------------------------
def _hidden_module(rbm: RBM) -> nn.Module:
    kind = type(rbm.hidden)
    if kind not in _HIDDEN_TO_MODULE:
        raise ValueError(f"cannot export RBM hidden units {rbm.hidden!r}: supported are "
                         f"{', '.join(k.__name__ for k in _HIDDEN_TO_MODULE)}")
    return _HIDDEN_TO_MODULE[kind]()


def _layer_modules(layer: nn.Module) -> list[nn.Module]:
    """The Linear + activation pair that computes ``layer``'s deterministic features (copies of its parameters)."""
    if isinstance(layer, DenoisingAutoencoder):
        return [copy.deepcopy(layer.encoder), ACTIVATIONS[layer.activation]()]
    if isinstance(layer, RBM):
        w = layer.weight
        linear = nn.Linear(layer.n_visible, layer.n_hidden, device=w.device, dtype=w.dtype)
        with torch.no_grad():
            linear.weight.copy_(w.t())
            linear.bias.copy_(layer.hidden_bias)
        return [linear, _hidden_module(layer)]
    raise TypeError(f"layers must be RBMs or DenoisingAutoencoders, got {type(layer).__name__}")


@torch.no_grad()
def layer_features(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One layer's deterministic features: E[h | v] for Bernoulli/Gaussian RBM hiddens, max(0, c + vW) for NReLU
    (noise-free, Nair & Hinton 2010), act(W_enc x + b_enc) for a DAE (no corruption)."""
    if isinstance(layer, DenoisingAutoencoder):
        return layer.encode(x)
    if isinstance(layer, RBM):
        return _hidden_module(layer)(F.linear(x, layer.weight.t(), layer.hidden_bias))
    raise TypeError(f"layers must be RBMs or DenoisingAutoencoders, got {type(layer).__name__}")


def stack_features(layers: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """The top layer's features of x: ``layer_features`` applied layer after layer."""
    for layer in layers:
        x = layer_features(layer, x)
    return x


def to_sequential(layers: Sequence[nn.Module], head: nn.Module | None = None) -> nn.Sequential:
    """A plain torch net computing ``stack_features`` (then ``head``): per RBM, Linear(weight Wᵀ, bias c) + Sigmoid
    (Bernoulli), ReLU (NReLU, noise-free) or Identity (Gaussian); per DAE, a copy of its encoder + activation."""
    if len(layers) == 0:
        raise ValueError("layers is empty")
    modules = [m for layer in layers for m in _layer_modules(layer)]
    if head is not None:
        modules.append(head)
    return nn.Sequential(*modules)


# greedy stacking ---------------------------------------------------------------------------------------------
def _check_stack_input(data: torch.Tensor, sizes: Sequence[int]) -> None:
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D (N, features), got shape {tuple(data.shape)}")
    if len(sizes) == 0 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"sizes must be a non-empty list of positive layer widths, got {list(sizes)}")


def pretrain_rbms(data: torch.Tensor, sizes: Sequence[int], train_config: TrainConfig,
                  make_sampler: Callable[[], CD] = lambda: CD(1), hidden_units: Sequence[Units] | None = None,
                  generator: torch.Generator | None = None, progress: bool = True, *,
                  visible_units: Units | None = None, weight_std: float = 0.01) -> list[RBM]:
    """Greedy layer-wise RBM training (Hinton, Osindero & Teh 2006, §4): RBM k has ``sizes[k]`` hidden units and is
    trained on ``layer_features`` of RBM k − 1 for all of ``data``.

    ``hidden_units``: one unit type per layer (default: all Bernoulli). Layer 1's visible units are
    ``visible_units`` (default Bernoulli); layer k's are of the type of layer k − 1's hidden units.
    """
    _check_stack_input(data, sizes)
    hidden_units = list(hidden_units) if hidden_units is not None else [Bernoulli() for _ in sizes]
    if len(hidden_units) != len(sizes):
        raise ValueError(f"hidden_units has {len(hidden_units)} entries for {len(sizes)} layers")
    generator = generator if generator is not None else torch.Generator(data.device).manual_seed(0)
    visible = visible_units if visible_units is not None else Bernoulli()
    rbms, x = [], data
    for size, hidden in zip(sizes, hidden_units):
        rbm = RBM(x.shape[1], int(size), visible=visible, hidden=hidden, weight_std=weight_std,
                  generator=generator, dtype=data.dtype).to(data.device)
        Trainer(rbm, train_config, make_sampler(), generator=generator).fit(x, progress=progress)
        rbms.append(rbm)
        x, visible = layer_features(rbm, x), copy.deepcopy(hidden)
    return rbms


def pretrain_daes(data: torch.Tensor, sizes: Sequence[int], activation: str = "relu", *, epochs: int,
                  learning_rate: float, batch_size: int = 10, corruption: float = 0.25, l1_activation: float = 0.0,
                  reconstruction: str | None = None, generator: torch.Generator | None = None,
                  progress: bool = True, stacked_on: Sequence[DenoisingAutoencoder] = ()
                  ) -> list[DenoisingAutoencoder]:
    """Greedy stacked denoising auto-encoders (Vincent et al. 2008; Glorot et al. 2011, §4.1): DAE k has
    ``sizes[k]`` hidden units and is trained by ``fit_denoising_autoencoder`` on the clean codes of DAE k − 1.

    ``stacked_on``: trained DAEs (kept frozen) to build on: the new layers are trained on their codes of ``data``,
    and only the new layers are returned (so a stack can be grown one layer at a time, e.g. to choose each layer's
    learning rate on validation data). ``reconstruction`` applies to the first layer of the whole stack (default
    from the activation, for inputs in [0, 1]); higher layers reconstruct the codes below with a softplus layer
    (relu, softplus: codes ≥ 0) or a tanh layer (tanh codes).
    """
    _check_stack_input(data, sizes)
    _check_choice("activation", activation, ACTIVATIONS)
    generator = generator if generator is not None else torch.Generator(data.device).manual_seed(0)
    daes, x = [], stack_features(stacked_on, data) if len(stacked_on) else data
    for k, size in enumerate(sizes, start=len(stacked_on)):
        layer_reconstruction = reconstruction if k == 0 else ("tanh" if activation == "tanh" else "softplus")
        dae = DenoisingAutoencoder(x.shape[1], int(size), activation, corruption, l1_activation,
                                   layer_reconstruction, generator=generator, device=data.device, dtype=data.dtype)
        fit_denoising_autoencoder(dae, x, epochs, batch_size, learning_rate, generator, progress)
        daes.append(dae)
        x = layer_features(dae, x)
    return daes
