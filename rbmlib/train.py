"""Training an RBM by stochastic gradient ascent on the log-likelihood, with the tricks of Hinton's practical guide.

For each mini-batch of n examples (Hinton 2010, §§3–10):

    ĝ_W = v_dataᵀ E[h | v_data] / n − v_modelᵀ E[h | v_model] / m    (the CD / PCD estimate of ∂ log p / ∂W)
    ĝ_b = mean(v_data) − mean(v_model),   ĝ_c = mean(E[h | v_data]) − mean(E[h | v_model])
    Δθ ← μ Δθ + ε (ĝ_θ − λ θ)    with weight decay λ on W only (§10), momentum μ (§9), learning rate ε (§7)
    θ  ← θ + Δθ

v_model comes from a sampler (``rbmlib.samplers``): m = n rows for CD, one row per persistent chain for PCD (each
phase's statistic is the mean over its own rows, also when the chains outnumber a short last batch). An optional
sparsity target t (§11) adds −κ (q − t) to ĝ_c and −κ mean(v_data) ⊗ (q − t) to ĝ_W, with q an exponentially
decaying mean of E[h | v_data].
"""
from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from .estimators import reconstruction_error
from .rbm import RBM
from .samplers import CD
from .units import Bernoulli, NReLU, SteppedSigmoid, Units

SCHEDULES = ("constant", "linear")


class DivergenceError(RuntimeError):
    """Training produced non-finite values: the message says when, in which statistic, and what to change."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of RBM training (names follow Hinton's practical guide); invalid values raise ValueError.

    Parameters
    ----------
    epochs, batch_size : int
        Passes over the data, and examples per update (for a tensor or array given to ``Trainer.fit``).
    learning_rate : float
        ε; with ``learning_rate_schedule="linear"`` it falls as ε·(1 − epoch/epochs).
    initial_momentum, final_momentum : float
        μ before and from ``momentum_switch_epoch`` on.
    weight_decay : float
        λ, an L2 penalty on W only.
    sparsity_target, sparsity_cost, sparsity_decay : float
        t, κ and the decay of the running mean q of the hidden activities (guide §11); no penalty if t is None.
    """

    epochs: int = 10
    batch_size: int = 100
    learning_rate: float = 0.1
    learning_rate_schedule: str = "constant"  # "linear": ε·(1 − epoch/epochs), lowered towards the end (§7)
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


# inputs -----------------------------------------------------------------------------------------------------
def _support(units: Units) -> tuple[float, float, str]:
    """The interval a visible unit's values lie in, and the fix to name for data outside it."""
    if isinstance(units, Bernoulli):  # binary values, or probabilities as in Hinton's guide §3.2
        return 0.0, 1.0, ("scale the data into [0, 1] (e.g. x / 255 for 8-bit images, or scikit-learn's "
                          "MinMaxScaler), or use Gaussian visible units for real-valued data")
    if isinstance(units, (NReLU, SteppedSigmoid)):
        return 0.0, math.inf, "shift the data to be non-negative, or use Gaussian visible units"
    return -math.inf, math.inf, ""


def as_rows(x, rbm: RBM, what: str = "data") -> torch.Tensor:
    """``x`` as an (N, n_visible) tensor of the RBM's dtype on its device, checked for ``Trainer.fit``.

    ``x``: a tensor (on the RBM's device), or a NumPy array or anything with ``__array__`` (moved to the device).
    Images (N, H, W) or (N, C, H, W) are flattened. Floats are converted to the RBM's dtype (float64 data are
    rounded to a float32 model's precision, the precision of its arithmetic); bool and integer data are converted
    when every value is exact in that dtype (magnitudes up to 2^24 for float32), refused otherwise, as are complex data.
    Refused too: no rows, NaN or ±inf, and values outside the visible units' support (Bernoulli: [0, 1]; NReLU and
    stepped sigmoid: [0, ∞)). A tensor already of the RBM's dtype, 2-D and on its device is returned as it is.
    """
    weight = rbm.weight
    if not isinstance(x, torch.Tensor):
        if not hasattr(x, "__array__"):
            raise TypeError(f"{what} is a {type(x).__name__}: pass a tensor, a NumPy array, or an iterable of "
                            f"batches (e.g. a torch DataLoader; (x, y) batches are used as x)")
        array = np.asarray(x)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"{what} has dtype {array.dtype}: it must be numeric (bool, integer or float)")
        x = torch.from_numpy(array if array.flags.writeable else array.copy()).to(weight.device)
    if x.device != weight.device:
        raise ValueError(f"{what} is on {x.device} but the RBM is on {weight.device}: move one of them "
                         f"(x.to({str(weight.device)!r}) or rbm.to(...) before building the Trainer)")
    if x.ndim < 2:
        raise ValueError(f"{what} must have shape (N, {rbm.n_visible}) or be (N, ...) images, one example per row; "
                         f"got shape {tuple(x.shape)} (a single example? add a batch dimension, x[None]; a Dataset? "
                         f"batch it with torch.utils.data.DataLoader)")
    shape, x = tuple(x.shape), x.flatten(1)
    if x.shape[1] != rbm.n_visible:
        raise ValueError(f"{what} must have shape (N, {rbm.n_visible}) or be images of {rbm.n_visible} pixels, "
                         f"got shape {shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{what} has no rows")
    if x.is_complex():
        raise TypeError(f"{what} is {x.dtype}: complex values cannot be represented in {weight.dtype}")
    converted = x.dtype != weight.dtype
    if x.is_floating_point() or x.dtype == torch.bool:
        x = x.to(weight.dtype)
    low, high = torch.stack(torch.aminmax(x)).tolist()  # one fast pass; min and max propagate NaN
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{what} contains NaN or infinite values"
                         + (f" (once converted to {weight.dtype})" if converted else ""))
    if not x.is_floating_point():  # integers: exact in the model's dtype up to 2^(mantissa bits + 1)
        exact = 2 / torch.finfo(weight.dtype).eps
        if max(-low, high) > exact:
            raise ValueError(f"{what} is {x.dtype} with values in [{low}, {high}], not all exact in {weight.dtype} "
                             f"(|x| <= {exact:.0f}): scale the data, or use a float64 model (rbm.double())")
        x = x.to(weight.dtype)
    lower, upper, fix = _support(rbm.visible)
    if low < lower or high > upper:
        raise ValueError(f"{rbm.visible!r} visible units take values in [{lower:g}, {upper:g}], but {what} range "
                         f"over [{low:g}, {high:g}]: {fix}")
    return x


class Trainer:
    """Trains an ``RBM`` with a sampler and a ``TrainConfig``; resumable through ``state_dict``.

    ``fit(data)`` trains until ``config.epochs`` epochs are done (continuing from ``epoch_`` after a resume).
    ``callbacks`` are called as ``callback(trainer, record)`` after every epoch. Learned/accumulated state:
    ``epoch_`` (epochs done) and ``history_`` (one dict per epoch: epoch, reconstruction_error, learning_rate,
    momentum, seconds).

    Parameters
    ----------
    rbm : rbmlib.rbm.RBM
        The model, updated in place. Convert it (``rbm.double()``, ``rbm.to(device)``) before building its Trainer.
    config : TrainConfig
        Hyper-parameters.
    sampler : rbmlib.samplers.CD, optional
        Negative phase: ``CD(k)`` (default ``CD(1)``), ``PCD(k)`` or ``FastPCD``.
    generator : torch.Generator, optional
        All the randomness of training (batch order, Gibbs sampling); default seeded with 0 on the RBM's device.
    callbacks : sequence of callables
        Called as ``callback(trainer, record)`` after every epoch.
    cuda_graphs : bool
        On a GPU, capture one update as a CUDA graph and replay it for every full mini-batch: one launch per update
        instead of ~30, the same arithmetic and the same draws from ``generator`` (weights bit-identical to the eager
        path's, checked on an H200). For ``CD(k)`` (stateless samplers) only; a graph is captured again whenever
        the learning rate, momentum or a tensor changes.
    """

    def __init__(self, rbm: RBM, config: TrainConfig, sampler: CD | None = None,
                 generator: torch.Generator | None = None, callbacks: Sequence[Callable] = (),
                 cuda_graphs: bool = False):
        self.rbm = rbm
        self.config = config
        self.sampler = sampler if sampler is not None else CD(1)
        if cuda_graphs and (rbm.weight.device.type != "cuda" or type(self.sampler) is not CD):
            raise ValueError(f"cuda_graphs=True needs an RBM on a CUDA device and a CD(k) sampler; got "
                             f"{rbm.weight.device} and {type(self.sampler).__name__} (PCD's chains persist in "
                             f"Python state that a replayed graph would not update)")
        self.cuda_graphs = cuda_graphs
        self._graph, self._graph_key, self._graph_batch = None, None, None
        self.generator = generator if generator is not None else torch.Generator(rbm.weight.device).manual_seed(0)
        self.callbacks = list(callbacks)
        self.velocity = {name: torch.zeros_like(p) for name, p in rbm.named_parameters()}
        self.hidden_activity = torch.full_like(rbm.hidden_bias, config.sparsity_target or 0.0)
        # samplers that override after_update (fast PCD) consume the gradient estimates, ĝ_W included
        self._sampler_uses_gradients = type(self.sampler).after_update is not CD.after_update
        self.epoch_ = 0
        self.history_: list[dict] = []
        # on a GPU the per-batch divergence test is summed on the device and read once per epoch
        self._defer_finite_test = rbm.weight.device.type != "cpu"
        self._finite_sum = torch.zeros((), dtype=rbm.weight.dtype, device=rbm.weight.device)

    # one update ---------------------------------------------------------------------------------------------
    def _step(self, v_data: torch.Tensor, learning_rate: float, momentum: float) -> None:
        rbm, cfg, n = self.rbm, self.config, v_data.shape[0]
        h_data, h_data_sample = rbm.hidden.mean_and_sample(rbm.hidden_input(v_data), self.generator)
        v_model = self.sampler.negative_phase(rbm, v_data, h_data_sample, self.generator)
        h_model = rbm.hidden_mean(v_model)

        grads = {"visible_bias": v_data.mean(0) - v_model.mean(0)}
        if "hidden_bias" in self.velocity:
            grads["hidden_bias"] = h_data.mean(0) - h_model.mean(0)
        # one scalar test per batch (a sum is finite iff all its terms are, barring overflow); diagnose on failure.
        # On a GPU reading it would stall the queue every batch: the sums are accumulated and read once per epoch.
        finite_test = grads["visible_bias"].sum() + h_data.sum()
        if self._defer_finite_test:
            self._finite_sum.add_(finite_test)
        elif not math.isfinite(finite_test.item()):
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
        m = v_model.shape[0]  # n for CD; the number of chains for PCD, which may differ from this batch's rows
        if self._sampler_uses_gradients and m == n:  # fast PCD's fast weights follow ĝ_W itself: form it
            grads["weight"] = torch.mm(v_data.t(), h_data).addmm_(v_model.t(), h_model, alpha=-1.0).div_(n)
        elif self._sampler_uses_gradients:  # each phase's statistic is the mean over its own rows
            grads["weight"] = torch.mm(v_data.t(), h_data).div_(n).addmm_(v_model.t(), h_model, alpha=-1.0 / m)
        if self._sampler_uses_gradients:
            if penalty is not None:
                grads["weight"].addr_(v_data.mean(0), penalty, alpha=-1.0)
            (step.mul_(beta) if beta != 1.0 else step).add_(grads["weight"], alpha=learning_rate)
        else:  # ĝ_W's two products accumulated straight into the step (β, α = ε/n, −ε/m): no 784×500 temporaries
            step.addmm_(v_data.t(), h_data, beta=beta, alpha=learning_rate / n)
            step.addmm_(v_model.t(), h_model, alpha=-learning_rate / m)
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

    def _replay_step(self, v_data: torch.Tensor, learning_rate: float, momentum: float) -> None:
        """``_step`` replayed from a CUDA graph; the first update under a new key runs eagerly (the warm-up a
        capture needs) and the graph is captured after it."""
        tensors = [self.rbm.weight, self.rbm.visible_bias, self.rbm.hidden_bias, *self.velocity.values(),
                   self.hidden_activity, self._finite_sum]
        key = (learning_rate, momentum, tuple(v_data.shape), tuple(t.data_ptr() for t in tensors))
        if key == self._graph_key:
            self._graph_batch.copy_(v_data)
            self._graph.replay()
            return
        side = torch.cuda.Stream(v_data.device)
        side.wait_stream(torch.cuda.current_stream(v_data.device))
        with torch.cuda.stream(side):
            self._step(v_data, learning_rate, momentum)
        torch.cuda.current_stream(v_data.device).wait_stream(side)
        self._graph, self._graph_batch = torch.cuda.CUDAGraph(), v_data.clone()
        self._graph.register_generator_state(self.generator)
        with torch.cuda.graph(self._graph):
            self._step(self._graph_batch, learning_rate, momentum)
        self._graph_key = key

    # the loop -----------------------------------------------------------------------------------------------
    @torch.no_grad()
    def fit(self, data, monitor=None, progress: bool = True) -> "Trainer":
        """Train until ``config.epochs`` epochs are done.

        Parameters
        ----------
        data : torch.Tensor, numpy.ndarray or iterable of batches
            One example per row, (N, n_visible), or images (N, H, W) / (N, C, H, W), flattened; checked and
            converted by :func:`as_rows` (dtype, device, the visible units' support). A tensor or array is
            shuffled every epoch with ``generator`` and cut into batches of ``config.batch_size``. Any other
            iterable (a ``torch.utils.data.DataLoader`` over any ``Dataset``) is streamed: its batches, or the
            first element of (x, y) batches, are used in its order and size (``config.batch_size`` does not
            apply; shuffle the loader), moved to the RBM's device, and the data set is never held in memory.
        monitor : optional
            Rows for the per-epoch reconstruction error in ``history_``; default: the first 1,000 rows of
            ``data`` (of an iterable: the first 1,000 rows it yields).
        progress : bool
            Show a progress bar over the epochs.

        Returns
        -------
        Trainer
            ``self``, trained.
        """
        weight, velocity = self.rbm.weight, self.velocity["weight"]
        if (weight.dtype, weight.device) != (velocity.dtype, velocity.device):
            raise RuntimeError(f"the RBM is now {weight.dtype} on {weight.device}, but this Trainer's momentum and "
                               f"sampler state are {velocity.dtype} on {velocity.device}: convert the RBM "
                               f"(rbm.double(), rbm.to(device)) before building its Trainer")
        monitor = None if monitor is None else as_rows(monitor, self.rbm, "monitor")
        if isinstance(data, torch.Tensor) or hasattr(data, "__array__"):
            data = as_rows(data, self.rbm)
            monitor = data[:1000] if monitor is None else monitor
        elif not isinstance(data, Iterable):
            raise TypeError(f"data is a {type(data).__name__}: pass a tensor, a NumPy array, or an iterable of "
                            f"batches (wrap a Dataset in torch.utils.data.DataLoader(dataset, batch_size=..., "
                            f"shuffle=True))")
        elif isinstance(data, Iterator) and self.config.epochs - self.epoch_ > 1:
            raise TypeError("data is a one-shot iterator but training has several epochs to go: pass an iterable "
                            "that can be iterated again, such as a DataLoader or a list of batches")
        first_rows = [] if monitor is None else None  # the monitor of a stream, gathered in its first epoch
        cfg = self.config
        epochs = range(self.epoch_, cfg.epochs)
        bar = tqdm(epochs, desc="RBM epochs", file=sys.stdout, disable=not progress, leave=True)
        for epoch in bar:
            start = time.perf_counter()
            lr, momentum = cfg.learning_rate_at(epoch), cfg.momentum_at(epoch)
            batches = (self._shuffled_batches(data) if isinstance(data, torch.Tensor)
                       else self._streamed_batches(data, first_rows))
            for batch in batches:
                if self.cuda_graphs and batch.shape[0] == cfg.batch_size:
                    self._replay_step(batch, lr, momentum)
                else:
                    self._step(batch, lr, momentum)
            if first_rows is not None:
                monitor, first_rows = torch.cat(first_rows), None
            self._check_parameters(lr)
            self.epoch_ = epoch + 1
            record = {"epoch": self.epoch_, "reconstruction_error": reconstruction_error(self.rbm, monitor),
                      "learning_rate": lr, "momentum": momentum, "seconds": time.perf_counter() - start}
            self.history_.append(record)
            bar.set_postfix(recon=f"{record['reconstruction_error']:.4f}")
            for callback in self.callbacks:
                callback(self, record)
        return self

    def _shuffled_batches(self, data: torch.Tensor):
        """The rows of ``data`` in a random order drawn from ``generator``, ``config.batch_size`` at a time."""
        order = torch.randperm(data.shape[0], generator=self.generator, device=self.generator.device)
        for first in range(0, data.shape[0], self.config.batch_size):
            yield data.index_select(0, order[first:first + self.config.batch_size].to(data.device))

    def _streamed_batches(self, data: Iterable, first_rows: list | None):
        """The batches of an iterable as checked rows; the first 1,000 rows also go to ``first_rows``."""
        n_rows = 0
        for batch in data:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            if isinstance(x, torch.Tensor):
                x = x.to(self.rbm.weight.device)
            x = as_rows(x, self.rbm, "a batch of data")
            if first_rows is not None and n_rows < 1000:
                first_rows.append(x[:1000 - n_rows])
            n_rows += x.shape[0]
            yield x
        if n_rows == 0:
            raise ValueError("data has no rows (the iterable yielded no batches)")

    def _check_parameters(self, learning_rate: float) -> None:
        if self._defer_finite_test and not math.isfinite(self._finite_sum.item()):
            raise DivergenceError(
                f"RBM training diverged in epoch {self.epoch_ + 1}: non-finite hidden activations or visible-bias "
                f"gradient in at least one batch (max |W| = {self.rbm.weight.abs().max().item():.3g}). Lower the "
                f"learning rate (now {learning_rate:g}) or the initial weight scale.")
        for name, p in self.rbm.named_parameters():
            if not torch.isfinite(p).all():
                raise DivergenceError(
                    f"RBM training diverged in epoch {self.epoch_ + 1}: parameter '{name}' has non-finite values. "
                    f"Lower the learning rate (now {learning_rate:g}).")

    # save / resume ------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """What a resumed run needs: RBM (with its architecture), sampler, velocities, sparsity estimate,
        generator, epoch, history and config. Save it with ``rbmlib.checkpoint.save_checkpoint``."""
        return {"rbm": self.rbm.state_dict(), "sampler": self.sampler.state_dict(),
                "velocity": {k: v.clone() for k, v in self.velocity.items()},
                "hidden_activity": self.hidden_activity.clone(), "generator": self.generator.get_state(),
                "epoch": self.epoch_, "history": list(self.history_), "config": dataclasses.asdict(self.config)}

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict()``, all or nothing: every part is first loaded into a copy, so a failure leaves
        this trainer as it was. A saved config that differs from this trainer's warns and this trainer's is kept
        (``epochs`` may differ silently: a resumed run may be extended)."""
        saved, mine = state.get("config", {}), dataclasses.asdict(self.config)
        changed = [f"{k}={saved[k]!r} saved, {v!r} here" for k, v in mine.items()
                   if k != "epochs" and k in saved and saved[k] != v]
        copy.deepcopy(self.rbm).load_state_dict(state["rbm"])
        copy.deepcopy(self.sampler).load_state_dict(state["sampler"])
        tensors = dict(state["velocity"], hidden_activity=state["hidden_activity"])
        expected = dict(self.velocity, hidden_activity=self.hidden_activity)
        if tensors.keys() != expected.keys():
            raise ValueError(f"saved velocities and sparsity estimate {sorted(tensors)}, expected {sorted(expected)}")
        for name, value in tensors.items():
            if value.shape != expected[name].shape:
                raise ValueError(f"saved {name}: shape {tuple(value.shape)}, expected {tuple(expected[name].shape)}")
        torch.Generator(self.generator.device).set_state(state["generator"])
        if changed:
            warnings.warn("this trainer's config differs from the saved one (" + "; ".join(changed) + "): "
                          "training continues with this trainer's", stacklevel=2)
        self.rbm.load_state_dict(state["rbm"])
        self.sampler.load_state_dict(state["sampler"])
        self.sampler.to(self.rbm.weight)  # chains and fast weights were made from the saved tensors
        for name, value in tensors.items():
            expected[name].copy_(value)
        self.generator.set_state(state["generator"])
        self.epoch_ = state["epoch"]
        self.history_ = list(state["history"])
