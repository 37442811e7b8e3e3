"""Nair & Hinton 2010, Tables 1 and 2: classifiers with NReLU or binary hidden units, with and without RBM
pre-training, on Jittered-Cluttered NORB — or, when NORB is not under the data root, on a named stand-in of real
images (``rbmlib.data.norb_or_standin``: CIFAR-10 in grey-scale).

Protocol, for each kind of hidden unit and each seed:

1. Standardise the training images as the paper does for NORB: subtract the per-pixel mean, divide by the average
   per-pixel standard deviation (``Standardiser(per_pixel_std=False)``), both from the training images.
2. Greedy pre-training (``rbmlib.stack.pretrain_rbms``): an RBM with Gaussian visibles and ``sizes[0]`` NReLU or
   binary hidden units, then a second RBM with ``sizes[1]`` hidden units on the first one's features (its visible
   units of the first one's hidden kind), CD-1.
3. A net of one or two hidden layers (Linear + ReLU or Sigmoid) with a multinomial logistic regression on top
   (zero-initialised), whose hidden layers start either from the pre-trained RBMs or from the RBMs' random initial
   weights N(0, weight_std²) ("no pre-training"); all layers trained by Adam on the cross-entropy.
4. Test error on the test set. Each (kind, setting) uses its own Adam learning rate, chosen from ``learning_rates``
   with the first seed on a validation split held out of the training images (pre-training sees all of them,
   without labels).
"""
from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .. import report
from ..data import Standardiser, norb_or_standin
from ..profiles import PROFILES, describe
from ..rbm import RBM
from ..reproducibility import seed_everything
from ..stack import pretrain_rbms, to_sequential
from ..supervised import error_rate, resolve_device
from ..train import DivergenceError, preset
from ..units import Gaussian
from .nair_hinton2010 import (
    HIDDEN_KINDS, activity_figure, best_learning_rate, filters_figure, fit_net, hidden_units, mean_and_standard_error,
    selection_cell,
)

NAME = "nair_hinton2010_norb"
# (hidden layers, of which pre-trained): Table 1 = one layer, Table 2 = two layers.
SETTINGS = ((1, 0), (1, 1), (2, 0), (2, 1), (2, 2))
# The paper's test error rates (%) on Jittered-Cluttered NORB, as papers.md quotes them (mostly UNVERIFIED).
PAPER = {((1, 0), "NReLU"): 17.8, ((1, 0), "binary"): 23.0, ((1, 1), "NReLU"): 16.5, ((1, 1), "binary"): 18.7,
         ((2, 0), "NReLU"): 17.6, ((2, 0), "binary"): 23.6, ((2, 1), "NReLU"): 16.5, ((2, 1), "binary"): 18.8,
         ((2, 2), "NReLU"): 15.2, ((2, 2), "binary"): 18.8}


@dataclass(frozen=True)
class Config:
    profile: str = "ci"
    n_train: int | None = 10_000  # training images, a random subset (None: all, shuffled)
    n_validation: int = 2_000  # held out of them for choosing learning rates
    n_test: int | None = None  # test images, a random subset (None: all)
    subset_seed: int = 0  # draws the subsets (the files are sorted by class: never take the first n)
    sizes: tuple[int, int] = (256, 128)  # hidden units of layers 1 and 2 (the paper: 4000, 2000)
    rbm_epochs: int = 5
    rbm_learning_rate: float = 1e-3  # Gaussian visibles: preset "gaussian_visible", used for both layers
    rbm_batch_size: int = 100
    weight_std: float = 0.01
    finetune_epochs: int = 5
    finetune_batch_size: int = 100
    learning_rates: tuple[float, ...] = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)  # Adam: each (kind, setting) picks its own
    seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "cpu"

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}")
        if len(self.sizes) != 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes must be two positive layer widths, got {self.sizes}")
        if self.n_validation < 1 or (self.n_train is not None and self.n_train <= self.n_validation):
            raise ValueError(f"need 1 <= n_validation < n_train, got {self.n_validation}, {self.n_train}")
        if not self.seeds or not self.learning_rates or min(self.learning_rates) <= 0:
            raise ValueError("seeds and learning_rates must be non-empty, learning rates positive")

    @classmethod
    def for_profile(cls, profile: str) -> "Config":
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        if profile == "paper":
            return cls(profile="paper", n_train=None, n_validation=58_428, sizes=(4000, 2000), rbm_epochs=300,
                       finetune_epochs=100, learning_rates=(1e-5, 1e-4, 1e-3), seeds=(0,), device="auto")
        return cls()


def data_name(variant: str) -> str:
    """The data's name for captions: the variant without its note on where NORB was looked for (a path that
    differs between machines and would break checked outputs)."""
    return variant.split(" — ")[0]


def random_subset(x: torch.Tensor, y: torch.Tensor, n: int | None, seed: int):
    """n examples drawn without replacement (all of them, shuffled, when n is None)."""
    if n is not None and not 1 <= n <= x.shape[0]:
        raise ValueError(f"asked for {n} examples of {x.shape[0]}")
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
    return x[order], y[order]


def build_net(layers: list[RBM], n_classes: int) -> nn.Sequential:
    """Linear + activation per RBM (``to_sequential``), then a zero-initialised softmax layer."""
    head = nn.Linear(layers[-1].n_hidden, n_classes, device=layers[-1].weight.device)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return to_sequential(layers, head=head)


def train_classifier(layers: list[RBM], x, y, n_classes: int, learning_rate: float, config: Config,
                     generator: torch.Generator) -> nn.Sequential:
    """Adam on the cross-entropy of softmax(net(x)), all layers trained."""
    net = build_net(layers, n_classes)
    fit_net([{"params": list(net.parameters()), "lr": learning_rate}],
            lambda batch: F.cross_entropy(net(x[batch]), y[batch]), x.shape[0], config.finetune_epochs,
            config.finetune_batch_size, generator, desc="classifier")
    return net.eval()


def stack_for(setting: tuple[int, int], pretrained: list[RBM], initial: list[RBM]) -> list[RBM]:
    """The hidden layers of a setting (n_layers, n_pretrained): pre-trained RBMs first, then random ones."""
    n_layers, n_pretrained = setting
    return pretrained[:n_pretrained] + initial[n_pretrained:n_layers]


def initial_layers(kind: str, n_visible: int, config: Config, generator: torch.Generator, device) -> list[RBM]:
    """Untrained RBMs of the two layers' shapes: the random starting weights of "no pre-training"."""
    sizes = (n_visible, *config.sizes)
    return [RBM(sizes[i], sizes[i + 1], hidden=hidden_units(kind), weight_std=config.weight_std,
                generator=generator).to(device) for i in range(2)]


def run(config: Config, progress: bool = True) -> "Result":
    """Pre-train, choose learning rates, train and test every (kind, setting, seed); save and return the results."""
    start = time.perf_counter()
    seed_everything(config.seeds[0], threads=1)
    device = resolve_device(config.device)
    x_train, y_train, variant = norb_or_standin(train=True)
    x_test, y_test, _ = norb_or_standin(train=False)
    x_train, y_train = random_subset(x_train, y_train, config.n_train, config.subset_seed)
    x_test, y_test = random_subset(x_test, y_test, config.n_test, config.subset_seed)
    shape = tuple(x_train.shape[1:])
    standardiser = Standardiser(per_pixel_std=False).fit(x_train.flatten(1))
    x_train = standardiser.transform(x_train.flatten(1)).to(device)
    x_test = standardiser.transform(x_test.flatten(1)).to(device)
    y_train, y_test = y_train.to(device), y_test.to(device)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    n_fit = x_train.shape[0] - config.n_validation
    train_config = preset("gaussian_visible", epochs=config.rbm_epochs, batch_size=config.rbm_batch_size,
                          learning_rate=config.rbm_learning_rate)
    errors = {f"{n}/{p}/{k}": [] for n, p in SETTINGS for k in HIDDEN_KINDS}
    selection, chosen, first_rbms = {}, {}, {}
    total = len(config.seeds) * len(HIDDEN_KINDS) * len(SETTINGS) + len(HIDDEN_KINDS) * len(SETTINGS)
    bar = tqdm(total=total, desc="NORB classifiers", file=sys.stdout, disable=not progress)
    for seed in config.seeds:
        generator = torch.Generator().manual_seed(seed)  # initial weights
        train_generator = torch.Generator(device).manual_seed(seed)  # CD and mini-batch order
        for kind in HIDDEN_KINDS:
            initial = initial_layers(kind, x_train.shape[1], config, generator, device)
            pretrained = pretrain_rbms(x_train, config.sizes, train_config, hidden_units=[hidden_units(kind),
                                       hidden_units(kind)], generator=train_generator, progress=False,
                                       visible_units=Gaussian(), weight_std=config.weight_std)
            if seed == config.seeds[0]:
                first_rbms[kind] = pretrained[0]
                for setting in SETTINGS:  # learning rates: first n_fit images to train, the rest to validate
                    scores = {}
                    for lr in config.learning_rates:
                        try:
                            net = train_classifier(stack_for(setting, pretrained, initial), x_train[:n_fit],
                                                   y_train[:n_fit], n_classes, lr, config, train_generator)
                            scores[lr] = error_rate(net, x_train[n_fit:], y_train[n_fit:])
                        except DivergenceError:
                            scores[lr] = None
                    key = f"{setting[0]}/{setting[1]}/{kind}"
                    selection[key] = {f"{lr:g}": e for lr, e in scores.items()}
                    chosen[key] = best_learning_rate(scores, lower_is_better=True)
                    bar.update()
            for setting in SETTINGS:
                key = f"{setting[0]}/{setting[1]}/{kind}"
                net = train_classifier(stack_for(setting, pretrained, initial), x_train, y_train, n_classes,
                                       chosen[key], config, train_generator)
                errors[key].append(error_rate(net, x_test, y_test))
                bar.update()
    bar.close()
    results = {"config": dataclasses.asdict(config), "variant": variant, "data": data_name(variant),
               "image_shape": list(shape), "n_train": x_train.shape[0], "n_test": x_test.shape[0],
               "n_classes": n_classes, "test_error": errors, "learning_rate_selection": selection,
               "selected_learning_rate": chosen}
    wall = time.perf_counter() - start
    result = Result(results, config.profile, wall, first_rbms, x_test[:2000].cpu())
    report.save_results(NAME, config.profile, results, verdicts=result.verdicts(),
                        title="Nair & Hinton 2010: NORB (stand-in) object recognition", seeds=list(config.seeds),
                        wall_time_s=wall)
    return result


class Result:
    """The numbers of a run (JSON-ready, as saved), with tables, verdicts and figures; ``rbms`` are the first seed's
    pre-trained first-layer RBMs and ``images`` standardised test images (for the figures)."""

    def __init__(self, results: dict, profile: str, wall_time_s: float | None = None, rbms: dict | None = None,
                 images: torch.Tensor | None = None):
        self.results, self.profile, self.wall_time_s = results, profile, wall_time_s
        self.rbms, self.images = rbms, images

    def _cell(self, key: str) -> str:
        return report.fmt_spread(*mean_and_standard_error(self.results["test_error"][key]), digits=2, percent=True)

    def _caption(self, title: str) -> str:
        r, c = self.results, self.results["config"]
        note = (" The paper's numbers are for Jittered-Cluttered NORB (6 classes) and are not comparable in value: "
                "compare the orderings." if r["data"].startswith("stand-in") else "")
        return (f"{title} Data: {r['data']} ({r['n_train']:,} training images, {c['n_validation']:,} of them held "
                f"out to choose learning rates; {r['n_test']:,} test images). Hidden layers {c['sizes'][0]} and "
                f"{c['sizes'][1]} units, {c['rbm_epochs']} CD-1 epochs per RBM, {c['finetune_epochs']} epochs of "
                f"Adam; ours: test error, mean ± s.e. over {len(c['seeds'])} seed(s). Paper: as quoted by "
                f"papers.md (mostly unverified against the PDF).{note} {describe(self.profile)}")

    def _row(self, setting) -> list[str]:
        n, p = setting
        return [x for k in HIDDEN_KINDS
                for x in (report.fmt(PAPER[(setting, k)], 1) + "%", self._cell(f"{n}/{p}/{k}"))]

    def one_layer_table(self) -> report.Table:
        header = ["pre-trained?"] + [f"{k}: {w}" for k in HIDDEN_KINDS for w in ("paper", "ours")]
        rows = [["no"] + self._row((1, 0)), ["yes"] + self._row((1, 1))]
        return report.Table(header, rows, caption=self._caption(
            f"Table 1: test error of a classifier with one hidden layer of {self.results['config']['sizes'][0]} "
            f"units (paper: 4000)."))

    def two_layer_table(self) -> report.Table:
        header = ["layer 1 pre-trained?", "layer 2 pre-trained?"] + [f"{k}: {w}" for k in HIDDEN_KINDS
                                                                    for w in ("paper", "ours")]
        rows = [["no", "no"] + self._row((2, 0)), ["yes", "no"] + self._row((2, 1)),
                ["yes", "yes"] + self._row((2, 2))]
        c = self.results["config"]
        return report.Table(header, rows, caption=self._caption(
            f"Table 2: test error of a classifier with two hidden layers of {c['sizes'][0]} and {c['sizes'][1]} "
            f"units (paper: 4000 and 2000)."))

    def learning_rate_table(self) -> report.Table:
        selection, chosen = self.results["learning_rate_selection"], self.results["selected_learning_rate"]
        rates = list(next(iter(selection.values())))
        rows = []
        for key, scores in selection.items():
            n, p, kind = key.split("/")
            rows.append([kind, n, p] + [selection_cell(scores[r], float(r) == chosen[key], percent=True)
                                        for r in rates])
        return report.Table(["hidden units", "hidden layers", "of which pre-trained"]
                            + [f"Adam lr {r}" for r in rates], rows,
                            caption=f"Learning-rate selection (first seed): validation error on the "
                                    f"{self.results['config']['n_validation']:,} held-out training images; ← marks "
                                    f"the rate used. Data: {self.results['data']}. {describe(self.profile)}")

    def verdicts(self) -> list[report.Verdict]:
        errors = self.results["test_error"]

        def verdict(claim, lower, higher):
            d, se = mean_and_standard_error(a - b for a, b in zip(errors[lower], errors[higher]))
            return report.Verdict(claim, "mean error difference ≤ +1 s.e. of the per-seed differences",
                                  f"{self._cell(lower)} vs {self._cell(higher)}: difference "
                                  f"{report.fmt(d, 2, percent=True, signed=True)} ± {report.fmt(se, 2, percent=True)}",
                                  d <= se)

        names = {(1, 0): "1 layer, not pre-trained", (1, 1): "1 layer, pre-trained",
                 (2, 0): "2 layers, not pre-trained", (2, 1): "2 layers, layer 1 pre-trained",
                 (2, 2): "2 layers, both pre-trained"}
        verdicts = [verdict(f"NReLU beats binary hidden units ({names[s]})", f"{s[0]}/{s[1]}/NReLU",
                            f"{s[0]}/{s[1]}/binary") for s in SETTINGS]
        verdicts += [verdict(f"pre-training helps ({k}, 1 layer)", f"1/1/{k}", f"1/0/{k}") for k in HIDDEN_KINDS]
        return verdicts

    def verdict_table(self) -> report.Table:
        return report.verdict_table(self.verdicts(), caption=f"Verdicts (data: {self.results['data']}; "
                                                             f"{describe(self.profile)})")

    def activity_figure(self):
        return activity_figure(self.rbms, self.images.to(self.rbms["NReLU"].weight.device),
                               f"hidden activities of the pre-trained first-layer RBMs on 2,000 test images "
                               f"({self.results['data']})")

    def filters_figure(self):
        channels, size, _ = self.results["image_shape"]
        return filters_figure(self.rbms, channels=channels, size=size)
