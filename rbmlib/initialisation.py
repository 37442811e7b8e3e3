"""Gaussian fan-in initialisation of rectifier nets and the scale of their signals at initialisation (He, Zhang,
Ren & Sun 2015, "Delving Deep into Rectifiers", section 2.2).

* He, eq. (10)/(15): w ~ N(0, 2 / ((1 + a²) n_l)), n_l = k²c the fan-in, a the rectifier's negative slope at
  initialisation (0 for ReLU); biases 0. ``he_init``.
* Xavier in the paper's Gaussian form: n_l Var[w_l] = 1, std √(1 / n_l). ``xavier_init``. (``nn.init.xavier_normal_``
  uses √(2 / (fan_in + fan_out)): the same only where fan-in equals fan-out.)
* Forward propagation, eq. (8)-(9): Var[y_l] = n_l Var[w_l] E[x_l²] with E[x_l²] = ½(1 + a²) Var[y_{l−1}] behind a
  rectifier of slope a. ``padded_forward_moments`` carries it out position by position, counting only the inputs a
  zero-padded convolution really has; ``second_moments`` measures the same quantities on a batch.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The convolutions and linear layers of ``model``, in the order ``model.modules()`` visits them."""
    return [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]


def fan_in(layer: nn.Module) -> int:
    """n_l = k²c: the number of inputs of one output unit (kernel size × input channels, or in_features)."""
    return layer.weight[0].numel()


def gaussian_fan_in_init(model: nn.Module, gain2: float, generator: torch.Generator) -> nn.Module:
    """Every weight layer: w ~ N(0, gain2 / n_l) drawn from ``generator`` (layers in ``model.modules()`` order), bias 0."""
    if not gain2 > 0:
        raise ValueError(f"gain2 must be > 0, got {gain2}")
    with torch.no_grad():
        for layer in weight_layers(model):
            layer.weight.normal_(0.0, math.sqrt(gain2 / fan_in(layer)), generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
    return model


def he_gain2(slope: float = 0.0) -> float:
    """n_l Var[w_l] under He's rule, eq. (15): 2 / (1 + a²) (2 for ReLU)."""
    return 2.0 / (1.0 + slope * slope)


def he_init(model: nn.Module, generator: torch.Generator, slope: float = 0.0) -> nn.Module:
    """He initialisation, eq. (15): w ~ N(0, 2 / ((1 + a²) n_l)), biases 0."""
    return gaussian_fan_in_init(model, he_gain2(slope), generator)


def xavier_init(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """The paper's Gaussian Xavier initialisation: w ~ N(0, 1 / n_l), biases 0."""
    return gaussian_fan_in_init(model, 1.0, generator)


def padded_forward_moments(convs: list[nn.Conv2d], first_map: torch.Tensor, gain2: float,
                           slope: float = 0.0) -> list[float]:
    """Eq. (8)-(9) position by position through a chain of square-kernel convolutions, each behind a rectifier of
    negative slope ``slope``: E[y_l²](p) = (gain2 / k²) Σ_{q ∈ window(p)} ½(1 + a²) E[y_{l−1}²](q), the sum running
    over the inputs that exist (zero padding drops the rest), with n_l Var[w_l] = gain2.

    ``first_map`` is E[y_1²] at each position (H, W) of the first conv's output; returns the mean over positions of
    E[y_l²] for every conv of ``convs`` (the first one's is ``first_map.mean()``). Without padding it is eq. (9):
    E[y_l²] = E[y_1²] (gain2 (1 + a²) / 2)^(l−1).
    """
    v = torch.as_tensor(first_map).detach().to("cpu", torch.float64)[None, None]
    moments = [v.mean().item()]
    for conv in convs[1:]:
        kh, kw = conv.kernel_size
        box = torch.ones(1, 1, kh, kw, dtype=torch.float64)
        v = gain2 / (kh * kw) * F.conv2d(0.5 * (1.0 + slope * slope) * v, box, stride=conv.stride,
                                         padding=conv.padding, dilation=conv.dilation)
        moments.append(v.mean().item())
    return moments


def second_moments(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                   loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy) -> dict:
    """Second moments of one batch, one per weight layer l (``weight_layers`` order): ``forward`` E[y_l²] of the
    layer's output, ``backward`` E[(∂E/∂y_l)²] and ``weight_grad`` E[(∂E/∂W_l)²] for E = loss(model(x), y), and
    ``first_map``: E[y_1²] per position of the first layer's output (averaged over examples and channels).
    Leaves the parameters' ``.grad`` set."""
    layers = weight_layers(model)
    outputs = []

    def keep(_module, _inputs, out):
        out.retain_grad()
        outputs.append(out)

    hooks = [layer.register_forward_hook(keep) for layer in layers]
    try:
        model.zero_grad(set_to_none=True)
        loss(model(x), y).backward()
    finally:
        for hook in hooks:
            hook.remove()
    first = outputs[0].detach()
    return {
        "forward": [out.detach().pow(2).mean().item() for out in outputs],
        "backward": [out.grad.pow(2).mean().item() for out in outputs],
        "weight_grad": [layer.weight.grad.pow(2).mean().item() for layer in layers],
        "first_map": first.pow(2).mean(dim=(0, 1)) if first.dim() == 4 else first.pow(2).mean().reshape(1, 1),
    }
