"""RBMs on MNIST: a 784×500 Bernoulli RBM trained with CD-1 (Hinton 2002; Hinton's practical guide 2010).

The first version of the MNIST chapter: reconstruction error per epoch, filters and reconstructions. The ``ci``
profile trains on a subset of the training images for a few epochs; ``paper`` on all 60,000 for 50 epochs.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch

from .. import report
from ..data import load_mnist
from ..estimators import reconstruction_error
from ..profiles import PROFILES, describe
from ..rbm import RBM
from ..reproducibility import seed_everything
from ..samplers import CD
from ..train import Trainer, preset

NAME = "rbm_mnist"


@dataclass(frozen=True)
class Config:
    profile: str = "ci"
    n_train: int = 20_000  # training images used (the first n of the 60,000)
    n_hidden: int = 500
    epochs: int = 5
    batch_size: int = 100
    learning_rate: float = 0.1  # the 2006 code's binary-unit rate (preset hinton_salakhutdinov_2006)
    weight_std: float = 0.01  # Hinton's guide
    seed: int = 0

    @classmethod
    def for_profile(cls, profile: str) -> "Config":
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        if profile == "paper":
            return cls(profile="paper", n_train=60_000, epochs=50)
        return cls()


@dataclass
class Result:
    config: Config
    history: list[dict]
    test_reconstruction_error: float
    baseline_reconstruction_error: float
    rbm: RBM
    test_images: torch.Tensor
    wall_time_s: float

    def training_table(self) -> report.Table:
        rows = [[r["epoch"], report.fmt(r["reconstruction_error"], 4), report.fmt(r["momentum"], 1)]
                for r in self.history]
        return report.Table(["epoch", "reconstruction error (1,000 training images)", "momentum"], rows,
                            caption=f"CD-1 training of a 784×{self.config.n_hidden} RBM on MNIST "
                                    f"({self.config.n_train:,} training images) — {describe(self.config.profile)}")

    def verdicts(self) -> report.Table:
        ratio = self.test_reconstruction_error / self.baseline_reconstruction_error
        first, last = self.history[0]["reconstruction_error"], self.history[-1]["reconstruction_error"]
        return report.verdict_table([
            report.Verdict("CD-1 learns a model of the digits: test reconstruction error well below that of the "
                           "pixel-marginal model (W = 0)", "ratio ≤ 0.5",
                           f"{report.fmt(self.test_reconstruction_error, 4)} vs "
                           f"{report.fmt(self.baseline_reconstruction_error, 4)} (ratio {report.fmt(ratio, 2)})",
                           ratio <= 0.5),
            report.Verdict("reconstruction error keeps falling with more epochs (Hinton's guide §5)",
                           "last epoch < first epoch", f"{report.fmt(first, 4)} → {report.fmt(last, 4)}",
                           last < first),
        ])

    def filters_figure(self, n: int = 100):
        return report.image_grid(self.rbm.weight.t()[:n], (28, 28), ncols=20, symmetric=True,
                                 title=f"the first {n} of {self.config.n_hidden} filters (columns of W)").figure

    def reconstructions_figure(self, n: int = 20):
        import matplotlib.pyplot as plt

        with torch.no_grad():
            v = self.test_images[:n]
            recon = self.rbm.visible_mean(self.rbm.hidden_mean(v))
        fig, axes = plt.subplots(2, 1, figsize=(12, 1.6))
        report.image_grid(v, (28, 28), ncols=n, ax=axes[0], title="test images")
        report.image_grid(recon, (28, 28), ncols=n, ax=axes[1], title="mean-field reconstructions")
        return fig


def run(config: Config, progress: bool = True) -> Result:
    start = time.perf_counter()
    generator = seed_everything(config.seed, threads=1)
    x_train, _ = load_mnist(train=True)
    x_test, _ = load_mnist(train=False)
    x_train = x_train[: config.n_train]
    rbm = RBM(784, config.n_hidden, weight_std=config.weight_std, generator=generator)
    train_config = preset("hinton_salakhutdinov_2006", epochs=config.epochs, batch_size=config.batch_size,
                          learning_rate=config.learning_rate)
    trainer = Trainer(rbm, train_config, CD(1), generator=generator).fit(x_train, progress=progress)

    baseline = RBM(784, config.n_hidden, weight_std=0.0)
    with torch.no_grad():  # the pixel-marginal model: W = 0, visible biases = logit of the training means
        mean = x_train.mean(0).clamp(1e-3, 1 - 1e-3)
        baseline.visible_bias.copy_(torch.log(mean) - torch.log1p(-mean))
    result = Result(config, trainer.history_, reconstruction_error(rbm, x_test),
                    reconstruction_error(baseline, x_test), rbm, x_test, time.perf_counter() - start)
    report.save_results(NAME, config.profile, {
        "config": dataclasses.asdict(config),
        "history": trainer.history_,
        "test_reconstruction_error": result.test_reconstruction_error,
        "baseline_reconstruction_error": result.baseline_reconstruction_error,
    }, seeds=[config.seed], wall_time_s=result.wall_time_s)
    return result
