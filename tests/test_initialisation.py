"""rbmlib.initialisation: He and Xavier fan-in initialisation (He et al. 2015, eq. 10 and 15), the forward second
moments of eq. (8)-(9) with zero padding, and their measurement."""
import math

import pytest
import torch
from torch import nn

from rbmlib.initialisation import (fan_in, gaussian_fan_in_init, he_gain2, he_init, padded_forward_moments,
                                   second_moments, weight_layers, xavier_init)


def _draws(shape, std, seed):
    return torch.empty(shape).normal_(0.0, std, generator=torch.Generator().manual_seed(seed))


def _plain(depth, width, in_channels=1):
    """depth − 1 3x3 convs (zero padding; stride 2 at the start of three stages) with ReLU, global average pool,
    one linear layer."""
    n, layers = depth - 1, []
    for i in range(n):
        stride = 2 if i in {0, n // 3, 2 * n // 3} else 1
        layers += [nn.Conv2d(in_channels if i == 0 else width, width, 3, padding=1, stride=stride), nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


def test_fan_in_is_k2c():
    assert fan_in(nn.Conv2d(12, 40, 3)) == 9 * 12
    assert fan_in(nn.Conv2d(3, 5, (5, 2))) == 30
    assert fan_in(nn.Linear(50, 10)) == 50


@pytest.mark.parametrize("slope", [0.0, 0.25])
def test_he_init_is_eq15_with_fan_in(slope):
    """std = sqrt(2 / ((1 + a²) n_l)) with n_l = k²c (fan-in, not fan-out), biases 0: PyTorch's kaiming_normal_."""
    conv = nn.Conv2d(12, 40, 3)
    he_init(nn.Sequential(conv), torch.Generator().manual_seed(3), slope)
    torch.testing.assert_close(conv.weight, _draws(conv.weight.shape, math.sqrt(2.0 / ((1 + slope**2) * 108)), 3))
    assert torch.count_nonzero(conv.bias) == 0
    torch_form = nn.init.kaiming_normal_(torch.empty(40, 12, 3, 3), a=slope, nonlinearity="leaky_relu",
                                         generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(conv.weight, torch_form)
    assert he_gain2(0.0) == 2.0 and he_gain2(0.25) == 2.0 / 1.0625


def test_xavier_is_the_papers_form_not_xavier_normal():
    """The paper's Xavier: std sqrt(1 / n_l). torch's xavier_normal_ (sqrt(2 / (fan_in + fan_out))) agrees only when
    fan-in equals fan-out."""
    lin = nn.Linear(50, 10)
    xavier_init(nn.Sequential(lin), torch.Generator().manual_seed(4))
    torch.testing.assert_close(lin.weight, _draws((10, 50), math.sqrt(1 / 50), 4))
    torch_form = nn.init.xavier_normal_(torch.empty(10, 50), generator=torch.Generator().manual_seed(4))
    assert not torch.allclose(lin.weight, torch_form)
    square = nn.Linear(30, 30)
    xavier_init(nn.Sequential(square), torch.Generator().manual_seed(5))
    torch.testing.assert_close(square.weight, nn.init.xavier_normal_(torch.empty(30, 30),
                                                                      generator=torch.Generator().manual_seed(5)))


def test_same_generator_state_gives_xavier_equal_to_he_over_sqrt2():
    he = he_init(_plain(4, 3), torch.Generator().manual_seed(7))
    xa = xavier_init(_plain(4, 3), torch.Generator().manual_seed(7))
    for h, x in zip(weight_layers(he), weight_layers(xa)):
        torch.testing.assert_close(x.weight, h.weight / math.sqrt(2.0))


def test_weight_layers_in_order_and_bad_gain():
    model = _plain(5, 2)
    layers = weight_layers(model)
    assert len(layers) == 5 and isinstance(layers[-1], nn.Linear)
    assert all(isinstance(m, nn.Conv2d) for m in layers[:-1])
    with pytest.raises(ValueError, match="gain2"):
        gaussian_fan_in_init(model, 0.0, torch.Generator())


def test_padded_derivation_on_a_constant_map():
    """A 3x3 conv with zero padding on an 8x8 map: a position with r x c existing inputs keeps r c / 9 of the
    input's second moment under He (gain² = 2 cancels ReLU's ½) and half of that under Xavier; behind a rectifier
    of slope a, He's gain 2 / (1 + a²) cancels ½(1 + a²) again."""
    convs = [nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, padding=1)]
    per_axis = (2 + 6 * 3 + 2) / 8
    assert padded_forward_moments(convs, torch.ones(8, 8), gain2=2.0) == pytest.approx([1.0, per_axis**2 / 9])
    assert padded_forward_moments(convs, torch.ones(8, 8), gain2=1.0)[1] == pytest.approx(0.5 * per_axis**2 / 9)
    prelu = padded_forward_moments(convs, torch.ones(8, 8), gain2=he_gain2(0.25), slope=0.25)
    assert prelu == pytest.approx([1.0, per_axis**2 / 9])


def test_unpadded_derivation_is_eq9():
    """Without padding every output has its k²c inputs: E[y_l²] = E[y_1²] (gain² (1 + a²) / 2)^(l−1)."""
    convs = [nn.Conv2d(1, 1, 3) for _ in range(4)]
    first = torch.full((12, 12), 3.0)
    assert padded_forward_moments(convs, first, gain2=1.0) == pytest.approx([3.0 * 0.5**l for l in range(4)])
    assert padded_forward_moments(convs, first, gain2=2.0) == pytest.approx([3.0] * 4)


def test_second_moments_of_a_linear_net_by_hand():
    """One linear layer W (2x3) on one example: forward y = W x, backward ∂E/∂y = softmax(y) − onehot,
    weight gradient (∂E/∂y) xᵀ, each squared and averaged."""
    lin = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]]))
    x, y = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([1])
    out = second_moments(nn.Sequential(lin), x, y)
    logits = torch.tensor([-2.0, 4.5])
    delta = torch.softmax(logits, 0) - torch.tensor([0.0, 1.0])
    assert out["forward"] == pytest.approx([logits.pow(2).mean().item()])
    assert out["backward"] == pytest.approx([delta.pow(2).mean().item()])
    assert out["weight_grad"] == pytest.approx([torch.outer(delta, x[0]).pow(2).mean().item()])
    assert out["first_map"].shape == (1, 1)


def test_xavier_scale_is_he_over_sqrt2_per_layer_exactly():
    """Same draws: Xavier's weights are He's / sqrt(2), so (ReLU being positively homogeneous, biases 0) the
    second moment at layer l is 2^-l of He's and every weight gradient about 2^-(L-1) of He's (softmax aside)."""
    x = torch.randn(16, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    y = torch.arange(16) % 10
    he = second_moments(he_init(_plain(8, 6), torch.Generator().manual_seed(1)), x, y)
    xa = second_moments(xavier_init(_plain(8, 6), torch.Generator().manual_seed(1)), x, y)
    for l, (a, b) in enumerate(zip(xa["forward"], he["forward"]), start=1):
        assert math.log2(a / b) == pytest.approx(-l, abs=1e-4)
    for a, b in zip(xa["weight_grad"], he["weight_grad"]):
        assert math.log2(a / b) == pytest.approx(-7, abs=0.3)


def test_padded_derivation_is_the_expectation_over_draws():
    """Eq. (9) position by position is exact in expectation over the weights: the mean over 64 independent He nets
    of measured / predicted E[y_l²] is 1 within 15% at every conv layer, while the prediction itself falls with
    depth (zero padding loses signal)."""
    x = torch.randn(64, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    y = torch.arange(64) % 10
    generator = torch.Generator().manual_seed(0)
    totals = torch.zeros(4, dtype=torch.float64)
    for _ in range(64):
        model = he_init(_plain(5, 16), generator)
        s = second_moments(model, x, y)
        convs = [m for m in weight_layers(model) if isinstance(m, nn.Conv2d)]
        predicted = padded_forward_moments(convs, s["first_map"], he_gain2())
        totals += torch.tensor(s["forward"][:4], dtype=torch.float64) / torch.tensor(predicted, dtype=torch.float64)
    ratios = totals / 64
    assert ratios[0] == pytest.approx(1.0)
    assert torch.all((ratios - 1).abs() <= 0.15), ratios
    assert predicted[-1] < 0.8 * predicted[0]
