"""Training an RBM by stochastic gradient ascent on the log-likelihood, with the tricks of Hinton's practical guide.

For each mini-batch of n examples (Hinton 2010, §§3–10):

    ĝ_W = (v_dataᵀ E[h | v_data] − v_modelᵀ E[h | v_model]) / n       (the CD / PCD estimate of ∂ log p / ∂W)
    ĝ_b = mean(v_data − v_model),   ĝ_c = mean(E[h | v_data] − E[h | v_model])
    Δθ ← μ Δθ + ε (ĝ_θ − λ θ)    with weight decay λ on W only (§10), momentum μ (§9), learning rate ε (§6)
    θ  ← θ + Δθ

v_model comes from a sampler (``rbmlib.samplers``). An optional sparsity target t (§11) adds
−κ (q − t) to ĝ_c and −κ mean(v_data) ⊗ (q − t) to ĝ_W, with q an exponentially decaying mean of E[h | v_data].
"""
from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from tqdm import tqdm

from .estimators import reconstruction_error
from .rbm import RBM
from .samplers import CD

SCHEDULES = ("constant", "linear")


class DivergenceError(RuntimeError):
    """Training produced non-finite values: the message says when, in which statistic, and what to change."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of RBM training (names follow Hinton's practical guide)."""

    epochs: int = 10
    batch_size: int = 100
    learning_rate: float = 0.1
    learning_rate_schedule: str = "constant"  # "linear": ε·(1 − epoch/epochs), lowered towards the end (§6)
    initial_momentum: float = 0.5
    final_momentum: float = 0.9
    momentum_switch_epoch: int = 5  # switch once the fast early fall of reconstruction error has settled (§9)
    weight_decay: float = 1e-4  # L2 on W only, never on biases (§10)
    sparsity_target: float | None = None
    sparsity_cost: float = 0.0
    sparsity_decay: float = 0.95

    def __post_init__(self):
        checks = [
            (self.epochs >= 0, "epochs must be >= 0"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.learning_rate > 0 and math.isfinite(self.learning_rate), "learning_rate must be finite and > 0"),
            (self.learning_rate_schedule in SCHEDULES, f"learning_rate_schedule must be one of {SCHEDULES}"),
            (0 <= self.initial_momentum < 1 and 0 <= self.final_momentum < 1, "momentum must be in [0, 1)"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (self.sparsity_target is None or 0 < self.sparsity_target < 1, "sparsity_target must be in (0, 1)"),
            (self.sparsity_cost >= 0, "sparsity_cost must be >= 0"),
            (0 <= self.sparsity_decay < 1, "sparsity_decay must be in [0, 1)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"{message}; got {self}")

    def learning_rate_at(self, epoch: int) -> float:
        if self.learning_rate_schedule == "linear" and self.epochs > 0:
            return self.learning_rate * (1.0 - epoch / self.epochs)
        return self.learning_rate

    def momentum_at(self, epoch: int) -> float:
        return self.initial_momentum if epoch < self.momentum_switch_epoch else self.final_momentum


PRESETS: dict[str, TrainConfig] = {
    # Hinton's practical guide (UTML TR 2010-003): its stated defaults; it names no fixed learning rate, 0.1 is the
    # binary-unit rate of the 2006 code. Pair with RBM(weight_std=0.01).
    "hinton_guide_2010": TrainConfig(batch_size=10, learning_rate=0.1, weight_decay=1e-4),
    # Hinton & Salakhutdinov 2006 MATLAB code (rbm.m): ε = 0.1, weightcost 2e-4, momentum 0.5 → 0.9 after 5 epochs,
    # batches of 100. Pair with RBM(weight_std=0.1).
    "hinton_salakhutdinov_2006": TrainConfig(batch_size=100, learning_rate=0.1, weight_decay=2e-4),
    # Gaussian visible units: a learning rate 1–2 orders of magnitude below the binary one (guide §13.2), as used for
    # the Gaussian–NReLU and Gaussian–binary RBMs of Nair & Hinton 2010 (their exact rates are not published).
    "gaussian_visible": TrainConfig(batch_size=100, learning_rate=1e-3, weight_decay=1e-4),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A named preset with some fields overridden, e.g. ``preset("hinton_salakhutdinov_2006", epochs=3)``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return dataclasses.replace(PRESETS[name], **overrides)


class Trainer:
    """Trains an ``RBM`` with a sampler and a ``TrainConfig``; resumable through ``state_dict``.

    ``fit(data)`` trains until ``config.epochs`` epochs are done (continuing from ``epoch_`` after a resume).
    ``callbacks`` are called as ``callback(trainer, record)`` after every epoch. Learned/accumulated state:
    ``epoch_`` (epochs done) and ``history_`` (one dict per epoch: epoch, reconstruction_error, learning_rate,
    momentum, seconds).
    """

    def __init__(self, rbm: RBM, config: TrainConfig, sampler: CD | None = None,
                 generator: torch.Generator | None = None, callbacks: Sequence[Callable] = ()):
        self.rbm = rbm
        self.config = config
        self.sampler = sampler if sampler is not None else CD(1)
        self.generator = generator if generator is not None else torch.Generator(rbm.weight.device).manual_seed(0)
        self.callbacks = list(callbacks)
        self.velocity = {name: torch.zeros_like(p) for name, p in rbm.named_parameters()}
        self.hidden_activity = torch.full_like(rbm.hidden_bias, config.sparsity_target or 0.0)
        # samplers that override after_update (fast PCD) consume the gradient estimates, ĝ_W included
        self._sampler_uses_gradients = type(self.sampler).after_update is not CD.after_update
        self.epoch_ = 0
        self.history_: list[dict] = []

    # one update ---------------------------------------------------------------------------------------------
    def _step(self, v_data: torch.Tensor, learning_rate: float, momentum: float) -> None:
        rbm, cfg, n = self.rbm, self.config, v_data.shape[0]
        h_data, h_data_sample = rbm.hidden.mean_and_sample(rbm.hidden_input(v_data), self.generator)
        v_model = self.sampler.negative_phase(rbm, v_data, h_data_sample, self.generator)
        h_model = rbm.hidden_mean(v_model)

        grads = {"visible_bias": v_data.mean(0) - v_model.mean(0)}
        if "hidden_bias" in self.velocity:
            grads["hidden_bias"] = h_data.mean(0) - h_model.mean(0)
        # one scalar test per batch (a sum is finite iff all its terms are, barring overflow); diagnose on failure
        if not math.isfinite((grads["visible_bias"].sum() + h_data.sum()).item()):
            raise DivergenceError(
                f"RBM training diverged in epoch {self.epoch_ + 1}: non-finite "
                f"{'hidden activations' if not torch.isfinite(h_data).all() else 'visible-bias gradient'} "
                f"(max |W| = {rbm.weight.abs().max().item():.3g}). Lower the learning rate "
                f"(now {learning_rate:g}) or the initial weight scale.")
        penalty = None
        if cfg.sparsity_target is not None and cfg.sparsity_cost > 0:
            self.hidden_activity.mul_(cfg.sparsity_decay).add_(h_data.mean(0), alpha=1 - cfg.sparsity_decay)
            penalty = cfg.sparsity_cost * (self.hidden_activity - cfg.sparsity_target)
            if "hidden_bias" in grads:
                grads["hidden_bias"].sub_(penalty)

        # Weights: ΔW ← μ ΔW + ε (ĝ_W − κ mean(v_data) ⊗ (q − t) − λ W),  W ← W + ΔW. With μ = 0 throughout (plain
        # SGD) ΔW is not kept: the step goes straight into W (as torch.optim.SGD does), saving a pass over W and ΔW.
        weight = rbm.weight
        plain_sgd = cfg.initial_momentum == 0 and cfg.final_momentum == 0
        if plain_sgd and cfg.weight_decay > 0:
            weight.mul_(1.0 - learning_rate * cfg.weight_decay)  # −ελW, from W before this step is added
        step, beta = (weight, 1.0) if plain_sgd else (self.velocity["weight"], momentum)
        if self._sampler_uses_gradients:  # fast PCD's fast weights follow ĝ_W itself: form it
            grads["weight"] = torch.mm(v_data.t(), h_data).addmm_(v_model.t(), h_model, alpha=-1.0).div_(n)
            if penalty is not None:
                grads["weight"].addr_(v_data.mean(0), penalty, alpha=-1.0)
            (step.mul_(beta) if beta != 1.0 else step).add_(grads["weight"], alpha=learning_rate)
        else:  # ĝ_W's two products accumulated straight into the step (β, α = ±ε/n): no 784×500 temporaries
            step.addmm_(v_data.t(), h_data, beta=beta, alpha=learning_rate / n)
            step.addmm_(v_model.t(), h_model, alpha=-learning_rate / n)
            if penalty is not None:
                step.addr_(v_data.mean(0), penalty, alpha=-learning_rate)
        if not plain_sgd:
            if cfg.weight_decay > 0:
                step.add_(weight, alpha=-learning_rate * cfg.weight_decay)
            weight.add_(step)
        for name, g in grads.items():
            if name == "weight":
                continue
            if plain_sgd:  # the same bits as the velocity path with μ = 0 (0·Δ + εg rounds as εg)
                getattr(rbm, name).add_(g * learning_rate)
            else:
                getattr(rbm, name).add_(self.velocity[name].mul_(momentum).add_(g, alpha=learning_rate))
        self.sampler.after_update(rbm, grads)

    # the loop -----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def fit(self, data: torch.Tensor, monitor: torch.Tensor | None = None, progress: bool = True) -> "Trainer":
        """Train on the rows of ``data`` (float tensor, one example per row, on the RBM's device).

        ``monitor`` (default: the first 1,000 rows of ``data``) is used for the per-epoch reconstruction error.
        """
        if data.ndim != 2 or data.shape[1] != self.rbm.n_visible:
            raise ValueError(f"data must have shape (N, {self.rbm.n_visible}), got {tuple(data.shape)}")
        if data.shape[0] == 0:
            raise ValueError("data has no rows")
        if not torch.isfinite(torch.stack(torch.aminmax(data))).all():  # min/max propagate NaN; one fast pass
            raise ValueError("data contains NaN or infinite values")
        monitor = data[:1000] if monitor is None else monitor
        cfg = self.config
        epochs = range(self.epoch_, cfg.epochs)
        bar = tqdm(epochs, desc="RBM epochs", file=sys.stdout, disable=not progress, leave=True)
        for epoch in bar:
            start = time.perf_counter()
            lr, momentum = cfg.learning_rate_at(epoch), cfg.momentum_at(epoch)
            order = torch.randperm(data.shape[0], generator=self.generator, device=self.generator.device)
            for first in range(0, data.shape[0], cfg.batch_size):
                self._step(data.index_select(0, order[first:first + cfg.batch_size].to(data.device)), lr, momentum)
            self._check_parameters(lr)
            self.epoch_ = epoch + 1
            record = {"epoch": self.epoch_, "reconstruction_error": reconstruction_error(self.rbm, monitor),
                      "learning_rate": lr, "momentum": momentum, "seconds": time.perf_counter() - start}
            self.history_.append(record)
            bar.set_postfix(recon=f"{record['reconstruction_error']:.4f}")
            for callback in self.callbacks:
                callback(self, record)
        return self

    def _check_parameters(self, learning_rate: float) -> None:
        for name, p in self.rbm.named_parameters():
            if not torch.isfinite(p).all():
                raise DivergenceError(
                    f"RBM training diverged in epoch {self.epoch_ + 1}: parameter '{name}' has non-finite values. "
                    f"Lower the learning rate (now {learning_rate:g}).")

    # save / resume ------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"rbm": self.rbm.state_dict(), "sampler": self.sampler.state_dict(),
                "velocity": {k: v.clone() for k, v in self.velocity.items()},
                "hidden_activity": self.hidden_activity.clone(), "generator": self.generator.get_state(),
                "epoch": self.epoch_, "history": list(self.history_), "config": dataclasses.asdict(self.config)}

    def load_state_dict(self, state: dict) -> None:
        self.rbm.load_state_dict(state["rbm"])
        self.sampler.load_state_dict(state["sampler"])
        for name, value in state["velocity"].items():
            self.velocity[name].copy_(value)
        self.hidden_activity.copy_(state["hidden_activity"])
        self.generator.set_state(state["generator"])
        self.epoch_ = state["epoch"]
        self.history_ = list(state["history"])
