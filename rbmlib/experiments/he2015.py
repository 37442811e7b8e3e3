"""He, Zhang, Ren & Sun 2015, "Delving Deep into Rectifiers": PReLU vs ReLU (Tables 2 and 4), the learned PReLU
coefficients (Table 1) and He vs Xavier initialisation of deep plain rectifier nets (Figure 3).

Maths used here (paper, section 2):

* PReLU, eq. (1): f(y_i) = max(0, y_i) + a_i min(0, y_i), one a per channel (channel-wise) or per layer
  (channel-shared), initialised to a = 0.25, trained by SGD with momentum and no weight decay (eq. 4). PyTorch's
  ``nn.PReLU`` is exactly this. A fixed ``nn.LeakyReLU(0.25)`` is our control: a negative slope that is not learned.
* Initialisation, eq. (10)/(15): w ~ N(0, 2 / ((1 + a^2) n_l)) with n_l = k^2 c the fan-in (He); a = 0 for ReLU.
  ``nn.init.kaiming_normal_(w, a, mode="fan_in", nonlinearity="leaky_relu")`` draws exactly this.
* Xavier in the paper's Gaussian form: n_l Var[w_l] = 1, std sqrt(1 / n_l), which is
  ``kaiming_normal_(w, mode="fan_in", nonlinearity="linear")``. (``nn.init.xavier_normal_`` uses
  sqrt(2 / (fan_in + fan_out)) instead: the same only where fan-in equals fan-out.)
* Forward propagation, eq. (8)-(9): Var[y_L] = Var[y_1] prod_{l=2..L} (1/2 n_l Var[w_l]): constant under He,
  halved per layer under Xavier. With zero padding the border units have fewer inputs; ``padded_forward_moments``
  carries the same derivation position by position.
"""
from __future__ import annotations

import math
import sys
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from rbmlib.data import Standardiser, load_cifar10, load_mnist
from rbmlib.profiles import PROFILES, describe
from rbmlib.report import Table, Verdict, fmt, fmt_spread, save_results, verdict_table
from rbmlib.reproducibility import seed_everything
from rbmlib.supervised import error_rate, resolve_device

NAME = "he2015"
TITLE = "He et al. 2015: Delving Deep into Rectifiers"
ACTIVATIONS = ("relu", "leaky0.25", "prelu_shared", "prelu_channel")
ACTIVATION_LABELS = {
    "relu": "ReLU",
    "leaky0.25": "LeakyReLU, fixed a = 0.25 (control)",
    "prelu_shared": "PReLU, channel-shared",
    "prelu_channel": "PReLU, channel-wise",
}
DATASETS = ("cifar10", "mnist")
INITS = ("xavier", "he")
PRELU_INIT = 0.25
LN10 = math.log(10.0)
CONVERGED_LOSS = 0.8 * LN10  # "left the chance plateau ln 10": fixed before any run

# Small conv net of Tables 1/2 (our scale): the layers followed by a rectifier, and the stage each belongs to.
RECTIFIED_LAYERS = ("conv1", "conv21", "conv22", "conv31", "conv32", "fc1")
STAGE_OF_LAYER = {"conv1": "conv1", "conv21": "conv2x", "conv22": "conv2x", "conv31": "conv3x", "conv32": "conv3x",
                  "fc1": "fc"}

# Paper, Table 1: layer -> (channel-shared a, channel-wise mean a) of the 14-layer ImageNet model.
PAPER_TABLE1 = OrderedDict([
    ("conv1", (0.681, 0.596)),
    ("conv21", (0.103, 0.321)), ("conv22", (0.099, 0.204)), ("conv23", (0.228, 0.294)), ("conv24", (0.561, 0.464)),
    ("conv31", (0.126, 0.196)), ("conv32", (0.089, 0.152)), ("conv33", (0.124, 0.145)), ("conv34", (0.062, 0.124)),
    ("conv35", (0.008, 0.134)), ("conv36", (0.210, 0.198)),
    ("fc1", (0.063, 0.074)), ("fc2", (0.031, 0.075)),
])
# The paper's layers of each stage, to set beside ours (its 14-layer model has more layers per stage).
PAPER_STAGES = {"conv1": ("conv1",), "conv2x": ("conv21", "conv22", "conv23", "conv24"),
                "conv3x": ("conv31", "conv32", "conv33", "conv34", "conv35", "conv36"), "fc": ("fc1", "fc2")}
# Paper, Table 2 (14-layer model, ImageNet val, 10-view): top-1, top-5 error in %.
PAPER_TABLE2 = {"relu": (33.82, 13.34), "prelu_shared": (32.71, 12.87), "prelu_channel": (32.64, 12.75)}
# Paper, Table 4 (model A, 19 layers, ImageNet val, multi-scale dense test, channel-wise PReLU): top-1, top-5 in %.
PAPER_TABLE4 = {"relu": (24.02, 6.51), "prelu_channel": (22.97, 6.28)}
# Paper, section 2.3 / Figures 2-3: what each depth and initialisation did on ImageNet.
PAPER_FIGURE3 = {
    (22, "xavier"): "converges, later than He (Fig. 2)",
    (22, "he"): "converges, \"starts reducing error earlier\" (Fig. 2)",
    (30, "xavier"): "\"completely stalls\" (Fig. 3)",
    (30, "he"): "converges: 38.56 / 16.59 top-1/top-5 (Fig. 3)",
}


# ----------------------------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class Config:
    """Every setting of the three experiments. ``for_profile("ci" | "paper")`` gives the named ones."""

    profile: str
    # Tables 1, 2, 4: one small conv net with four activations, trained with SGD + momentum.
    cifar_seeds: tuple[int, ...]
    mnist_seeds: tuple[int, ...]
    train_size: int | None  # training images per data set (None: all)
    test_size: int | None  # test images per data set (None: all)
    width: int  # conv1 channels; conv2x have 2x, conv3x 4x, fc1 8x
    epochs: int
    batch_size: int
    lr: float
    lr_decay_epochs: tuple[int, ...]  # lr x 0.1 at each (the paper's 1e-2 -> 1e-3 -> 1e-4)
    momentum: float
    weight_decay: float  # on weights and biases, never on the PReLU coefficients (paper, section 2.1)
    # Figure 3: plain deep ReLU nets (L - 1 convs of constant width + one linear layer), Xavier vs He.
    init_dataset: str
    init_depths: tuple[int, ...]
    init_width: int
    init_seed: int
    init_train_size: int | None
    init_test_size: int | None
    init_steps: int
    init_batch_size: int
    init_lr: float
    init_log_every: int
    scale_batch: int  # images pushed through the nets at initialisation to measure per-layer scales
    scale_draws: int  # independent He-initialised nets over which eq. (9)'s expectation is checked
    device: str = "cpu"  # "cpu", "cuda" or "auto" (cuda when available)

    @classmethod
    def for_profile(cls, name: str) -> "Config":
        if name == "ci":
            return cls(
                profile="ci", cifar_seeds=(0, 1, 2), mnist_seeds=(0, 1), train_size=5000, test_size=2000,
                width=8, epochs=3, batch_size=64, lr=0.005, lr_decay_epochs=(), momentum=0.9, weight_decay=5e-4,
                init_dataset="mnist", init_depths=(22, 30), init_width=16, init_seed=0, init_train_size=10000,
                init_test_size=2000, init_steps=700, init_batch_size=64, init_lr=0.01, init_log_every=25,
                scale_batch=256, scale_draws=32,
            )
        if name == "paper":
            return cls(
                profile="paper", cifar_seeds=(0, 1, 2, 3, 4), mnist_seeds=(0, 1, 2), train_size=None,
                test_size=None, width=64, epochs=30, batch_size=128, lr=0.01, lr_decay_epochs=(20, 26),
                momentum=0.9, weight_decay=5e-4, init_dataset="cifar10", init_depths=(22, 30), init_width=64,
                init_seed=0, init_train_size=None, init_test_size=None, init_steps=3500, init_batch_size=128,
                init_lr=0.01, init_log_every=50, scale_batch=512, scale_draws=32, device="auto",
            )
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")

    def __post_init__(self):
        for name in ("width", "epochs", "batch_size", "init_width", "init_steps", "init_batch_size",
                     "init_log_every", "scale_batch", "scale_draws"):
            if getattr(self, name) < 1:
                raise ValueError(f"Config.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("train_size", "test_size", "init_train_size", "init_test_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"Config.{name} must be >= 1 or None (all), got {value}")
        for name in ("lr", "init_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Config.{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.momentum < 1 or self.weight_decay < 0:
            raise ValueError(f"need 0 <= momentum < 1 and weight_decay >= 0, got {self.momentum}, "
                             f"{self.weight_decay}")
        if not self.cifar_seeds and not self.mnist_seeds:
            raise ValueError("Config needs seeds for at least one data set (cifar_seeds or mnist_seeds)")
        if self.init_dataset not in DATASETS:
            raise ValueError(f"init_dataset {self.init_dataset!r} is not one of {DATASETS}")
        if not self.init_depths or min(self.init_depths) < 5:
            raise ValueError(f"init_depths must be >= 5 layers (three stride-2 convs + a linear), got "
                             f"{self.init_depths}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")

    def torch_device(self) -> torch.device:
        return resolve_device(self.device)


# ----------------------------------------------------------------------------------------------------------------
# models and initialisation


def make_activation(kind: str, channels: int) -> nn.Module:
    """ReLU, a fixed LeakyReLU(0.25), or PyTorch's PReLU (eq. 1) shared by the layer or one a per channel."""
    if kind == "relu":
        return nn.ReLU()
    if kind == "leaky0.25":
        return nn.LeakyReLU(PRELU_INIT)
    if kind == "prelu_shared":
        return nn.PReLU(num_parameters=1, init=PRELU_INIT)
    if kind == "prelu_channel":
        return nn.PReLU(num_parameters=channels, init=PRELU_INIT)
    raise ValueError(f"unknown activation {kind!r}; choose one of {', '.join(ACTIVATIONS)}")


def initial_slope(kind: str) -> float:
    """The negative slope a at initialisation, which enters He's std sqrt(2 / ((1 + a^2) n_l)) (eq. 15)."""
    return 0.0 if kind == "relu" else PRELU_INIT


def small_convnet(activation: str, in_channels: int, image_size: int, width: int, n_classes: int = 10
                  ) -> nn.Sequential:
    """Our scaled-down stand-in for the paper's 14-layer model: conv1 (5x5) - pool - conv21, conv22 (3x3) - pool -
    conv31, conv32 (3x3) - pool - fc1 - fc2, each conv/fc1 followed by ``activation`` (names as in Table 1)."""
    c1, c2, c3, hidden = width, 2 * width, 4 * width, 8 * width
    side = image_size // 8
    layers = OrderedDict([
        ("conv1", nn.Conv2d(in_channels, c1, 5, padding=2)), ("act_conv1", make_activation(activation, c1)),
        ("pool1", nn.MaxPool2d(2)),
        ("conv21", nn.Conv2d(c1, c2, 3, padding=1)), ("act_conv21", make_activation(activation, c2)),
        ("conv22", nn.Conv2d(c2, c2, 3, padding=1)), ("act_conv22", make_activation(activation, c2)),
        ("pool2", nn.MaxPool2d(2)),
        ("conv31", nn.Conv2d(c2, c3, 3, padding=1)), ("act_conv31", make_activation(activation, c3)),
        ("conv32", nn.Conv2d(c3, c3, 3, padding=1)), ("act_conv32", make_activation(activation, c3)),
        ("pool3", nn.MaxPool2d(2)), ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(c3 * side * side, hidden)), ("act_fc1", make_activation(activation, hidden)),
        ("fc2", nn.Linear(hidden, n_classes)),
    ])
    return nn.Sequential(layers)


def plain_deep_net(depth: int, in_channels: int, width: int, n_classes: int = 10) -> nn.Sequential:
    """A plain ReLU net with ``depth`` weight layers: depth - 1 3x3 convs of ``width`` channels (zero padding 1,
    stride 2 at the start of each of three stages), global average pooling, one linear layer. No normalisation."""
    n_convs = depth - 1
    stride_at = {0, n_convs // 3, 2 * n_convs // 3}
    layers = OrderedDict()
    for i in range(n_convs):
        layers[f"conv{i + 1}"] = nn.Conv2d(in_channels if i == 0 else width, width, 3, padding=1,
                                           stride=2 if i in stride_at else 1)
        layers[f"relu{i + 1}"] = nn.ReLU()
    layers["pool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten()
    layers["fc"] = nn.Linear(width, n_classes)
    return nn.Sequential(layers)


def weight_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def initialise(model: nn.Module, scheme: str, slope: float = 0.0, generator: torch.Generator | None = None
               ) -> nn.Module:
    """Zero biases and Gaussian weights with PyTorch's own initialisers (fan-in form, paper eq. 10 and 15):

    * ``"he"``: std sqrt(2 / ((1 + slope^2) n_l)) via ``kaiming_normal_(a=slope, nonlinearity="leaky_relu")``;
    * ``"xavier"``: the paper's Gaussian form std sqrt(1 / n_l) via ``kaiming_normal_(nonlinearity="linear")``.
    """
    if scheme not in INITS:
        raise ValueError(f"unknown initialisation {scheme!r}; choose one of {', '.join(INITS)}")
    for layer in weight_layers(model):
        if scheme == "he":
            nn.init.kaiming_normal_(layer.weight, a=slope, mode="fan_in", nonlinearity="leaky_relu",
                                    generator=generator)
        else:
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="linear", generator=generator)
        nn.init.zeros_(layer.bias)
    return model


def prelu_slopes(model: nn.Module) -> dict[str, float]:
    """Each rectified layer's learned a (channel-shared) or mean a over its channels (channel-wise), as Table 1."""
    return {name.removeprefix("act_"): module.weight.detach().mean().item()
            for name, module in model.named_children() if isinstance(module, nn.PReLU)}


def extra_parameters(model: nn.Module) -> int:
    """The parameters PReLU adds: its coefficients a."""
    return sum(p.numel() for m in model.modules() if isinstance(m, nn.PReLU) for p in m.parameters())


# ----------------------------------------------------------------------------------------------------------------
# data and training


def load_data(dataset: str, train: bool, size: int | None, subset_seed: int = 0):
    """Images (N, C, H, W) in [0, 1], labels and the data variant's name; a fixed random subset of ``size``."""
    if dataset == "mnist":
        X, y = load_mnist(train=train)
        X, variant = torch.as_tensor(X).reshape(-1, 1, 28, 28), "MNIST"
    elif dataset == "cifar10":
        X, y, variant = load_cifar10(train=train)
        X = torch.as_tensor(X)
    else:
        raise ValueError(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}")
    y = torch.as_tensor(y)
    if size is not None:
        if size > len(X):
            raise ValueError(f"asked for {size} {dataset} images, the {'training' if train else 'test'} set has "
                             f"{len(X)}")
        keep = torch.randperm(len(X), generator=torch.Generator().manual_seed(subset_seed))[:size]
        X, y = X[keep], y[keep]
    return X.float(), y.long(), variant


def sgd(model: nn.Module, lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    """SGD with momentum (eq. 4); weight decay on every parameter except the PReLU coefficients (section 2.1)."""
    prelu = {id(p) for m in model.modules() if isinstance(m, nn.PReLU) for p in m.parameters()}
    groups = [{"params": [p for p in model.parameters() if id(p) not in prelu], "weight_decay": weight_decay},
              {"params": [p for p in model.parameters() if id(p) in prelu], "weight_decay": 0.0}]
    return torch.optim.SGD([g for g in groups if g["params"]], lr=lr, momentum=momentum)


def train(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, steps: int, batch_size: int,
          optimizer: torch.optim.Optimizer, generator: torch.Generator, log_every: int,
          lr_decay_steps: tuple[int, ...] = (), bar=None, name: str = "run") -> list[float]:
    """Minimise cross-entropy for ``steps`` mini-batches (epochs of shuffled batches drawn with ``generator``).

    Returns the mean training loss of every ``log_every`` steps; a non-finite loss raises FloatingPointError.
    """
    if batch_size > len(X):
        raise ValueError(f"batch_size {batch_size} exceeds the {len(X)} training images")
    per_epoch = len(X) // batch_size
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(lr_decay_steps), 0.1)
    curve, window = [], torch.zeros((), device=X.device)
    model.train()
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(X), generator=generator).to(X.device)
        batch = order[(step % per_epoch) * batch_size:(step % per_epoch + 1) * batch_size]
        loss = F.cross_entropy(model(X[batch]), y[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        window += loss.detach()
        if (step + 1) % log_every == 0:
            curve.append(window.item() / log_every)
            window.zero_()
            if not math.isfinite(curve[-1]):
                raise FloatingPointError(f"{name}: the training loss became {curve[-1]} by step {step + 1}; "
                                         "lower the learning rate")
        if bar is not None:
            bar.update(1)
    return curve


# ----------------------------------------------------------------------------------------------------------------
# per-layer scales at initialisation (section 2.2)


def layer_scales(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> dict[str, list[float]]:
    """Second moments at initialisation, one per weight layer l: forward E[y_l^2] of its output, backward
    E[(dE/dy_l)^2], and E[(dE/dW_l)^2] of its weight gradient (cross-entropy on the batch X, y)."""
    outputs = []

    def keep(_module, _inputs, out):
        out.retain_grad()
        outputs.append(out)

    hooks = [layer.register_forward_hook(keep) for layer in weight_layers(model)]
    try:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(X), y).backward()
    finally:
        for hook in hooks:
            hook.remove()
    return {
        "forward": [out.detach().pow(2).mean().item() for out in outputs],
        "backward": [out.grad.pow(2).mean().item() for out in outputs],
        "weight_grad": [layer.weight.grad.pow(2).mean().item() for layer in weight_layers(model)],
        "first_map": outputs[0].detach().pow(2).mean((0, 1)).cpu().tolist(),
    }


def padded_forward_moments(convs: list[nn.Conv2d], first_map: torch.Tensor, gain2: float) -> list[float]:
    """Eq. (8)-(9) position by position: E[y_l^2](p) = Var[w_l] c_l sum_{q in window(p)} 1/2 E[y_{l-1}^2](q), with
    Var[w_l] = gain2 / (k^2 c_l) and the sum running over the inputs that exist (zero padding drops the rest).

    Starts from the measured map E[y_1^2](p) of the first conv; returns the mean over positions for each conv.
    """
    v = torch.as_tensor(first_map, dtype=torch.float64)[None, None]
    moments = [v.mean().item()]
    for conv in convs[1:]:
        k = conv.kernel_size[0]
        box = torch.ones(1, 1, k, k, dtype=torch.float64)
        v = gain2 / (k * k) * F.conv2d(0.5 * v, box, stride=conv.stride, padding=conv.padding)
        moments.append(v.mean().item())
    return moments


def mean_ratio_over_draws(depth: int, width: int, X: torch.Tensor, y: torch.Tensor, draws: int, seed: int
                          ) -> list[float]:
    """For each conv layer l, the mean over ``draws`` He-initialised nets of E[y_l^2] / (eq. 9 with zero padding).

    Eq. (9) is an expectation over the weights, so this mean tends to 1 as ``draws`` grows, whatever the width;
    one narrow net's ratio fluctuates (as a product of per-layer factors) and is typically below 1.
    """
    generator = torch.Generator().manual_seed(seed)
    totals = None
    for _ in range(draws):
        model = initialise(plain_deep_net(depth, X.shape[1], width), "he", 0.0, generator).to(X.device)
        scales = layer_scales(model, X, y)
        convs = [m for m in weight_layers(model) if isinstance(m, nn.Conv2d)]
        predicted = padded_forward_moments(convs, torch.tensor(scales["first_map"]), 2.0)
        ratios = [m / p for m, p in zip(scales["forward"], predicted)]
        totals = ratios if totals is None else [t + r for t, r in zip(totals, ratios)]
    return [t / draws for t in totals]


# ----------------------------------------------------------------------------------------------------------------
# the experiment


def _extend(bar, steps: int) -> None:
    """Add ``steps`` to the progress bar's total once the data sizes are known."""
    bar.total += steps
    bar.refresh()


def _preprocess(X: torch.Tensor, X_test: torch.Tensor, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Subtract the per-pixel training mean (the paper's preprocessing) and divide by the average pixel std, so
    that inputs have about unit variance, as the derivation of eq. (10) assumes."""
    scaler = Standardiser(per_pixel_std=False).fit(X)
    return scaler.transform(X).to(device), scaler.transform(X_test).to(device)


def _prelu_study(config: Config, device, bar) -> dict:
    out = {}
    for dataset, seeds in (("cifar10", config.cifar_seeds), ("mnist", config.mnist_seeds)):
        if not seeds:
            continue
        X, y, variant = load_data(dataset, True, config.train_size)
        X_test, y_test, _ = load_data(dataset, False, config.test_size)
        X, X_test = _preprocess(X, X_test, device)
        y, y_test = y.to(device), y_test.to(device)
        per_epoch = len(X) // config.batch_size
        _extend(bar, len(seeds) * len(ACTIVATIONS) * config.epochs * per_epoch)
        runs = {kind: {"error": [], "slopes": [], "seconds": []} for kind in ACTIVATIONS}
        for seed in seeds:
            for kind in ACTIVATIONS:
                # Same seed: same weight draws (scaled by He's (1 + a^2) factor) and same batches for all four.
                generator = seed_everything(seed, threads=1 if device.type == "cpu" else None)
                model = small_convnet(kind, X.shape[1], X.shape[-1], config.width)
                initialise(model, "he", initial_slope(kind), generator).to(device)
                start = time.perf_counter()
                train(model, X, y, steps=config.epochs * per_epoch, batch_size=config.batch_size,
                      optimizer=sgd(model, config.lr, config.momentum, config.weight_decay), generator=generator,
                      log_every=per_epoch, lr_decay_steps=tuple(e * per_epoch for e in config.lr_decay_epochs),
                      bar=bar, name=f"{dataset} {kind} seed {seed}")
                runs[kind]["seconds"].append(time.perf_counter() - start)
                runs[kind]["error"].append(error_rate(model, X_test, y_test))
                runs[kind]["slopes"].append(prelu_slopes(model))
                runs[kind]["n_params"] = sum(p.numel() for p in model.parameters())
                runs[kind]["extra_params"] = extra_parameters(model)
        out[dataset] = {"variant": variant, "seeds": list(seeds), "train_size": len(X), "test_size": len(X_test),
                        "steps": config.epochs * per_epoch, "runs": runs}
    return out


def _init_study(config: Config, device, bar) -> dict:
    X, y, variant = load_data(config.init_dataset, True, config.init_train_size)
    X_test, y_test, _ = load_data(config.init_dataset, False, config.init_test_size)
    X, X_test = _preprocess(X, X_test, device)
    y, y_test = y.to(device), y_test.to(device)
    probe = slice(0, min(config.scale_batch, len(X)))
    _extend(bar, len(config.init_depths) * len(INITS) * config.init_steps)
    depths = {}
    for depth in config.init_depths:
        per_init = {}
        for scheme in INITS:
            # Same seed for both: Xavier's weights are exactly He's divided by sqrt(2), layer by layer.
            generator = seed_everything(config.init_seed, threads=1 if device.type == "cpu" else None)
            model = initialise(plain_deep_net(depth, X.shape[1], config.init_width), scheme, 0.0, generator)
            model.to(device)
            scales = layer_scales(model, X[probe], y[probe])
            convs = [m for m in weight_layers(model) if isinstance(m, nn.Conv2d)]
            scales["padded_prediction"] = padded_forward_moments(convs, torch.tensor(scales.pop("first_map")),
                                                                 2.0 if scheme == "he" else 1.0)
            curve = train(model, X, y, steps=config.init_steps, batch_size=config.init_batch_size,
                          optimizer=sgd(model, config.init_lr, config.momentum, 0.0), generator=generator,
                          log_every=config.init_log_every, bar=bar, name=f"{depth} layers, {scheme} init")
            per_init[scheme] = {"scales": scales, "curve": curve, "test_error": error_rate(model, X_test, y_test)}
        per_init["he_draws_mean_ratio"] = mean_ratio_over_draws(depth, config.init_width, X[probe], y[probe],
                                                                config.scale_draws, config.init_seed + 1)
        depths[str(depth)] = per_init
    return {"variant": variant, "train_size": len(X), "test_size": len(X_test), "depths": depths}


def run(config: Config, progress: bool = True) -> "Result":
    """Train and measure everything, save ``book/results/he2015.<profile>.json`` and return the Result."""
    start = time.perf_counter()
    device = config.torch_device()
    with tqdm(total=0, desc=f"he2015 ({config.profile})", file=sys.stdout, disable=not progress,
              mininterval=10.0) as bar:
        results = {"prelu": _prelu_study(config, device, bar), "init": _init_study(config, device, bar)}
    wall = time.perf_counter() - start
    results["config"] = asdict(config)
    seeds = sorted(set(config.cifar_seeds) | set(config.mnist_seeds) | {config.init_seed})
    result = Result(results, config.profile, wall)
    save_results(NAME, config.profile, results, verdicts=result.verdicts(), title=TITLE, seeds=seeds,
                 wall_time_s=wall)
    return result


# ----------------------------------------------------------------------------------------------------------------
# the result: tables, verdicts, figures

def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def _std(values) -> float:
    values = list(values)
    m = _mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0


def _log2_ratio(a: float, b: float) -> float:
    return math.log2(a / b) if a > 0 and b > 0 else float("-inf")


def _majority_lower(ours: list[float], reference: list[float]) -> tuple[bool, int]:
    """Lower mean and lower on a majority of paired seeds: the rule every accuracy verdict here uses."""
    wins = sum(o < r for o, r in zip(ours, reference))
    return _mean(ours) < _mean(reference) and 2 * wins > len(ours), wins


class Result:
    """The numbers of one run (a JSON-ready dict, as saved) and the tables, verdicts and figures built from them."""

    def __init__(self, results: dict, profile: str, wall_time_s: float | None = None):
        self.results, self.profile, self.wall_time_s = results, profile, wall_time_s
        self.config = results["config"]

    @classmethod
    def from_saved(cls, payload: dict) -> "Result":
        """A Result from ``rbmlib.report.load_results(NAME, profile)``."""
        return cls(payload["results"], payload["profile"], payload["provenance"].get("wall_time_s"))

    # -- Tables 2 and 4 --------------------------------------------------------------------------------------
    def _prelu_setup(self) -> str:
        c, p = self.config, self.results["prelu"]
        data = "; ".join(f"{d['variant']}: {d['train_size']} training / {d['test_size']} test images, "
                         f"seeds {d['seeds']}" for d in p.values())
        decay = f", lr x 0.1 at epochs {c['lr_decay_epochs']}" if c["lr_decay_epochs"] else ""
        return (f"ours: a 6-rectifier conv net (conv1 {c['width']} channels, 5x5; 2 + 2 3x3 convs; fc1 "
                f"{8 * c['width']}), He init with the (1 + a^2) factor, {c['epochs']} epochs, batch "
                f"{c['batch_size']}, SGD lr {c['lr']}{decay}, momentum {c['momentum']}, weight decay "
                f"{c['weight_decay']} (none on a); {data}. {describe(self.profile)}")

    def prelu_table(self) -> Table:
        p = self.results["prelu"]
        rows = []
        for kind in ACTIVATIONS:
            t2 = PAPER_TABLE2.get(kind)
            t4 = PAPER_TABLE4.get(kind)
            row = [ACTIVATION_LABELS[kind], f"{t2[0]:.2f} / {t2[1]:.2f}" if t2 else "—",
                   f"{t4[0]:.2f} / {t4[1]:.2f}" if t4 else "—"]
            for d in p.values():
                err = d["runs"][kind]["error"]
                row.append(fmt_spread(_mean(err), _std(err), percent=True))
            rows.append(row)
        header = ["activation", "paper Table 2: 14-layer, ImageNet top-1 / top-5 (%)",
                  "paper Table 4: model A, top-1 / top-5 (%)"]
        header += [f"ours: {d['variant']} test error (mean ± std)" for d in p.values()]
        return Table(header, rows, "Tables 2 and 4: ReLU vs PReLU (and a fixed-slope control). Paper: ImageNet "
                     "2012 val (not available here, and out of reach on 2 CPU cores). " + self._prelu_setup())

    def cost_table(self) -> Table:
        """Extra parameters (exact) and training seconds per run (machine-dependent: not a checked output)."""
        rows = []
        for dataset, d in self.results["prelu"].items():
            relu_time = _mean(d["runs"]["relu"]["seconds"])
            for kind in ACTIVATIONS:
                r = d["runs"][kind]
                rows.append([d["variant"], ACTIVATION_LABELS[kind], str(r["n_params"]), str(r["extra_params"]),
                             fmt(r["extra_params"] / r["n_params"], 3, percent=True),
                             fmt(_mean(r["seconds"]), 1), fmt(_mean(r["seconds"]) / relu_time, 2)])
        return Table(["data", "activation", "parameters", "extra (a)", "extra share", "seconds per run",
                      "time / ReLU's"], rows,
                     "Cost of PReLU: parameters (paper: channel-shared adds 13 to the 14-layer model) and "
                     "wall time per training run on this machine. " + describe(self.profile))

    def prelu_verdicts(self) -> list[Verdict]:
        verdicts = []
        rule = "lower mean test error over seeds, and lower on a majority of the paired seeds"
        for d in self.results["prelu"].values():
            runs, name = d["runs"], d["variant"]
            t2, t4 = PAPER_TABLE2, PAPER_TABLE4
            comparisons = [
                ("prelu_channel", "relu", "PReLU (channel-wise) beats ReLU",
                 f"top-1 {t2['prelu_channel'][0]} vs {t2['relu'][0]} (Table 2), {t4['prelu_channel'][0]} vs "
                 f"{t4['relu'][0]} (Table 4)"),
                ("prelu_shared", "relu", "PReLU (channel-shared) beats ReLU",
                 f"top-1 {t2['prelu_shared'][0]} vs {t2['relu'][0]} (Table 2)"),
                ("prelu_channel", "leaky0.25", "the gain needs the *learned* a: channel-wise PReLU beats a fixed "
                 "LeakyReLU(0.25) (our control; the paper credits learning a)", ""),
            ]
            for ours, ref, claim, paper in comparisons:
                holds, wins = _majority_lower(runs[ours]["error"], runs[ref]["error"])
                verdicts.append(Verdict(
                    claim=f"{name}: {claim}", paper=paper, tolerance=rule, holds=holds,
                    evidence=f"{fmt(_mean(runs[ours]['error']), 2, percent=True)} vs "
                             f"{fmt(_mean(runs[ref]['error']), 2, percent=True)}; lower on {wins}/"
                             f"{len(d['seeds'])} seeds"))
            extra = runs["prelu_channel"]["extra_params"] / runs["prelu_channel"]["n_params"]
            verdicts.append(Verdict(
                claim=f"{name}: PReLU's extra cost is negligible",
                paper="13 extra parameters (channel-shared, 14-layer model)",
                tolerance="channel-wise a add ≤ 1% of the parameters (time is shown in the cost table, not "
                          "judged: it depends on the machine)",
                evidence=f"channel-wise +{runs['prelu_channel']['extra_params']} ({fmt(extra, 2, percent=True)}), "
                         f"shared +{runs['prelu_shared']['extra_params']}",
                holds=extra <= 0.01))
        return verdicts

    # -- Table 1 ---------------------------------------------------------------------------------------------
    def _slopes(self, dataset: str, kind: str) -> dict[str, float]:
        """Mean over seeds of each layer's a."""
        per_seed = self.results["prelu"][dataset]["runs"][kind]["slopes"]
        return {layer: _mean(s[layer] for s in per_seed) for layer in RECTIFIED_LAYERS}

    def slopes_table(self) -> Table:
        p = self.results["prelu"]
        header = ["layer (ours)", "stage", "paper: shared a (stage mean)", "paper: channel-wise a (stage mean)"]
        for d in p.values():
            header += [f"ours {d['variant']}: shared a", f"ours {d['variant']}: channel-wise mean a"]
        slopes = {(ds, kind): self._slopes(ds, kind) for ds in p for kind in ("prelu_shared", "prelu_channel")}
        rows = []
        for layer in RECTIFIED_LAYERS:
            stage = STAGE_OF_LAYER[layer]
            paper = [_mean(PAPER_TABLE1[name][i] for name in PAPER_STAGES[stage]) for i in (0, 1)]
            row = [layer, stage, fmt(paper[0], 3), fmt(paper[1], 3)]
            for ds in p:
                row += [fmt(slopes[ds, "prelu_shared"][layer], 3), fmt(slopes[ds, "prelu_channel"][layer], 3)]
            rows.append(row)
        steps = ", ".join(f"{d['steps']} SGD steps on {d['variant']}" for d in p.values())
        return Table(header, rows, f"Table 1: learned PReLU coefficients, initialised at {PRELU_INIT}, mean over "
                     f"seeds ({steps}). The paper's 14-layer model has more layers per stage: its column shows "
                     f"the mean over the stage's layers (conv2x: conv21-24, conv3x: conv31-36, fc: fc1-2). "
                     + describe(self.profile))

    def slopes_verdicts(self) -> list[Verdict]:
        verdicts = []
        for ds, d in self.results["prelu"].items():
            shared, channel = self._slopes(ds, "prelu_shared"), self._slopes(ds, "prelu_channel")
            moved = max(abs(a - PRELU_INIT) for s in (shared, channel) for a in s.values())
            first = all(s["conv1"] >= 0.1 and s["conv1"] == max(s.values()) for s in (shared, channel))
            verdicts.append(Verdict(
                claim=f"{d['variant']}: conv1 learns a clearly positive a, the largest of the net",
                paper="Table 1: conv1 a = {} / {} (shared / channel-wise mean)".format(*PAPER_TABLE1["conv1"]),
                tolerance="conv1's a ≥ 0.1 and the largest of all layers, in both forms (mean over seeds)",
                evidence=f"conv1: shared {fmt(shared['conv1'], 3)} (max elsewhere "
                         f"{fmt(max(v for k, v in shared.items() if k != 'conv1'), 3)}), channel-wise "
                         f"{fmt(channel['conv1'], 3)} (max elsewhere "
                         f"{fmt(max(v for k, v in channel.items() if k != 'conv1'), 3)}); largest move from "
                         f"{PRELU_INIT}: {fmt(moved, 3)}",
                holds=first))
            half = len(RECTIFIED_LAYERS) // 2
            shallow = _mean(channel[k] for k in RECTIFIED_LAYERS[:half])
            deep = _mean(channel[k] for k in RECTIFIED_LAYERS[half:])
            verdicts.append(Verdict(
                claim=f"{d['variant']}: channel-wise a are smaller in deeper layers (\"more nonlinear\")",
                paper="Table 1: channel-wise mean a {} (conv1) down to {} (fc2)".format(
                    PAPER_TABLE1["conv1"][1], PAPER_TABLE1["fc2"][1]),
                tolerance=f"mean a of the deeper half ({', '.join(RECTIFIED_LAYERS[half:])}) < mean of the "
                          "shallower half",
                evidence=f"deeper {fmt(deep, 3)} vs shallower {fmt(shallow, 3)}", holds=deep < shallow))
        return verdicts

    # -- Figure 3 and the per-layer scales --------------------------------------------------------------------
    def _final_loss(self, curve: list[float]) -> float:
        """Mean training loss over the last tenth of the logged points."""
        return _mean(curve[-max(1, len(curve) // 10):])

    def _first_converged_step(self, curve: list[float]) -> int | None:
        every = self.config["init_log_every"]
        return next(((i + 1) * every for i, loss in enumerate(curve) if loss <= CONVERGED_LOSS), None)

    def _init_setup(self) -> str:
        c, i = self.config, self.results["init"]
        return (f"Plain ReLU nets: L - 1 3x3 convs of {c['init_width']} channels (zero padding, stride 2 at the "
                f"start of each of 3 stages) + global average pool + 1 linear layer = L weight layers, no "
                f"normalisation. {i['variant']}, {i['train_size']} training / {i['test_size']} test images, "
                f"{c['init_steps']} SGD steps of batch {c['init_batch_size']}, lr {c['init_lr']} (fixed for all "
                f"runs), momentum {c['momentum']}, no weight decay, seed {c['init_seed']}: the Xavier net's "
                f"weights are the He net's divided by sqrt(2). Xavier is the paper's form, std sqrt(1/n_l). "
                + describe(self.profile))

    def init_table(self) -> Table:
        rows = []
        for depth, per_init in self.results["init"]["depths"].items():
            for scheme in INITS:
                r = per_init[scheme]
                step = self._first_converged_step(r["curve"])
                rows.append([depth, scheme, "sqrt(2/n_l)" if scheme == "he" else "sqrt(1/n_l)",
                             PAPER_FIGURE3.get((int(depth), scheme), "—"), fmt(self._final_loss(r["curve"]), 3),
                             "never" if step is None else str(step), fmt(r["test_error"], 2, percent=True)])
        return Table(["L", "init", "weight std", "paper (ImageNet)", "final training loss",
                      f"first step with loss ≤ {CONVERGED_LOSS:.2f} (0.8 ln 10)", "test error"], rows,
                     "Figure 3: training deep plain ReLU nets from Xavier vs He initialisation (chance: loss "
                     "ln 10 = 2.303, error 90%). " + self._init_setup())

    def _scale_numbers(self, depth: str) -> dict:
        per_init = self.results["init"]["depths"][depth]
        n_convs = int(depth) - 1
        out = {}
        for scheme in INITS:
            s = per_init[scheme]["scales"]
            fwd = s["forward"][:n_convs]
            out[scheme] = {
                "measured": _log2_ratio(fwd[-1], fwd[0]),
                "paper": 0.0 if scheme == "he" else -(n_convs - 1.0),
                "padded": _log2_ratio(s["padded_prediction"][-1], s["padded_prediction"][0]),
                "padded_worst": max(abs(_log2_ratio(m, p)) for m, p in zip(fwd, s["padded_prediction"])),
            }
        he, xa = per_init["he"]["scales"], per_init["xavier"]["scales"]
        out["fwd_ratio"] = _log2_ratio(xa["forward"][n_convs - 1], he["forward"][n_convs - 1])
        out["bwd_ratio"] = _log2_ratio(xa["backward"][0], he["backward"][0])
        out["wgrad_ratio"] = _mean(_log2_ratio(x, h) for x, h in zip(xa["weight_grad"], he["weight_grad"]))
        draws = [math.log2(r) for r in per_init["he_draws_mean_ratio"][:n_convs]]
        out["draws_last"], out["draws_worst"] = draws[-1], max(map(abs, draws))
        return out

    def scale_table(self) -> Table:
        rows = []
        for depth in self.results["init"]["depths"]:
            L = int(depth)
            n = self._scale_numbers(depth)
            for scheme in INITS:
                s = n[scheme]
                xavier = scheme == "xavier"
                rows.append([depth, scheme, fmt(s["measured"], 2), fmt(s["paper"], 2), fmt(s["padded"], 2),
                             fmt(s["padded_worst"], 2), "—" if xavier else fmt(n["draws_last"], 2),
                             fmt(n["fwd_ratio"], 2) if xavier else "—", fmt(n["bwd_ratio"], 2) if xavier else "—",
                             fmt(n["wgrad_ratio"], 2) if xavier else "—", f"{-(L - 1):.2f}" if xavier else "—"])
        return Table(["L", "init", "log2 E[y²] last conv / conv1: measured", "eq. (9) as in the paper",
                      "eq. (9) with zero padding", "worst conv layer: abs log2 (measured / eq. (9) padded)",
                      f"log2 mean of measured / eq. (9) padded over {self.config['scale_draws']} draws, last conv",
                      "log2 E[y²] last conv, Xavier / He",
                      "log2 E[(∂E/∂y)²] conv1, Xavier / He", "log2 E[(∂E/∂W)²] Xavier / He, mean over layers",
                      "paper: -(L-1)"], rows,
                     f"Per-layer scale at initialisation (section 2.2): second moments of the conv outputs y_l and "
                     f"of the gradients, on {self.config['scale_batch']} training images, for the nets trained "
                     f"above and (He) averaged over {self.config['scale_draws']} more independent draws. "
                     + self._init_setup())

    def init_verdicts(self) -> list[Verdict]:
        verdicts = []
        depths = self.results["init"]["depths"]
        for depth, per_init in depths.items():
            final = {s: self._final_loss(per_init[s]["curve"]) for s in INITS}
            first = {s: self._first_converged_step(per_init[s]["curve"]) for s in INITS}
            ok = {s: final[s] <= CONVERGED_LOSS for s in INITS}
            evidence = (f"final loss He {fmt(final['he'], 3)} (≤ {CONVERGED_LOSS:.2f} from step "
                        f"{first['he'] or 'never'}), Xavier {fmt(final['xavier'], 3)} (from step "
                        f"{first['xavier'] or 'never'})")
            if int(depth) >= 30:
                verdicts.append(Verdict(
                    claim=f"L = {depth}: Xavier stalls, He converges", paper=f"Fig. 3: {PAPER_FIGURE3[30, 'xavier']}"
                    f"; He {PAPER_FIGURE3[30, 'he']}",
                    tolerance=f"He's final loss ≤ 0.8 ln 10 = {CONVERGED_LOSS:.2f}, Xavier's above it",
                    evidence=evidence, holds=ok["he"] and not ok["xavier"]))
            else:
                verdicts.append(Verdict(
                    claim=f"L = {depth}: both converge, He earlier", paper="Fig. 2 (22-layer model B)",
                    tolerance=f"both final losses ≤ {CONVERGED_LOSS:.2f}, He's first step below it earlier",
                    evidence=evidence, holds=ok["he"] and ok["xavier"] and first["he"] < first["xavier"]))
            n = self._scale_numbers(depth)
            L = int(depth)
            verdicts.append(Verdict(
                claim=f"L = {depth}: Xavier's signal is 2^(-l/2) of He's at layer l",
                paper="section 2.2: 1/sqrt(2^L) of He's after L layers",
                tolerance="log2 E[y²] Xavier / He at the last conv within 0.1 of -(L-1) (same draws: exact by "
                          "the positive homogeneity of ReLU)",
                evidence=f"{fmt(n['fwd_ratio'], 2)} vs {-(L - 1)}", holds=abs(n["fwd_ratio"] + (L - 1)) <= 0.1))
            verdicts.append(Verdict(
                claim=f"L = {depth}: Xavier's gradients diminish: E[(∂E/∂W)²] is 2^-(L-1) of He's in every layer",
                paper="section 2.3: Xavier's gradients are diminishing (30 layers)",
                tolerance="mean over layers of log2 (Xavier / He) within 1 of -(L-1)",
                evidence=f"{fmt(n['wgrad_ratio'], 2)} vs {-(L - 1)}", holds=abs(n["wgrad_ratio"] + (L - 1)) <= 1))
            verdicts.append(Verdict(
                claim=f"L = {depth}: He init keeps the forward scale constant",
                paper="eq. (10): Var[y_L] = Var[y_1]",
                tolerance="abs log2 (E[y²] last conv / conv1) ≤ 1 (a factor 2)",
                evidence=f"{fmt(n['he']['measured'], 2)}; eq. (9) with zero padding predicts "
                         f"{fmt(n['he']['padded'], 2)}",
                holds=abs(n["he"]["measured"]) <= 1))
            verdicts.append(Verdict(
                claim=f"L = {depth}: eq. (9), carried out with our nets' zero padding, is the expected scale over "
                      "weight draws (our check of the derivation)",
                tolerance=f"abs log2 (mean over {self.config['scale_draws']} He draws of measured / predicted) "
                          "≤ 1 at every conv layer",
                evidence=f"worst layer {fmt(n['draws_worst'], 2)}; one net (the trained one): worst layer "
                         f"{fmt(n['he']['padded_worst'], 2)}",
                holds=n["draws_worst"] <= 1))
        return verdicts

    def verdicts(self, part: str | None = None) -> list[Verdict]:
        """The verdicts of one part, ``"prelu"`` (Tables 2/4), ``"slopes"`` (Table 1) or ``"init"`` (Figures 2-3),
        or of all three (``None``)."""
        parts = {"prelu": self.prelu_verdicts, "slopes": self.slopes_verdicts, "init": self.init_verdicts}
        if part is None:
            return [v for method in parts.values() for v in method()]
        if part not in parts:
            raise ValueError(f"unknown part {part!r}; choose one of {', '.join(parts)}")
        return parts[part]()

    def verdict_table(self, part: str) -> Table:
        return verdict_table(self.verdicts(part), f"Verdicts ({part}, profile {self.profile})")

    def curves_figure(self):
        import matplotlib.pyplot as plt

        depths = self.results["init"]["depths"]
        every = self.config["init_log_every"]
        fig, axes = plt.subplots(1, len(depths), figsize=(5 * len(depths), 3.5), squeeze=False)
        for ax, (depth, per_init) in zip(axes[0], depths.items()):
            for scheme, colour in (("xavier", "tab:red"), ("he", "tab:blue")):
                curve = per_init[scheme]["curve"]
                ax.plot([every * (i + 1) for i in range(len(curve))], curve, color=colour, label=scheme)
            ax.axhline(LN10, color="grey", ls=":", label="ln 10 (chance)")
            ax.axhline(CONVERGED_LOSS, color="grey", ls="--", lw=0.8, label="0.8 ln 10")
            ax.set(title=f"{depth} layers", xlabel="SGD step", ylabel="training loss")
            ax.legend()
        fig.suptitle(f"Figure 3 at our scale ({self.results['init']['variant']}, profile {self.profile})")
        fig.tight_layout()
        return fig

    def scales_figure(self):
        import matplotlib.pyplot as plt

        depths = self.results["init"]["depths"]
        draws = self.config["scale_draws"]
        fig, axes = plt.subplots(3, len(depths), figsize=(5 * len(depths), 10), squeeze=False)
        for col, (depth, per_init) in enumerate(depths.items()):
            n_convs = int(depth) - 1
            layers = list(range(1, n_convs + 1))
            for scheme, colour in (("xavier", "tab:red"), ("he", "tab:blue")):
                s = per_init[scheme]["scales"]
                fwd = [math.log2(v / s["forward"][0]) for v in s["forward"][:n_convs]]
                pad = [math.log2(v / s["padded_prediction"][0]) for v in s["padded_prediction"]]
                paper = [0.0 if scheme == "he" else -(l - 1.0) for l in layers]
                ax = axes[0, col]
                ax.plot(layers, fwd, "o", color=colour, ms=4, label=f"{scheme}: measured")
                ax.plot(layers, paper, "-", color=colour, lw=1, label=f"{scheme}: eq. (9)")
                ax.plot(layers, pad, "--", color=colour, lw=1, label=f"{scheme}: eq. (9), zero padding")
                bwd = [math.log2(v / s["backward"][n_convs - 1]) for v in s["backward"][:n_convs]]
                axes[1, col].plot(layers, bwd, "o-", color=colour, ms=4, lw=1, label=scheme)
            he = per_init["he"]["scales"]
            axes[2, col].plot(layers, [math.log2(m / p) for m, p in zip(he["forward"], he["padded_prediction"])],
                              "o-", color="tab:blue", ms=4, lw=1, label="he: the trained net")
            axes[2, col].plot(layers, [math.log2(r) for r in per_init["he_draws_mean_ratio"][:n_convs]], "s-",
                              color="black", ms=4, lw=1, label=f"he: mean ratio over {draws} draws")
            axes[2, col].axhline(0.0, color="grey", lw=0.8)
            axes[2, col].set(title=f"{depth} layers: measured / eq. (9) with zero padding", xlabel="conv layer l",
                             ylabel="log2 ratio")
            axes[2, col].legend(fontsize=7)
            axes[0, col].set(title=f"{depth} layers: forward", xlabel="conv layer l",
                             ylabel="log2 E[y_l²] / E[y_1²]")
            axes[1, col].set(title=f"{depth} layers: backward", xlabel="conv layer l",
                             ylabel="log2 E[(∂E/∂y_l)²] / last conv's")
            axes[0, col].legend(fontsize=7)
            axes[1, col].legend(fontsize=7)
        fig.suptitle(f"Scale at initialisation (profile {self.profile})")
        fig.tight_layout()
        return fig
