"""Helpers shared by the supervised parts of the reproductions: the device a run asks for, and test error."""
from __future__ import annotations

import torch
from torch import nn

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(name: str) -> torch.device:
    """``"cpu"``, ``"cuda"``, or ``"auto"``: the GPU when there is one, else the CPU."""
    if name not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@torch.no_grad()
def error_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of the rows of x whose arg-max output is not the label (evaluated in eval mode, mode restored)."""
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
    was_training = model.training
    model.eval()
    try:
        wrong = sum((model(x[i:i + batch_size]).argmax(1) != y[i:i + batch_size]).sum().item()
                    for i in range(0, len(x), batch_size))
    finally:
        model.train(was_training)
    return wrong / len(x)
