"""The one supervised training loop of the book, its optimiser helper, learning-rate selection on validation data,
and test error. Every chapter trains its nets (fine-tuning, DAE pre-training, siamese nets) through ``fit``.

``fit`` minimises a mini-batch loss ℓ(θ; B) over shuffled mini-batches B of example indices (one permutation per
epoch, drawn from an explicit generator), with any ``torch.optim`` optimiser (SGD with momentum and weight decay via
``sgd``, or Adam), an optional learning-rate scheduler stepped once per mini-batch, a per-epoch callback (validation
error, say), optional keep-the-best-epoch selection, and a divergence check.
"""
from __future__ import annotations

import copy
import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .train import DivergenceError

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(name: str) -> torch.device:
    """``"cpu"``, ``"cuda"``, or ``"auto"``: the GPU when there is one, else the CPU."""
    if name not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def sgd(model: nn.Module, lr: float, *, momentum: float = 0.0, weight_decay: float = 0.0,
        no_decay: tuple[type[nn.Module], ...] = (nn.PReLU,)) -> torch.optim.SGD:
    """SGD with momentum; L2 weight decay on every trainable parameter except those of ``no_decay`` modules
    (PReLU's coefficients: He et al. 2015, §2.1 "we do not use weight decay on a_i")."""
    exempt = {id(p) for m in model.modules() if isinstance(m, no_decay) for p in m.parameters()}
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if id(p) not in exempt], "weight_decay": weight_decay},
              {"params": [p for p in params if id(p) in exempt], "weight_decay": 0.0}]
    return torch.optim.SGD([g for g in groups if g["params"]], lr=lr, momentum=momentum)


def cross_entropy_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """ℓ(B) = mean over i ∈ B of −log softmax(model(x_i))[y_i]: the loss of a classifier, for ``fit``."""
    return lambda batch: F.cross_entropy(model(x[batch.to(x.device)]), y[batch.to(y.device)])


@dataclass
class History:
    """What ``fit`` saw: one record per epoch (mean loss, steps so far, and the callback's values), the loss of
    every step, and the epoch whose parameters were kept (``best_epoch``; the last one without selection)."""

    epochs: list[dict] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    best_epoch: int = 0

    def windowed(self, every: int) -> list[float]:
        """Mean step loss over consecutive windows of ``every`` steps (learning curves)."""
        n = len(self.step_losses) // every
        return [math.fsum(self.step_losses[i * every:(i + 1) * every]) / every for i in range(n)]


def fit(loss_of_batch: Callable[[torch.Tensor], torch.Tensor], optimizer: torch.optim.Optimizer, n: int, *,
        epochs: int, batch_size: int, generator: torch.Generator, max_steps: int | None = None,
        drop_last: bool = False, scheduler=None, after_epoch: Callable[[int], dict] | None = None,
        keep_best: tuple[nn.Module, str] | None = None, explosion_factor: float | None = None,
        progress: bool = False, desc: str = "training") -> History:
    """Minimise ``loss_of_batch(indices)`` (a scalar mini-batch mean) over shuffled mini-batches of 0..n−1.

    ``max_steps`` stops after that many mini-batches (within an epoch); ``drop_last`` skips a last short batch.
    ``after_epoch(epoch)`` returns values to record (e.g. ``{"valid_error": ...}``); with ``keep_best=(model, key)``
    the parameters of the epoch with the lowest ``key`` are restored at the end (the earlier epoch on a tie).
    Raises ``DivergenceError`` when an epoch's mean loss is non-finite or, with ``explosion_factor``, above that
    multiple of the first mini-batch's loss (unbounded rectifier codes can blow up while staying finite).
    """
    if epochs < 0 or batch_size < 1 or n < 1:
        raise ValueError(f"need epochs >= 0, batch_size >= 1 and n >= 1; got {epochs}, {batch_size}, {n}")
    if drop_last and batch_size > n:
        raise ValueError(f"batch_size {batch_size} exceeds the {n} examples (drop_last would train on nothing)")
    history, best, best_state, steps = History(), math.inf, None, 0
    stop = n - n % batch_size if drop_last else n
    bar = tqdm(range(epochs), desc=desc, file=sys.stdout, disable=not progress, leave=False)
    for epoch in bar:
        order = torch.randperm(n, generator=generator, device=generator.device)
        losses = []
        for first in range(0, stop, batch_size):
            if max_steps is not None and steps >= max_steps:
                break
            loss = loss_of_batch(order[first:first + batch_size])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            losses.append(loss.detach())
            steps += 1
        if not losses:
            break
        step_losses = torch.stack(losses).double().cpu().tolist()
        history.step_losses += step_losses
        mean_loss = math.fsum(step_losses) / len(step_losses)
        first_loss = history.step_losses[0]
        if not math.isfinite(mean_loss) or (explosion_factor is not None and mean_loss > explosion_factor * first_loss):
            rates = ", ".join(f"{g['lr']:g}" for g in optimizer.param_groups)
            raise DivergenceError(f"{desc} diverged in epoch {epoch + 1}: mean loss {mean_loss:.3g} (first "
                                  f"mini-batch {first_loss:.3g}). Lower the learning rate (now {rates}).")
        record = {"epoch": epoch + 1, "loss": mean_loss, "steps": steps, **(after_epoch(epoch) if after_epoch else {})}
        history.epochs.append(record)
        history.best_epoch = epoch + 1
        if keep_best is not None and record[keep_best[1]] < best:
            best, best_state = record[keep_best[1]], copy.deepcopy(keep_best[0].state_dict())
            best_epoch = epoch + 1
        bar.set_postfix(loss=f"{mean_loss:.4g}")
    if keep_best is not None and best_state is not None:
        keep_best[0].load_state_dict(best_state)
        history.best_epoch = best_epoch
    return history


def select_learning_rate(score: Callable[[float], float], grid: Sequence[float], *,
                         lower_is_better: bool = True) -> tuple[float, dict[float, float | None]]:
    """Model selection on validation data: ``score(lr)`` trains with rate lr and returns its validation score; a
    run that raises ``DivergenceError`` scores None and is never chosen. Returns (the best rate — the smaller one on
    a tie —, {lr: score}). Raises ``DivergenceError`` when every rate diverges."""
    if not grid:
        raise ValueError("the learning-rate grid is empty")
    scores: dict[float, float | None] = {}
    for lr in grid:
        try:
            scores[lr] = float(score(lr))
        except DivergenceError:
            scores[lr] = None
    finite = {lr: s for lr, s in scores.items() if s is not None and math.isfinite(s)}
    if not finite:
        raise DivergenceError(f"every learning rate diverged: {sorted(scores)}")
    sign = 1.0 if lower_is_better else -1.0
    return min(finite, key=lambda lr: (sign * finite[lr], lr)), scores


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
