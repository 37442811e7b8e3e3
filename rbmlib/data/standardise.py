"""Per-pixel standardisation fitted on training data only (Nair & Hinton 2010, NORB and LFW preprocessing)."""
from __future__ import annotations

import torch


class Standardiser:
    """x' = (x − μ) / σ with μ, σ computed per pixel over the training examples (dim 0) by ``fit``.

    ``per_pixel_std=False`` divides every pixel by the average of the per-pixel σ instead: Nair & Hinton's NORB
    recipe ("subtract the mean, then divide by the average standard deviation of all pixels"). σ is the population
    standard deviation, floored at ``eps`` so that a constant pixel maps to 0 rather than NaN.
    """

    def __init__(self, per_pixel_std: bool = True, eps: float = 1e-6):
        self.per_pixel_std = per_pixel_std
        self.eps = eps

    def fit(self, x: torch.Tensor) -> "Standardiser":
        self.mean_ = x.mean(dim=0)
        std = x.std(dim=0, correction=0)
        self.std_ = (std if self.per_pixel_std else std.mean().expand_as(std)).clamp_min(self.eps)
        return self

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardiser.transform called before fit: fit it on the training data first")
        if x.shape[1:] != self.mean_.shape:
            raise ValueError(
                f"Standardiser fitted on examples of shape {tuple(self.mean_.shape)}, got {tuple(x.shape[1:])}"
            )
        return (x - self.mean_) / self.std_

    def fit_transform(self, x: torch.Tensor) -> torch.Tensor:
        return self.fit(x).transform(x)
