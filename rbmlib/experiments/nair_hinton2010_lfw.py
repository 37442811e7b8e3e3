"""Nair & Hinton 2010, Table 3: face verification on LFW View 2 with a siamese net of NReLU or binary RBM features.

Protocol, for each test fold f of View 2's 10 person-disjoint folds:

1. Standardise every pixel with the mean and standard deviation of fold f's training faces
   (``LFWVerification.training_faces(f)``: the 10,800 single faces of the other nine folds' pairs, never a
   test-fold person).
2. Pre-train an RBM (Gaussian visibles, NReLU or binary hidden units, **no hidden biases**) on those faces with CD-1.
3. A pair (a, b) gets the score s = cos(f(a), f(b)) with f(v) = max(0, vW) (NReLU) or sigmoid(vW) (binary). With no
   biases, f(αv) = α f(v) for NReLU and α > 0, so s does not change when a face's contrast is scaled (§5).
4. Fine-tune the siamese net: p(same) = sigmoid(κ s + β), binary cross-entropy on the other nine folds' 5,400 pairs,
   Adam on W (the weights stay bias-free) and on κ, β.
5. Decide "same" when s exceeds a threshold chosen to maximise accuracy on the training pairs; accuracy on the
   600 pairs of fold f. Report mean ± standard error over the test folds.

Controls beside the paper's rows: cosine on the raw standardised pixels; cosine on the pre-trained features before
fine-tuning; the same siamese net fine-tuned from the RBM's random initial weights (no pre-training); each of the
four fine-tuned nets at its own learning rate, chosen from ``learning_rates`` on View 1, LFW's development view,
before any View 2 fold is touched (so a gap that only reflects one kind learning faster at a shared rate is not
mistaken for the paper's claim; the selection table shows every shared rate too).
"""
from __future__ import annotations

import copy
import dataclasses
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .. import report
from ..data import LFWVerification, Standardiser
from ..profiles import PROFILES, describe
from ..rbm import RBM
from ..reproducibility import seed_everything
from ..samplers import CD
from ..stack import to_sequential
from ..supervised import resolve_device
from ..train import DivergenceError, Trainer, preset
from ..units import Gaussian
from .nair_hinton2010 import (
    HIDDEN_KINDS, activity_figure, best_learning_rate, filters_figure, fit_net, hidden_units, mean_and_standard_error,
    selection_cell,
)

NAME = "nair_hinton2010_lfw"
INITS = ("pretrained", "random")
# Table 3 of the paper as papers.md quotes it (secondary, UNVERIFIED against the PDF): accuracy mean ± spread.
PAPER = {("pretrained", "NReLU"): (0.8073, 0.0134), ("pretrained", "binary"): (0.7768, 0.0070),
         ("random", "NReLU"): (0.7925, 0.0173)}


@dataclass(frozen=True)
class Config:
    profile: str = "ci"
    folds: tuple[int, ...] = (0, 1, 2, 3, 4)  # test folds of View 2 (the paper: all 10)
    image_set: str = "deepfunneled"  # the LFW release (the only one offline)
    image_size: int = 32  # central 144×144 crop downsampled to image_size² colour (the paper: 32)
    n_hidden: int = 256
    rbm_epochs: int = 5
    rbm_learning_rate: float = 1e-3  # Gaussian visibles: preset "gaussian_visible"
    rbm_batch_size: int = 100
    weight_std: float = 0.01
    finetune_epochs: int = 3
    finetune_batch_size: int = 100  # pairs
    learning_rates: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)  # Adam on W: each net picks its own
    head_learning_rate: float = 1e-2  # Adam on κ, β
    scales: tuple[float, ...] = (0.25, 0.5, 2.0, 4.0)  # contrast scalings of the equivariance check
    equivariance_pairs: int = 100
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}")
        if not self.folds or len(set(self.folds)) != len(self.folds) or not all(0 <= f < 10 for f in self.folds):
            raise ValueError(f"folds must be distinct View 2 folds in 0..9, got {self.folds}")
        if not self.learning_rates or min(self.learning_rates) <= 0 or any(s <= 0 for s in self.scales):
            raise ValueError("learning_rates and scales must be non-empty and positive")

    @classmethod
    def for_profile(cls, profile: str) -> "Config":
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        if profile == "paper":
            return cls(profile="paper", folds=tuple(range(10)), n_hidden=4000, rbm_epochs=300, finetune_epochs=50,
                       learning_rates=(1e-5, 1e-4, 1e-3), device="auto")
        return cls()


# pieces of the protocol --------------------------------------------------------------------------------------
def best_threshold(scores: torch.Tensor, same: torch.Tensor) -> float:
    """The threshold t maximising the accuracy of "same ⇔ score > t" on (scores, same): the midpoint between two
    consecutive sorted scores (or just below the smallest); the lowest such t when several tie."""
    if scores.ndim != 1 or scores.shape != same.shape or scores.numel() == 0:
        raise ValueError(f"scores and same must be equal-length 1-D tensors, got {tuple(scores.shape)}, "
                         f"{tuple(same.shape)}")
    s, order = scores.double().sort()
    y = same[order].double()
    # threshold below s[k] (k = 0..n): all of s[k:] called same. correct = (#different below) + (#same at/above)
    different_below = torch.cat([torch.zeros(1, dtype=y.dtype), torch.cumsum(1 - y, 0)])
    same_at_or_above = y.sum() - torch.cat([torch.zeros(1, dtype=y.dtype), torch.cumsum(y, 0)])
    k = int(torch.argmax(different_below + same_at_or_above))
    if k == 0:
        return s[0].item() - 1.0
    if k == s.numel():
        return s[-1].item()
    return 0.5 * (s[k - 1].item() + s[k].item())


def accuracy(scores: torch.Tensor, same: torch.Tensor, threshold: float) -> float:
    return ((scores > threshold) == same).double().mean().item()


def cosine_scores(features, images: torch.Tensor, pairs) -> torch.Tensor:
    """cos(f(a), f(b)) for each pair (index_a, index_b) into ``images``."""
    index_a, index_b = pairs[0], pairs[1]
    with torch.no_grad():
        return F.cosine_similarity(features(images[index_a]), features(images[index_b]), dim=1).cpu()


def verification_accuracy(features, images, train_pairs, test_pairs) -> float:
    """Accuracy on the test pairs with the threshold chosen on the training pairs."""
    threshold = best_threshold(cosine_scores(features, images, train_pairs), train_pairs[2].cpu())
    return accuracy(cosine_scores(features, images, test_pairs), test_pairs[2].cpu(), threshold)


def fold_pairs(lfw: LFWVerification, folds, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The pairs of several folds, concatenated: (index_a, index_b, same)."""
    parts = [lfw.pairs(f) for f in folds]
    return tuple(torch.cat([p[i] for p in parts]).to(device) for i in range(3))


def make_rbm(kind: str, n_visible: int, config: Config, generator: torch.Generator, device) -> RBM:
    """A Gaussian–NReLU or Gaussian–binary RBM without hidden biases, weights N(0, weight_std²)."""
    return RBM(n_visible, config.n_hidden, Gaussian(), hidden_units(kind), weight_std=config.weight_std,
               hidden_bias=False, generator=generator).to(device)


def feature_net(rbm: RBM) -> nn.Sequential:
    """The RBM as a bias-free torch layer: Linear(Wᵀ) + ReLU (NReLU, noise-free) or Sigmoid (binary).
    The exported bias (the RBM's fixed zeros) is frozen, so that fine-tuning keeps the net intensity-equivariant."""
    net = to_sequential([rbm])
    net[0].bias.requires_grad_(False)
    return net


def fine_tune(net: nn.Sequential, images: torch.Tensor, train_pairs, learning_rate: float, config: Config,
              generator: torch.Generator) -> nn.Sequential:
    """Siamese fine-tuning: p(same) = sigmoid(κ cos(f(a), f(b)) + β), cross-entropy, Adam. κ, β start at 10 and
    −10 t, with t the best threshold of the initial net on the training pairs (the decision rule it starts from)."""
    index_a, index_b, same = train_pairs
    t = best_threshold(cosine_scores(net, images, train_pairs), same.cpu())
    device = images.device
    scale = nn.Parameter(torch.tensor(10.0, device=device))
    offset = nn.Parameter(torch.tensor(-10.0 * t, device=device))
    target = same.to(images.dtype)

    def loss_of_batch(batch):
        s = F.cosine_similarity(net(images[index_a[batch]]), net(images[index_b[batch]]), dim=1)
        return F.binary_cross_entropy_with_logits(scale * s + offset, target[batch])

    weights = [p for p in net.parameters() if p.requires_grad]
    fit_net([{"params": weights, "lr": learning_rate},
             {"params": [scale, offset], "lr": config.head_learning_rate}],
            loss_of_batch, same.numel(), config.finetune_epochs, config.finetune_batch_size, generator)
    return net.eval()


def equivariance(rbms: dict, images: torch.Tensor, pairs, scales) -> list[dict]:
    """For each scale α and kind: max over faces a of ‖f(αa) − α f(a)‖ / ‖α f(a)‖, and max over pairs of
    |cos(f(αa), f(b)) − cos(f(a), f(b))|. Exactly 0 (to rounding) for bias-free NReLU features."""
    a, b = images[pairs[0]], images[pairs[1]]
    rows = []
    for alpha in scales:
        row = {"scale": alpha}
        for kind, rbm in rbms.items():
            net = feature_net(rbm)
            with torch.no_grad():
                fa, fb, fsa = net(a), net(b), net(alpha * a)
                relative = ((fsa - alpha * fa).norm(dim=1) / (alpha * fa).norm(dim=1).clamp_min(1e-12)).max()
                change = (F.cosine_similarity(fsa, fb, dim=1) - F.cosine_similarity(fa, fb, dim=1)).abs().max()
            row[kind] = {"relative_error": relative.item(), "cosine_change": change.item()}
        rows.append(row)
    return rows


# the experiment ---------------------------------------------------------------------------------------------
def _key(init: str, kind: str) -> str:
    return f"{init}/{kind}"


def pretrain(kind: str, faces: torch.Tensor, config: Config, generator, train_generator) -> tuple[RBM, RBM, float]:
    """An RBM of ``kind`` pre-trained with CD-1 on ``faces``: (the RBM, a copy of its random initial state, its final
    reconstruction error)."""
    rbm = make_rbm(kind, faces.shape[1], config, generator, faces.device)
    initial = copy.deepcopy(rbm)  # its random initial weights: the "no pre-training" start
    train_config = preset("gaussian_visible", epochs=config.rbm_epochs, batch_size=config.rbm_batch_size,
                          learning_rate=config.rbm_learning_rate)
    trainer = Trainer(rbm, train_config, CD(1), generator=train_generator).fit(faces, progress=False)
    return rbm, initial, trainer.history_[-1]["reconstruction_error"]


def start_net(init: str, kind: str, rbms: dict, initial: dict) -> nn.Sequential:
    return feature_net(rbms[kind] if init == "pretrained" else initial[kind])


def select_learning_rates(config: Config, generator, train_generator, device) -> tuple[dict, dict]:
    """The fine-tuning learning rate of each (init, kind), chosen on LFW View 1 as the LFW protocol prescribes:
    standardise and pre-train on DevTrain's faces, fine-tune on DevTrain's 2,200 pairs, score on DevTest's 1,000.
    Returns ({key: {lr: accuracy or None if it diverged}}, {key: chosen lr})."""
    dev = LFWVerification(image_set=config.image_set, size=config.image_size, view=1)
    raw = dev.images.flatten(1)
    faces = dev.training_faces(1)
    images = Standardiser().fit(raw[faces]).transform(raw).to(device)
    train_pairs, test_pairs = fold_pairs(dev, [0], device), fold_pairs(dev, [1], device)
    rbms, initial = {}, {}
    for kind in HIDDEN_KINDS:
        rbms[kind], initial[kind], _ = pretrain(kind, images[faces], config, generator, train_generator)
    selection, chosen = {}, {}
    for init in INITS:
        for kind in HIDDEN_KINDS:
            scores = {}
            for lr in config.learning_rates:
                try:
                    net = fine_tune(start_net(init, kind, rbms, initial), images, train_pairs, lr, config,
                                    train_generator)
                    scores[lr] = verification_accuracy(net, images, train_pairs, test_pairs)
                except DivergenceError:
                    scores[lr] = None
            selection[_key(init, kind)] = scores
            chosen[_key(init, kind)] = best_learning_rate(scores, lower_is_better=False)
    return selection, chosen


def run(config: Config, progress: bool = True) -> "Result":
    """Run the protocol of the module docstring on ``config.folds``; save and return the results."""
    start = time.perf_counter()
    # seed_everything also flushes subnormals: NReLU's rectified-Gaussian mean E[h | v] underflows into subnormal
    # floats, which make CPU matmuls ~4× slower; flushing them to 0 changes no printed digit (report of issue 9).
    generator = seed_everything(config.seed, threads=1)
    device = resolve_device(config.device)
    train_generator = torch.Generator(device).manual_seed(config.seed)
    selection, chosen = select_learning_rates(config, generator, train_generator, device)
    lfw = LFWVerification(image_set=config.image_set, size=config.image_size)
    raw = lfw.images.flatten(1)
    accuracies = {"raw pixels": [], **{f"features/{k}": [] for k in HIDDEN_KINDS},
                  **{_key(i, k): [] for i in INITS for k in HIDDEN_KINDS}}
    recon = {k: [] for k in HIDDEN_KINDS}
    first = {}
    bar = tqdm(total=len(config.folds), desc="LFW test folds", file=sys.stdout, disable=not progress)
    for fold in config.folds:
        training = lfw.training_faces(fold)
        images = Standardiser().fit(raw[training]).transform(raw).to(device)
        train_pairs = fold_pairs(lfw, [g for g in range(lfw.n_folds) if g != fold], device)
        test_pairs = fold_pairs(lfw, [fold], device)
        accuracies["raw pixels"].append(verification_accuracy(nn.Identity(), images, train_pairs, test_pairs))
        rbms, initial = {}, {}
        for kind in HIDDEN_KINDS:
            rbms[kind], initial[kind], error = pretrain(kind, images[training], config, generator, train_generator)
            recon[kind].append(error)
            accuracies[f"features/{kind}"].append(verification_accuracy(feature_net(rbms[kind]), images,
                                                                        train_pairs, test_pairs))
        if not first:
            first = {"rbms": rbms, "images": images, "test_pairs": test_pairs}
        for init in INITS:
            for kind in HIDDEN_KINDS:
                key = _key(init, kind)
                net = fine_tune(start_net(init, kind, rbms, initial), images, train_pairs, chosen[key], config,
                                train_generator)
                accuracies[key].append(verification_accuracy(net, images, train_pairs, test_pairs))
        bar.update()
    bar.close()
    n_eq = min(config.equivariance_pairs, first["test_pairs"][0].numel())
    eq_pairs = tuple(p[:n_eq] for p in first["test_pairs"])
    results = {
        "config": dataclasses.asdict(config),
        "variant": lfw.variant,
        "accuracy": accuracies,
        "learning_rate_selection": {k: {f"{lr:g}": acc for lr, acc in v.items()} for k, v in selection.items()},
        "selected_learning_rate": chosen,
        "reconstruction_error": recon,
        "equivariance": equivariance(first["rbms"], first["images"], eq_pairs, config.scales),
    }
    wall = time.perf_counter() - start
    result = Result(results, config.profile, wall, first["rbms"], first["images"].cpu())
    report.save_results(NAME, config.profile, results, verdicts=result.verdicts(),
                        title="Nair & Hinton 2010: LFW face verification", seeds=[config.seed], wall_time_s=wall)
    return result


# the result -------------------------------------------------------------------------------------------------
class Result:
    """The numbers of a run (JSON-ready, as saved), with tables, verdicts and figures; ``rbms`` and ``images`` are the
    first test fold's pre-trained RBMs and standardised images (for the figures)."""

    def __init__(self, results: dict, profile: str, wall_time_s: float | None = None, rbms: dict | None = None,
                 images: torch.Tensor | None = None):
        self.results, self.profile, self.wall_time_s = results, profile, wall_time_s
        self.rbms, self.images = rbms, images

    @property
    def folds(self) -> list[int]:
        return list(self.results["config"]["folds"])

    def _fold_text(self) -> str:
        folds = self.folds
        return ("all 10 folds of View 2" if len(folds) == 10 else
                f"{len(folds)} of View 2's 10 folds ({', '.join(str(f + 1) for f in folds)})")

    def _stat(self, key: str) -> tuple[float, float]:
        return mean_and_standard_error(self.results["accuracy"][key])

    def _cell(self, key: str) -> str:
        return report.fmt_spread(*self._stat(key), digits=4)

    def accuracy_table(self) -> report.Table:
        c, lr = self.results["config"], self.results["selected_learning_rate"]
        rows = [["cosine on raw standardised pixels", "—", "—", "—", "—", self._cell("raw pixels")]]
        for kind in HIDDEN_KINDS:
            rows.append([f"cosine on RBM features", kind, "yes", "no", "—", self._cell(f"features/{kind}")])
        for init in INITS:
            for kind in HIDDEN_KINDS:
                paper = PAPER.get((init, kind))
                rows.append(["siamese net, cosine, fine-tuned", kind, "yes" if init == "pretrained" else "no",
                             f"yes (Adam lr {lr[_key(init, kind)]:g})",
                             report.fmt_spread(*paper, digits=4) if paper else "—", self._cell(_key(init, kind))])
        return report.Table(
            ["model", "hidden units", "RBM pre-training", "fine-tuning", "paper (Table 3)",
             f"ours: accuracy, mean ± s.e. over {len(self.folds)} folds"], rows,
            caption=f"LFW face verification, {self._fold_text()}, {c['n_hidden']} hidden units without biases, "
                    f"{c['rbm_epochs']} CD-1 epochs, {c['finetune_epochs']} fine-tuning epochs. Data: "
                    f"{self.results['variant']} — the deep-funneled release, aligned by congealing; the paper "
                    f"aligned the faces by their eyes and may have used another release. Paper numbers as quoted "
                    f"secondarily (mean ± spread over 10 folds, unverified against the PDF). {describe(self.profile)}")

    def learning_rate_table(self) -> report.Table:
        selection, chosen = self.results["learning_rate_selection"], self.results["selected_learning_rate"]
        rates = list(next(iter(selection.values())))
        rows = []
        for key, scores in selection.items():
            init, kind = key.split("/")
            rows.append([kind, "yes" if init == "pretrained" else "no"]
                        + [selection_cell(scores[r], float(r) == chosen[key]) for r in rates])
        return report.Table(
            ["hidden units", "RBM pre-training"] + [f"Adam lr {r}" for r in rates], rows,
            caption=f"Learning-rate selection on LFW View 1, the development view (the LFW protocol keeps View 2 for "
                    f"reporting): accuracy on View 1's 1,000 test pairs after standardising and pre-training on its "
                    f"training faces and fine-tuning on its 2,200 training pairs; ← marks the rate each net then uses "
                    f"on every View 2 fold. Each column compares the kinds at one shared rate. {describe(self.profile)}")

    def equivariance_table(self) -> report.Table:
        rows = [[report.fmt(r["scale"], 2)] + [report.fmt(r[k][m], 4) for k in HIDDEN_KINDS
                                                for m in ("relative_error", "cosine_change")]
                for r in self.results["equivariance"]]
        header = ["α"] + [f"{k}: {m}" for k in HIDDEN_KINDS
                          for m in ("max ‖f(αa) − αf(a)‖ / ‖αf(a)‖", "max |Δ cos(f(αa), f(b))|")]
        n = self.results["config"]["equivariance_pairs"]
        return report.Table(header, rows, caption=(
            f"Intensity equivariance of the pre-trained bias-free feature layers: a test face a (standardised "
            f"pixels) scaled by α, over the first {n} test pairs (a, b) of fold {self.folds[0] + 1}. "
            f"{describe(self.profile)}"))

    def verdicts(self) -> list[report.Verdict]:
        acc = self.results["accuracy"]

        def paired(better: str, worse: str) -> tuple[float, float]:
            return mean_and_standard_error(a - b for a, b in zip(acc[better], acc[worse]))

        def verdict(claim, better, worse):
            d, se = paired(better, worse)
            return report.Verdict(
                claim, "mean accuracy difference ≥ −1 s.e. of the per-fold differences",
                f"{self._cell(better)} vs {self._cell(worse)}: difference {report.fmt(d, 4, signed=True)} ± "
                f"{report.fmt(se, 4)}", d >= -se)

        eq = self.results["equivariance"]
        nrelu = max(max(r["NReLU"]["relative_error"], r["NReLU"]["cosine_change"]) for r in eq)
        binary = max(r["binary"]["relative_error"] for r in eq)
        return [
            verdict("NReLU beats binary hidden units (pre-trained, fine-tuned siamese net, cosine)",
                    _key("pretrained", "NReLU"), _key("pretrained", "binary")),
            verdict("pre-training helps the NReLU siamese net", _key("pretrained", "NReLU"), _key("random", "NReLU")),
            verdict("the fine-tuned NReLU net beats cosine on raw pixels (implicit: what the RBM contributes)",
                    _key("pretrained", "NReLU"), "raw pixels"),
            report.Verdict("bias-free NReLU features are intensity-equivariant (cosine invariant); binary are not",
                           "NReLU errors ≤ 1e-4; binary relative error ≥ 1e-2",
                           f"NReLU max {report.fmt(nrelu, 4)}; binary max relative error {report.fmt(binary, 4)}",
                           nrelu <= 1e-4 and binary >= 1e-2),
        ]

    def verdict_table(self) -> report.Table:
        return report.verdict_table(self.verdicts(), caption=f"Verdicts (LFW, {self._fold_text()}; "
                                                             f"{describe(self.profile)})")

    def activity_figure(self):
        return activity_figure(self.rbms, self.images.flatten(1).to(self.rbms["NReLU"].weight.device)[:2000],
                               f"hidden activities of the pre-trained RBMs on 2,000 LFW images "
                               f"(fold {self.folds[0] + 1} standardisation)")

    def filters_figure(self):
        return filters_figure(self.rbms, channels=3, size=self.results["config"]["image_size"])
