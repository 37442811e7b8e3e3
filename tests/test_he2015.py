"""He et al. 2015: PReLU (eq. 1-4), He / Xavier initialisation (eq. 10, 15), the variance derivation (eq. 8-9)."""
import dataclasses
import functools
import json
import math

import pytest
import torch
from torch import nn

from rbmlib.data import MissingDataError
from rbmlib.experiments import he2015 as H
from rbmlib.report import save_results


def _draws(shape, std, seed):
    return torch.empty(shape).normal_(0.0, std, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("slope", [0.0, 0.25])
def test_he_init_is_eq15_with_fan_in(slope):
    """std = sqrt(2 / ((1 + a^2) n_l)) with n_l = k^2 c (fan-in, not fan-out), biases 0."""
    conv = nn.Conv2d(12, 40, 3)
    H.initialise(nn.Sequential(conv), "he", slope, torch.Generator().manual_seed(3))
    expected_std = math.sqrt(2.0 / ((1.0 + slope**2) * 9 * 12))
    torch.testing.assert_close(conv.weight, _draws(conv.weight.shape, expected_std, 3))
    assert torch.count_nonzero(conv.bias) == 0


def test_xavier_is_the_papers_form_not_xavier_normal():
    """The paper's Xavier: std sqrt(1 / n_l). torch's xavier_normal_ (sqrt(2 / (fan_in + fan_out))) agrees only when
    fan-in equals fan-out."""
    lin = nn.Linear(50, 10)
    H.initialise(nn.Sequential(lin), "xavier", generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(lin.weight, _draws((10, 50), math.sqrt(1 / 50), 4))
    torch_form = nn.init.xavier_normal_(torch.empty(10, 50), generator=torch.Generator().manual_seed(4))
    assert not torch.allclose(lin.weight, torch_form)
    square = nn.Linear(30, 30)
    H.initialise(nn.Sequential(square), "xavier", generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(square.weight, nn.init.xavier_normal_(torch.empty(30, 30),
                                                                      generator=torch.Generator().manual_seed(5)))


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="initialisation"):
        H.initialise(nn.Linear(2, 2), "glorot")
    with pytest.raises(ValueError, match="activation"):
        H.make_activation("elu", 3)
    with pytest.raises(ValueError, match="ci, paper"):
        H.Config.for_profile("full")
    with pytest.raises(ValueError, match="init_depths"):
        dataclasses.replace(H.Config.for_profile("ci"), init_depths=(3,))
    with pytest.raises(ValueError, match="lr"):
        dataclasses.replace(H.Config.for_profile("ci"), lr=0.0)


@pytest.mark.parametrize("kind, n_a", [("prelu_shared", 1), ("prelu_channel", 5)])
def test_prelu_is_eq1_and_its_gradient_eq2(kind, n_a):
    """f(y) = max(0, y) + a min(0, y), a = 0.25 at start; dE/da = sum over y <= 0 of y dE/df (eq. 2-3)."""
    act = H.make_activation(kind, 5)
    assert act.weight.numel() == n_a and torch.all(act.weight == 0.25)
    y = torch.randn(4, 5, 3, 3, generator=torch.Generator().manual_seed(0))
    out = act(y)
    torch.testing.assert_close(out, y.clamp(min=0) + 0.25 * y.clamp(max=0))
    upstream = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
    out.backward(upstream)
    per_channel = (upstream * y.clamp(max=0)).sum((0, 2, 3))
    torch.testing.assert_close(act.weight.grad, per_channel.sum().reshape(1) if n_a == 1 else per_channel)


def test_leaky_control_has_the_initial_slope_fixed():
    act = H.make_activation("leaky0.25", 4)
    assert list(act.parameters()) == []
    y = torch.tensor([-2.0, 3.0])
    torch.testing.assert_close(act(y), torch.tensor([-0.5, 3.0]))


def test_no_weight_decay_on_prelu_coefficients():
    """With a zero loss gradient, one SGD step shrinks weights by (1 - lr wd) but leaves every a at 0.25."""
    model = H.initialise(H.small_convnet("prelu_channel", 1, 28, 2), "he", 0.25, torch.Generator().manual_seed(0))
    before = model.conv1.weight.detach().clone()
    opt = H.sgd(model, lr=0.1, momentum=0.9, weight_decay=0.5)
    (0.0 * sum(p.sum() for p in model.parameters())).backward()
    opt.step()
    torch.testing.assert_close(model.conv1.weight, before * (1 - 0.1 * 0.5))
    assert all(torch.all(m.weight == 0.25) for m in model.modules() if isinstance(m, nn.PReLU))


def test_small_convnet_layers_and_extra_parameters():
    for channels, side in ((3, 32), (1, 28)):
        model = H.small_convnet("prelu_shared", channels, side, 4)
        assert model(torch.zeros(2, channels, side, side)).shape == (2, 10)
        assert tuple(H.prelu_slopes(model)) == H.RECTIFIED_LAYERS
        assert H.extra_parameters(model) == len(H.RECTIFIED_LAYERS)
    widths = 4 + 8 + 8 + 16 + 16 + 32  # channels of conv1, conv21, conv22, conv31, conv32, units of fc1
    assert H.extra_parameters(H.small_convnet("prelu_channel", 3, 32, 4)) == widths
    assert H.extra_parameters(H.small_convnet("relu", 3, 32, 4)) == 0


@pytest.mark.parametrize("depth", [22, 30])
def test_plain_net_is_really_that_deep(depth):
    model = H.plain_deep_net(depth, 1, 4)
    layers = H.weight_layers(model)
    assert len(layers) == depth and isinstance(layers[-1], nn.Linear)
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == depth - 1
    assert sorted(m.stride[0] for m in layers[:-1]).count(2) == 3
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_xavier_scale_is_he_over_sqrt2_per_layer_exactly():
    """Same draws: Xavier's weights are He's / sqrt(2), so (ReLU being positively homogeneous, biases 0) the
    second moment at layer l is 2^-l of He's and every weight gradient 2^-(L-1) of He's (softmax factor aside)."""
    x = torch.randn(16, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    y = torch.arange(16) % 10
    scales = {}
    for scheme in H.INITS:
        model = H.initialise(H.plain_deep_net(8, 1, 6), scheme, 0.0, torch.Generator().manual_seed(1))
        scales[scheme] = H.layer_scales(model, x, y)
    for l, (xa, he) in enumerate(zip(scales["xavier"]["forward"], scales["he"]["forward"]), start=1):
        assert math.log2(xa / he) == pytest.approx(-l, abs=1e-4)
    for xa, he in zip(scales["xavier"]["weight_grad"], scales["he"]["weight_grad"]):
        assert math.log2(xa / he) == pytest.approx(-7, abs=0.3)


def test_padded_derivation_on_a_constant_map():
    """A 3x3 conv with zero padding on an 8x8 map: a position with r x c existing inputs keeps r c / 9 of the
    input's second moment under He (gain^2 = 2 cancels ReLU's 1/2) and half of that under Xavier."""
    convs = [nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, padding=1)]
    per_axis = (2 + 6 * 3 + 2) / 8
    he = H.padded_forward_moments(convs, torch.ones(8, 8), gain2=2.0)
    assert he == pytest.approx([1.0, per_axis**2 / 9])
    xavier = H.padded_forward_moments(convs, torch.ones(8, 8), gain2=1.0)
    assert xavier[1] == pytest.approx(0.5 * per_axis**2 / 9)


def test_padded_derivation_is_the_expectation_over_draws():
    """Eq. (9) position by position is exact in expectation over the weights: the mean over 64 independent He nets
    of measured / predicted E[y_l^2] is 1 within 15% at every layer, while the prediction itself falls with depth
    (zero padding loses signal)."""
    x = torch.randn(64, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    ratios = H.mean_ratio_over_draws(5, 16, x, torch.arange(64) % 10, draws=64, seed=0)
    assert len(ratios) == 4 and ratios[0] == pytest.approx(1.0)  # one per conv; conv1 is where it starts
    for r in ratios:
        assert r == pytest.approx(1.0, abs=0.15)
    model = H.plain_deep_net(5, 1, 16)
    convs = [m for m in H.weight_layers(model) if isinstance(m, nn.Conv2d)]
    predicted = H.padded_forward_moments(convs, torch.ones(16, 16), 2.0)
    assert predicted[-1] < 0.8 * predicted[0]


def test_train_learns_and_rejects_a_diverging_run():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 1, 8, 8, generator=g)
    y = (X.mean((1, 2, 3)) > 0).long()
    model = H.initialise(H.plain_deep_net(5, 1, 4), "he", 0.0, g)
    curve = H.train(model, X, y, steps=60, batch_size=16, optimizer=H.sgd(model, 0.05, 0.9, 0.0), generator=g,
                    log_every=20)
    assert len(curve) == 3 and curve[-1] < curve[0]
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        H.train(model, X * float("nan"), y, steps=4, batch_size=16, optimizer=H.sgd(model, 0.05, 0.9, 0.0),
                generator=g, log_every=2)
    with pytest.raises(ValueError, match="batch_size"):
        H.train(model, X, y, steps=1, batch_size=65, optimizer=H.sgd(model, 0.05, 0.9, 0.0), generator=g,
                log_every=1)


def test_verdict_rules():
    assert H._majority_lower([0.1, 0.2, 0.3], [0.2, 0.3, 0.2]) == (True, 2)
    assert H._majority_lower([0.1, 0.35, 0.35], [0.2, 0.3, 0.3]) == (False, 1)


def test_tiny_run_end_to_end(tmp_path, monkeypatch):
    """A tiny configuration through run(): tables render, the saved JSON rebuilds the same tables."""
    try:
        H.load_data("mnist", False, 10)
        H.load_data("cifar10", False, 10)
    except MissingDataError as err:
        pytest.skip(f"data not available: {err}")
    monkeypatch.setattr(H, "save_results", functools.partial(save_results, directory=tmp_path))
    config = dataclasses.replace(
        H.Config.for_profile("ci"), cifar_seeds=(0,), mnist_seeds=(0,), train_size=128, test_size=64, width=2,
        epochs=1, init_depths=(6,), init_width=4, init_train_size=128, init_test_size=64, init_steps=4,
        init_log_every=2, scale_batch=16)
    result = H.run(config, progress=False)
    tables = [result.prelu_table(), result.slopes_table(), result.init_table(), result.scale_table()]
    tables += [result.verdict_table(part) for part in ("prelu", "slopes", "init")]
    assert "CIFAR-10 (JPEG q75 copy)" in tables[0].markdown() and "profile `ci`" in tables[0].markdown()
    assert len(tables[0].rows) == len(H.ACTIVATIONS) and len(tables[1].rows) == len(H.RECTIFIED_LAYERS)
    payload = json.loads((tmp_path / "he2015.ci.json").read_text())
    assert [v["claim"] for v in payload["verdicts"]] == [v.claim for v in result.verdicts()]
    saved = H.Result.from_saved(payload)
    assert saved.prelu_table().markdown() == tables[0].markdown()
    assert saved.verdict_table("init").markdown() == tables[-1].markdown()
    with pytest.raises(ValueError, match="part"):
        result.verdict_table("table9")
