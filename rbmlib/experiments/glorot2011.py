"""Glorot, Bordes & Bengio 2011, "Deep Sparse Rectifier Neural Networks": Table 1 (test error of depth-3 nets with
rectifier, tanh and softplus units, with and without denoising-auto-encoder pre-training) and the exact sparsity
of rectifier codes (§4.1).

Protocol (paper, §4.1; ``rbmlib.stack``): 3 hidden layers; greedy stacked denoising auto-encoders with masking noise
0.25, f(x̃) = W_dec·act(W_enc x̃ + b_enc) + b_dec, a softplus reconstruction layer with quadratic cost for rectifier
and softplus nets and cross-entropy for tanh nets; then supervised fine-tuning of the exported ``nn.Sequential`` plus
a softmax output layer, cost −log P(y | x); plain SGD with mini-batches of 10 in both phases; an L1 penalty 0.001 on
the hidden activations of rectifier nets in both phases. "Without pre-training" fine-tunes the same architecture
from its random (Glorot-uniform) initialisation. Learning rates come from the paper's grid {0.1, 0.01, 0.001,
0.0001}: pre-training by lowest validation reconstruction cost, fine-tuning by lowest validation error
(``select_learning_rates``). The test error is read at the fine-tuning epoch of lowest validation error.

Not used: the sign trick (half of the units' outputs multiplied by −1). For the supervised net it is a
reparametrisation, W_next·(s ⊙ h) = (W_next diag s)·h, under which SGD is equivariant and the sign-symmetric
initialisation is invariant in law, and |s ⊙ h| = |h| leaves the L1 term unchanged; it would only change the
pre-training of the layers above (whose softplus reconstruction cannot reproduce negative codes).
"""
from __future__ import annotations

import copy
import math
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..data import load_cifar10, load_mnist
from ..profiles import PROFILES, describe
from ..report import Table, Verdict, fmt, fmt_spread, load_results, save_results, verdict_table
from ..reproducibility import seed_everything
from ..stack import ACTIVATIONS, DenoisingAutoencoder, pretrain_daes, to_sequential
from ..supervised import error_rate, resolve_device
from ..train import DivergenceError

NAME = "glorot2011"
DATASETS = ("mnist", "cifar10")
ACTIVATION_ORDER = ("relu", "tanh", "softplus")
LABELS = {"relu": "Rectifier", "tanh": "Tanh", "softplus": "Softplus"}
LEARNING_RATE_GRID = (0.1, 0.01, 0.001, 0.0001)  # paper, §4.1
# Paper, Table 1, test error in %: (data set, activation, pre-trained) → error.
PAPER_TABLE1 = {
    ("mnist", "relu", True): 1.20, ("mnist", "tanh", True): 1.16, ("mnist", "softplus", True): 1.17,
    ("mnist", "relu", False): 1.43, ("mnist", "tanh", False): 1.57, ("mnist", "softplus", False): 1.77,
    ("cifar10", "relu", True): 49.96, ("cifar10", "tanh", True): 50.79, ("cifar10", "softplus", True): 49.52,
    ("cifar10", "relu", False): 50.86, ("cifar10", "tanh", False): 52.62, ("cifar10", "softplus", False): 53.20,
    ("nistp", "relu", True): 32.86, ("nistp", "tanh", True): 35.89, ("nistp", "softplus", True): 33.27,
    ("nistp", "relu", False): 32.64, ("nistp", "tanh", False): 36.46, ("nistp", "softplus", False): 35.48,
    ("norb", "relu", True): 16.46, ("norb", "tanh", True): 17.66, ("norb", "softplus", True): 19.19,
    ("norb", "relu", False): 16.40, ("norb", "tanh", False): 19.29, ("norb", "softplus", False): 17.68,
}
# Paper, §4.1: average exact sparsity (fraction of true zeros in the hidden layers) of the rectifier nets.
PAPER_SPARSITY = {"mnist": 0.834, "cifar10": 0.720, "nistp": 0.680, "norb": 0.738}
UNAVAILABLE = {
    "nistp": "not public: NISTP was never released",
    "norb": "no data: Jittered-Cluttered NORB is not in the offline data (shared/data/SOURCES.md)",
}
# Verdict tolerances, fixed before any run (percentage points of test error; fraction of exact zeros).
TOLERANCE_PP = {"mnist": 1.0, "cifar10": 2.0}
PRETRAINING_GAIN_TOLERANCE_PP = {"mnist": 0.5, "cifar10": 1.0}
SPARSITY_FLOOR = 0.5
# tanh and softplus are never 0 in exact arithmetic; in float32 softplus(x) underflows to exactly 0 below x ≈ −104.
NON_RECTIFIER_ZEROS_CEILING = 0.01
HISTOGRAM_BINS = 40


@dataclass(frozen=True)
class Split:
    """Images of one data set: ``n_train`` training images, ``n_valid`` validation images taken from the training
    set's remainder (``valid_from="train"``) or from the test set (``"test"``, the rest being the test set);
    ``n_test`` test images (None: all). Subsets are drawn once with ``Config.subset_seed``."""

    n_train: int | None
    n_valid: int
    n_test: int | None = None
    valid_from: str = "train"


@dataclass(frozen=True)
class Config:
    profile: str = "ci"
    datasets: tuple[str, ...] = DATASETS
    activations: tuple[str, ...] = ACTIVATION_ORDER
    seeds: tuple[int, ...] = (0, 1, 2)
    splits: dict = field(default_factory=lambda: {"mnist": Split(5000, 2000), "cifar10": Split(5000, 2000)})
    hidden_sizes: tuple[int, ...] = (256, 256, 256)
    batch_size: int = 10  # paper, both phases
    corruption: float = 0.25  # masking noise, paper
    l1_activation: dict = field(default_factory=lambda: {"relu": 1e-3, "tanh": 0.0, "softplus": 0.0})
    pretrain_epochs: int = 2  # per layer; the paper states none
    finetune_epochs: int = 6  # the paper states none
    select_learning_rates: bool = False  # True: pick from LEARNING_RATE_GRID on the validation split (seed 0)
    # ci: fixed a priori from the paper's grid, not selected (the search costs ~6× the ci budget): 0.01 for
    # pre-training (the costs sum over up to 3,072 inputs, so 0.1 risks divergence), 0.1 for fine-tuning (few epochs).
    pretrain_lr: dict = field(default_factory=lambda: {"relu": 0.01, "tanh": 0.01, "softplus": 0.01})
    finetune_lr: dict = field(default_factory=lambda: {
        "relu": {True: 0.1, False: 0.1}, "tanh": {True: 0.1, False: 0.1}, "softplus": {True: 0.1, False: 0.1}})
    subset_seed: int = 0
    histogram_images: int = 1000  # test images whose codes make the activation histograms
    device: str = "cpu"  # "cpu", "cuda" or "auto"

    @classmethod
    def for_profile(cls, profile: str) -> "Config":
        if profile == "ci":
            return cls()
        if profile == "paper":
            return cls(profile="paper", seeds=(0, 1, 2),
                       splits={"mnist": Split(50_000, 10_000), "cifar10": Split(None, 5000, valid_from="test")},
                       hidden_sizes=(1000, 1000, 1000), pretrain_epochs=10, finetune_epochs=50,
                       select_learning_rates=True, device="auto")
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")

    def __post_init__(self):
        if not self.datasets or any(d not in DATASETS for d in self.datasets):
            raise ValueError(f"datasets must be a non-empty subset of {DATASETS}, got {self.datasets}")
        if not self.activations or any(a not in ACTIVATIONS for a in self.activations):
            raise ValueError(f"activations must be a non-empty subset of {tuple(ACTIVATIONS)}, got {self.activations}")
        if not self.seeds:
            raise ValueError("seeds is empty")
        for name in ("batch_size", "pretrain_epochs", "finetune_epochs", "histogram_images"):
            if getattr(self, name) < 1:
                raise ValueError(f"Config.{name} must be >= 1, got {getattr(self, name)}")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ValueError(f"hidden_sizes must be positive widths, got {self.hidden_sizes}")
        if not 0 <= self.corruption < 1:
            raise ValueError(f"corruption must be in [0, 1), got {self.corruption}")
        for d in self.datasets:
            split = self.splits.get(d)
            if split is None or split.n_valid < 1 or split.valid_from not in ("train", "test"):
                raise ValueError(f"splits[{d!r}] must be a Split with n_valid >= 1 and valid_from 'train' or "
                                 f"'test', got {split}")
        for a in self.activations:
            if not (self.pretrain_lr.get(a, 0) > 0 and all(self.finetune_lr.get(a, {}).get(p, 0) > 0
                                                            for p in (True, False))):
                raise ValueError(f"pretrain_lr[{a!r}] and finetune_lr[{a!r}][True/False] must be > 0")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")

    def torch_device(self) -> torch.device:
        return resolve_device(self.device)


# data ----------------------------------------------------------------------------------------------------------
def load_split(dataset: str, split: Split, subset_seed: int = 0) -> dict:
    """Flattened images in [0, 1] and labels: {"train", "valid", "test"} → (X, y), plus "variant"."""
    if dataset == "mnist":
        (x_train, y_train), (x_test, y_test), variant = load_mnist(True), load_mnist(False), "MNIST"
    elif dataset == "cifar10":
        x_train, y_train, variant = load_cifar10(True)
        x_test, y_test, _ = load_cifar10(False)
        x_train, x_test = x_train.flatten(1), x_test.flatten(1)
    else:
        raise ValueError(f"unknown data set {dataset!r}; choose one of {DATASETS}")
    g = torch.Generator().manual_seed(subset_seed)
    train_order, test_order = torch.randperm(len(x_train), generator=g), torch.randperm(len(x_test), generator=g)
    if split.valid_from == "train":
        n_train = split.n_train if split.n_train is not None else len(x_train) - split.n_valid
        if n_train + split.n_valid > len(x_train):
            raise ValueError(f"{dataset}: {n_train} + {split.n_valid} images exceed the {len(x_train)} training images")
        train, valid = train_order[:n_train], train_order[n_train:n_train + split.n_valid]
        test = test_order[:split.n_test]
        out = {"train": (x_train[train], y_train[train]), "valid": (x_train[valid], y_train[valid])}
    else:
        if split.n_valid >= len(x_test):
            raise ValueError(f"{dataset}: n_valid={split.n_valid} leaves no test images")
        train, valid = train_order[:split.n_train], test_order[:split.n_valid]
        test = test_order[split.n_valid:][:split.n_test]
        out = {"train": (x_train[train], y_train[train]), "valid": (x_test[valid], y_test[valid])}
    out["test"] = (x_test[test], y_test[test])
    out["variant"] = variant
    return out


# networks and fine-tuning ------------------------------------------------------------------------------------------
def hidden_codes(net: nn.Sequential, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The outputs of the hidden activation modules of ``net`` and its final output (the logits)."""
    codes = []
    for module in net:
        x = module(x)
        if isinstance(module, tuple(ACTIVATIONS.values())):
            codes.append(x)
    return codes, x


def make_net(n_in: int, sizes, activation: str, n_classes: int, generator: torch.Generator, device,
             daes: list[DenoisingAutoencoder] | None = None) -> nn.Sequential:
    """``to_sequential`` of pre-trained DAEs, or of freshly (Glorot-uniform) initialised ones, plus a softmax layer
    (Linear, Glorot-uniform weights, zero bias; the softmax is in the cost)."""
    if daes is None:
        widths = (n_in, *sizes)
        daes = [DenoisingAutoencoder(widths[k], widths[k + 1], activation, generator=generator, device=device)
                for k in range(len(sizes))]
    head = nn.Linear(sizes[-1], n_classes, device=device)
    with torch.no_grad():
        nn.init.xavier_uniform_(head.weight, generator=generator)
        head.bias.zero_()
    return to_sequential(daes, head)


@torch.no_grad()
def exact_zero_fractions(net: nn.Sequential, x: torch.Tensor, batch_size: int = 1000) -> list[float]:
    """Per hidden layer, the fraction of activations that are exactly 0 over the rows of x (paper, §4.1)."""
    zeros = None
    for i in range(0, len(x), batch_size):
        counts = [(h == 0).sum().item() for h in hidden_codes(net, x[i:i + batch_size])[0]]
        zeros = counts if zeros is None else [a + b for a, b in zip(zeros, counts)]
    widths = [h.shape[1] for h in hidden_codes(net, x[:1])[0]]
    return [z / (len(x) * w) for z, w in zip(zeros, widths)]


def fine_tune(net: nn.Sequential, train, valid, *, epochs: int, batch_size: int, learning_rate: float,
              l1_activation: float, generator: torch.Generator) -> dict:
    """Plain SGD on −log P(y | x) + l1_activation · Σ_layers Σ_j |h_j| (mini-batch mean); keeps the parameters of
    the epoch with the lowest validation error. Returns the per-epoch history and the best epoch."""
    (x, y), (x_valid, y_valid) = train, valid
    optimiser = torch.optim.SGD(net.parameters(), lr=learning_rate)
    best_error, best_state, history = math.inf, None, []
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=generator, device=generator.device).to(x.device)
        total = torch.zeros((), device=x.device)
        for first in range(0, len(x), batch_size):
            index = order[first:first + batch_size]
            codes, logits = hidden_codes(net, x[index])
            loss = F.cross_entropy(logits, y[index])
            if l1_activation > 0:
                loss = loss + l1_activation * sum(h.abs().sum(1).mean() for h in codes)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.detach() * len(index)
        mean_loss = total.item() / len(x)
        if not math.isfinite(mean_loss):
            raise DivergenceError(f"fine-tuning diverged in epoch {epoch + 1}: non-finite loss. Lower the learning "
                                  f"rate (now {learning_rate:g}).")
        valid_error = error_rate(net, x_valid, y_valid)
        history.append({"epoch": epoch + 1, "loss": mean_loss, "valid_error": valid_error})
        if valid_error < best_error:
            best_error, best_state = valid_error, copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    return {"history": history, "best_epoch": min(history, key=lambda r: r["valid_error"])["epoch"],
            "valid_error": best_error}


def _pretrain(config: Config, data: dict, activation: str, learning_rate: float, generator, sizes=None):
    return pretrain_daes(data["train"][0], sizes or config.hidden_sizes, activation, epochs=config.pretrain_epochs,
                         learning_rate=learning_rate, batch_size=config.batch_size, corruption=config.corruption,
                         l1_activation=config.l1_activation[activation], generator=generator, progress=False)


def with_fallback(fit, learning_rate: float):
    """``fit(learning_rate)``; if it diverges, the next smaller rate of the paper's grid, and so on (a diverging
    rate has an infinite validation cost, so the paper's selection rule would never pick it). Returns (fit's
    value, the rate used); re-raises when every rate diverges."""
    rates = [learning_rate] + [r for r in LEARNING_RATE_GRID if r < learning_rate]
    for rate in rates:
        try:
            return fit(rate), rate
        except DivergenceError:
            if rate == rates[-1]:
                raise


def train_one(config: Config, data: dict, activation: str, pretrained: bool, seed: int, device,
              pretrain_lr: float, finetune_lr: float) -> dict:
    """One net: (pre-training), fine-tuning, test error, exact zeros per layer, and its activation histograms.
    A diverging phase is rerun with the next smaller learning rate of the grid (``with_fallback``)."""
    seed_everything(seed, threads=1)
    generator = torch.Generator(device).manual_seed(seed)
    daes = None
    if pretrained:
        daes, pretrain_lr = with_fallback(lambda lr: _pretrain(config, data, activation, lr, generator), pretrain_lr)

    def fit(lr):
        net = make_net(data["train"][0].shape[1], config.hidden_sizes, activation, 10, generator, device, daes)
        return net, fine_tune(net, data["train"], data["valid"], epochs=config.finetune_epochs,
                              batch_size=config.batch_size, learning_rate=lr,
                              l1_activation=config.l1_activation[activation], generator=generator)

    (net, tuned), finetune_lr = with_fallback(fit, finetune_lr)
    x_test, y_test = data["test"]
    with torch.no_grad():
        codes = hidden_codes(net, x_test[:config.histogram_images])[0]
    histograms = []
    for h in codes:
        low, high = min(0.0, h.min().item()), max(h.max().item(), 1e-6)
        counts = torch.histc(h.float().cpu(), bins=HISTOGRAM_BINS, min=low, max=high)
        histograms.append({"low": low, "high": high, "counts": counts.tolist(),
                           "exact_zeros": (h == 0).float().mean().item()})
    return {"test_error": error_rate(net, x_test, y_test), "valid_error": tuned["valid_error"],
            "best_epoch": tuned["best_epoch"], "finetune_history": tuned["history"],
            "zero_fraction": exact_zero_fractions(net, x_test), "histograms": histograms,
            "pretrain_lr": pretrain_lr if pretrained else None, "finetune_lr": finetune_lr}


def select_learning_rates(config: Config, data: dict, activation: str, device, seed: int) -> dict:
    """The paper's rule on its grid, with seed ``seed``: the pre-training rate with the lowest validation denoising
    cost of the first layer, then for each condition the fine-tuning rate with the lowest validation error.
    Diverging rates are skipped. Returns {"pretrain": lr, True: lr, False: lr, "scores": ...}."""
    scores = {"pretrain": {}, True: {}, False: {}}
    for lr in LEARNING_RATE_GRID:
        generator = torch.Generator(device).manual_seed(seed)
        try:
            (dae,) = _pretrain(config, data, activation, lr, generator, sizes=config.hidden_sizes[:1])
            with torch.no_grad():
                scores["pretrain"][lr] = dae.loss(data["valid"][0], torch.Generator(device).manual_seed(seed)).item()
        except DivergenceError:
            scores["pretrain"][lr] = math.inf
    chosen = {"pretrain": min(scores["pretrain"], key=scores["pretrain"].get)}
    for pretrained in (True, False):
        for lr in LEARNING_RATE_GRID:
            try:
                tried = train_one(config, data, activation, pretrained, seed, device, chosen["pretrain"], lr)
                scores[pretrained][lr] = tried["valid_error"] if tried["finetune_lr"] == lr else math.inf
            except DivergenceError:
                scores[pretrained][lr] = math.inf
        chosen[pretrained] = min(scores[pretrained], key=scores[pretrained].get)
    chosen["scores"] = {str(k): {str(lr): s for lr, s in v.items()} for k, v in scores.items()}
    return chosen


def run(config: Config, progress: bool = True) -> "Result":
    """Train every (data set, activation, pre-trained or not, seed) net; save the JSON; return the Result."""
    start = time.perf_counter()
    device = config.torch_device()
    seed_everything(config.seeds[0], threads=1)
    runs = [(d, a, s) for d in config.datasets for a in config.activations for s in config.seeds]
    results = {"config": _jsonable(asdict(config)), "datasets": {}}
    bar = tqdm(total=len(runs) * 2, desc=f"glorot2011 ({config.profile})", file=sys.stdout,
               disable=not progress, mininterval=2.0)
    for dataset in config.datasets:
        data = load_split(dataset, config.splits[dataset], config.subset_seed)
        data = {k: (v[0].to(device), v[1].to(device)) if k != "variant" else v for k, v in data.items()}
        entry = {"variant": data["variant"], "sizes": {k: len(data[k][0]) for k in ("train", "valid", "test")},
                 "runs": {}, "learning_rates": {}}
        for activation in config.activations:
            if config.select_learning_rates:
                rates = select_learning_rates(config, data, activation, device, config.seeds[0])
            else:
                rates = {"pretrain": config.pretrain_lr[activation], **config.finetune_lr[activation]}
            entry["learning_rates"][activation] = {str(k): v for k, v in rates.items()}
            for pretrained in (True, False):
                key = f"{activation}/{'pretrained' if pretrained else 'random'}"
                entry["runs"][key] = []
                for seed in config.seeds:
                    entry["runs"][key].append(train_one(config, data, activation, pretrained, seed, device,
                                                        rates["pretrain"], rates[pretrained]))
                    bar.update(1)
        results["datasets"][dataset] = entry
    bar.close()
    wall = time.perf_counter() - start
    result = Result(results, config.profile, wall)
    save_results(NAME, config.profile, results, verdicts=result.verdict_list(),
                 title="Glorot, Bordes & Bengio 2011: deep sparse rectifier networks", seeds=list(config.seeds),
                 wall_time_s=wall)
    return result


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# the result: tables, verdicts, figures ----------------------------------------------------------------------------
def _mean_std(values) -> tuple[float, float]:
    t = torch.tensor(values, dtype=torch.float64)
    return t.mean().item(), (t.std().item() if len(values) > 1 else 0.0)


class Result:
    """Numbers of one run (``run``) or of a saved JSON (``Result.load``), with the tables, verdicts and figures."""

    def __init__(self, results: dict, profile: str, wall_time_s: float | None = None):
        self.results, self.profile, self.wall_time_s = results, profile, wall_time_s
        self.datasets = list(results["datasets"])

    @classmethod
    def load(cls, profile: str) -> "Result | None":
        saved = load_results(NAME, profile)
        if saved is None:
            return None
        return cls(saved["results"], profile, saved["provenance"].get("wall_time_s"))

    def _runs(self, dataset: str, activation: str, pretrained: bool) -> list[dict]:
        return self.results["datasets"][dataset]["runs"].get(
            f"{activation}/{'pretrained' if pretrained else 'random'}", [])

    def errors(self, dataset: str, activation: str, pretrained: bool) -> list[float]:
        return [r["test_error"] for r in self._runs(dataset, activation, pretrained)]

    def mean_zero_fraction(self, dataset: str, activation: str, pretrained: bool) -> list[float]:
        """Per seed, the average over hidden layers of the fraction of exact zeros."""
        return [sum(r["zero_fraction"]) / len(r["zero_fraction"]) for r in self._runs(dataset, activation, pretrained)]

    def _label(self, dataset: str) -> str:
        return self.results["datasets"][dataset]["variant"]

    def _n_seeds(self) -> int:
        return len(self.results["config"]["seeds"])

    def _caption(self, what: str) -> str:
        cfg = self.results["config"]
        sizes = "; ".join(f"{self._label(d)}: {s['sizes']['train']:,} train / {s['sizes']['valid']:,} valid / "
                          f"{s['sizes']['test']:,} test" for d, s in self.results["datasets"].items())
        return (f"{what}: {len(cfg['hidden_sizes'])}×{cfg['hidden_sizes'][0]} hidden units, "
                f"{cfg['pretrain_epochs']} pre-training epochs per layer, {cfg['finetune_epochs']} fine-tuning "
                f"epochs, mean ± std over {self._n_seeds()} seeds ({sizes}) — {describe(self.profile)}")

    def table1(self) -> Table:
        header = ["neuron", "pre-training"]
        for d in self.datasets:
            header += [f"{self._label(d)} paper", f"{self._label(d)} ours"]
        header += ["NISTP paper", "NISTP ours", "NORB paper", "NORB ours"]
        rows = []
        for pretrained in (True, False):
            for a in ACTIVATION_ORDER:
                row = [LABELS[a], "yes" if pretrained else "no"]
                for d in self.datasets:
                    errors = self.errors(d, a, pretrained)
                    row += [fmt(PAPER_TABLE1[(d, a, pretrained)]) + "%",
                            fmt_spread(*_mean_std(errors), percent=True) if errors else "not run"]
                for d in ("nistp", "norb"):
                    row += [fmt(PAPER_TABLE1[(d, a, pretrained)]) + "%", UNAVAILABLE[d].split(":")[0]]
                rows.append(row)
        return Table(header, rows, caption=self._caption("Table 1, test error of depth-3 nets"))

    def differences_table(self) -> Table:
        """Paired (same seed) differences of test error, paper beside ours, in percentage points."""
        rows = []
        for d in self.datasets:
            for pretrained in (True, False):
                for other in ("tanh", "softplus"):
                    ours = [r - o for r, o in zip(self.errors(d, "relu", pretrained),
                                                  self.errors(d, other, pretrained))]
                    paper = PAPER_TABLE1[(d, "relu", pretrained)] - PAPER_TABLE1[(d, other, pretrained)]
                    rows.append([self._label(d), f"rectifier − {LABELS[other].lower()}, "
                                 f"{'with' if pretrained else 'without'} pre-training",
                                 fmt(paper, signed=True), _pp_spread(ours)])
            for a in ACTIVATION_ORDER:
                ours = [n - p for n, p in zip(self.errors(d, a, False), self.errors(d, a, True))]
                paper = PAPER_TABLE1[(d, a, False)] - PAPER_TABLE1[(d, a, True)]
                rows.append([self._label(d), f"{LABELS[a].lower()}: gain from pre-training (without − with)",
                             fmt(paper, signed=True), _pp_spread(ours)])
        return Table(["data", "difference of test error (pp)", "paper", "ours"], rows,
                     caption=self._caption("Differences of test error, paired by seed"))

    def sparsity_table(self) -> Table:
        rows = []
        for d in self.datasets:
            layers = len(self._runs(d, "relu", True)[0]["zero_fraction"]) if self._runs(d, "relu", True) else 0
            for k in list(range(layers)) + ["average"]:
                row = [self._label(d), f"layer {k + 1}" if k != "average" else "average",
                       fmt(PAPER_SPARSITY[d], 1, percent=True) if k == "average" else "—"]
                for a, pretrained in (("relu", True), ("relu", False), ("tanh", True), ("softplus", True)):
                    values = (self.mean_zero_fraction(d, a, pretrained) if k == "average"
                              else [r["zero_fraction"][k] for r in self._runs(d, a, pretrained)])
                    row.append(fmt_spread(*_mean_std(values), digits=1, percent=True) if values else "not run")
                rows.append(row)
        return Table(["data", "hidden layer", "paper (rectifier)", "rectifier, pre-trained", "rectifier, random init",
                      "tanh, pre-trained", "softplus, pre-trained"], rows,
                     caption=self._caption("Exact sparsity: % of hidden activations exactly 0 on the test images"))

    def learning_rates_table(self) -> Table:
        """The rates set per activation and those the runs used (lower where a rate diverged)."""
        def used(d, a, pretrained, key):
            rates = sorted({run[key] for run in self._runs(d, a, pretrained)}, reverse=True)
            return ", ".join(fmt(r, 4) for r in rates)

        rows = []
        for d in self.datasets:
            for a, rates in self.results["datasets"][d]["learning_rates"].items():
                rows.append([self._label(d), LABELS[a], fmt(rates["pretrain"], 4), used(d, a, True, "pretrain_lr"),
                             fmt(rates["True"], 4), used(d, a, True, "finetune_lr"), fmt(rates["False"], 4),
                             used(d, a, False, "finetune_lr")])
        return Table(["data", "neuron", "pre-training lr set", "used", "fine-tuning lr set (pre-trained)", "used",
                      "fine-tuning lr set (random init)", "used"], rows,
                     caption=f"Learning rates (from the paper's grid), as set and as used by the seeds (a diverging "
                             f"rate is replaced by the next smaller one) — {describe(self.profile)}")

    def verdicts(self) -> Table:
        return verdict_table(self.verdict_list(), caption=f"Verdicts — {describe(self.profile)}")

    def verdict_list(self) -> list[Verdict]:
        verdicts = []
        for d in self.datasets:
            tol = TOLERANCE_PP[d]
            gaps, ok = [], True
            for pretrained in (True, False):
                relu = _mean_std(self.errors(d, "relu", pretrained))[0] * 100
                best = min(_mean_std(self.errors(d, a, pretrained))[0] * 100 for a in ("tanh", "softplus"))
                gaps.append(f"{'with' if pretrained else 'without'}: {fmt(relu - best, signed=True)} pp")
                ok &= relu <= best + tol
            verdicts.append(Verdict(
                f"{self._label(d)}: rectifier nets are as good as or better than tanh and softplus nets (Table 1)",
                f"mean rectifier error ≤ the better of tanh/softplus + {tol:g} pp, with and without pre-training",
                "rectifier − better other: " + "; ".join(gaps), ok))
        for d in self.datasets:
            tol = PRETRAINING_GAIN_TOLERANCE_PP[d]
            gain = {a: (_mean_std(self.errors(d, a, False))[0] - _mean_std(self.errors(d, a, True))[0]) * 100
                    for a in ACTIVATION_ORDER}
            verdicts.append(Verdict(
                f"{self._label(d)}: unsupervised pre-training matters less for rectifier nets than for tanh and "
                f"softplus nets (Table 1)",
                f"rectifier's gain (error without − with) ≤ the smaller of tanh's and softplus's gains "
                f"+ {tol:g} pp",
                "gains: " + ", ".join(f"{LABELS[a].lower()} {fmt(g, signed=True)} pp" for a, g in gain.items()),
                gain["relu"] <= min(gain["tanh"], gain["softplus"]) + tol))
        for d in self.datasets:
            relu = min(_mean_std(self.mean_zero_fraction(d, "relu", p))[0] for p in (True, False))
            others = max(_mean_std(self.mean_zero_fraction(d, a, p))[0] for a in ("tanh", "softplus")
                         for p in (True, False))
            verdicts.append(Verdict(
                f"{self._label(d)}: rectifier codes are sparse, {fmt(PAPER_SPARSITY[d], 1, percent=True)} exact zeros "
                f"on average (§4.1), while tanh and softplus codes have none",
                f"rectifier average ≥ {fmt(SPARSITY_FLOOR, 0, percent=True)} (both conditions); tanh and softplus "
                f"≤ {fmt(NON_RECTIFIER_ZEROS_CEILING, 0, percent=True)} (float32 underflow aside, they are never 0)",
                f"rectifier ≥ {fmt(relu, 1, percent=True)}; tanh/softplus ≤ {fmt(others, 2, percent=True)}",
                relu >= SPARSITY_FLOOR and others <= NON_RECTIFIER_ZEROS_CEILING))
        verdicts.append(Verdict("NISTP and NORB columns of Table 1", "—",
                                f"NISTP {UNAVAILABLE['nistp']}; NORB {UNAVAILABLE['norb']}", None))
        verdicts.append(Verdict("Table 2: rectifier DAEs on OpenTable sentiment reviews (RMSE, sparsity)", "—",
                                "the OpenTable reviews are not public and there is no network here", None))
        return verdicts

    def histograms_figure(self, dataset: str, seed_index: int = 0):
        """Histograms of the hidden codes of the pre-trained nets (first seed) on test images, log counts."""
        import matplotlib.pyplot as plt

        runs = {a: self._runs(dataset, a, True)[seed_index] for a in ACTIVATION_ORDER}
        n_layers = len(runs["relu"]["histograms"])
        fig, axes = plt.subplots(len(runs), n_layers, figsize=(3.2 * n_layers, 2.2 * len(runs)), squeeze=False)
        for i, (a, r) in enumerate(runs.items()):
            for k, hist in enumerate(r["histograms"]):
                edges = torch.linspace(hist["low"], hist["high"], HISTOGRAM_BINS + 1)
                ax = axes[i][k]
                ax.bar(edges[:-1].tolist(), hist["counts"], width=(edges[1] - edges[0]).item(), align="edge",
                       color="C0" if a == "relu" else "C1" if a == "tanh" else "C2")
                ax.set_yscale("log")
                ax.set_title(f"{LABELS[a]}, layer {k + 1}: {fmt(hist['exact_zeros'], 1, percent=True)} exact zeros",
                             fontsize=9)
        fig.suptitle(f"{self._label(dataset)}: hidden activations of the pre-trained nets on test images "
                     f"({describe(self.profile).split(':')[0]})", fontsize=10)
        fig.tight_layout()
        return fig


def _pp_spread(differences: list[float]) -> str:
    if not differences:
        return "not run"
    mean, std = _mean_std(differences)
    return f"{100 * mean:+.2f} ± {100 * std:.2f}"


def paper_profile_tables() -> list[Table] | str:
    """Table 1, differences and sparsity of the saved ``paper`` profile run, or a sentence saying it has not run."""
    result = Result.load("paper")
    if result is None:
        return ("The `paper` profile (3×1000 units, all training images, the paper's learning-rate grid) has not been "
                "run: no GPU was available. Run it with `RBMBOOK_PROFILE=paper`; its results will appear here.")
    return [result.table1(), result.differences_table(), result.sparsity_table(), result.learning_rates_table(),
            result.verdicts()]
