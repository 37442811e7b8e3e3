"""Tests of rbmlib.activity against hand-counted codes: the hidden codes of a Sequential, exact sparsity, dead units
(counted exactly across mini-batches) and code histograms."""
import math

import pytest
import torch
from torch import nn

from rbmlib.activity import code_histogram, forward_with_codes, layer_activity


def tiny_net():
    """layer 1 = relu(x) (identity weights), layer 2 = relu(x1 + x2 − 1), then a 1 → 3 head."""
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 3))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
        net[0].bias.zero_()
        net[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        net[2].bias.fill_(-1.0)
    return net


X = torch.tensor([[1.0, -1.0], [-1.0, -1.0], [2.0, 3.0], [-2.0, 0.5]])


def test_codes_are_the_activation_outputs_in_order():
    net = tiny_net()
    codes, out = forward_with_codes(net, X)
    assert len(codes) == 2 and torch.equal(out, net(X))
    assert torch.equal(codes[0], torch.tensor([[1.0, 0.0], [0.0, 0.0], [2.0, 3.0], [0.0, 0.5]]))
    assert torch.equal(codes[1], torch.tensor([[0.0], [0.0], [4.0], [0.0]]))
    tanh = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2), nn.Softplus(beta=2.0), nn.Linear(2, 1))
    assert [c.shape[1] for c in forward_with_codes(tanh, X)[0]] == [3, 2]


@pytest.mark.parametrize("batch_size", [1, 3, 4, 1000])
def test_exact_zeros_and_dead_units_are_counted_exactly_over_batches(batch_size):
    # layer 1 (4 × 2): zeros at (0, 1), (1, 0), (1, 1), (3, 0): 4 of 8; no unit is 0 on every example.
    # layer 2 (4 × 1): 0, 0, 4, 0: 3 of 4 zeros; its one unit fires on example 2, so it is not dead.
    first, second = layer_activity(tiny_net(), X, batch_size=batch_size)
    assert (first.zero_fraction, first.dead_fraction, first.units, first.examples) == (0.5, 0.0, 2, 4)
    assert (second.zero_fraction, second.dead_fraction) == (0.75, 0.0)
    # without example 2 the second layer's unit never fires: dead, and unit 2 of layer 1 fires only on row 3
    first, second = layer_activity(tiny_net(), X[[0, 1, 3]], batch_size=batch_size)
    assert (first.zero_fraction, first.dead_fraction) == (4 / 6, 0.0)
    assert (second.zero_fraction, second.dead_fraction) == (1.0, 1.0)
    first, _ = layer_activity(tiny_net(), X[[1, 3]], batch_size=batch_size)
    assert (first.zero_fraction, first.dead_fraction) == (0.75, 0.5)  # unit 1 is 0 on both rows


def test_activity_runs_in_eval_mode_and_restores_the_mode():
    net = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.ReLU())
    net.train()
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.fill_(1.0)
    (layer,) = layer_activity(net, torch.ones(50, 2))
    assert layer.zero_fraction == 0.0 and net.training  # dropout off during the count, training mode back after
    with pytest.raises(ValueError, match="empty"):
        layer_activity(net, torch.ones(0, 2))


def test_tanh_and_softplus_codes_have_no_exact_zeros_but_relu_codes_do():
    x = (torch.arange(-50, 51) / 10).unsqueeze(1)  # holds an exact 0
    for act, zeros in ((nn.Tanh(), 1 / 101), (nn.Softplus(), 0.0), (nn.ReLU(), 51 / 101)):
        (layer,) = layer_activity(nn.Sequential(nn.Identity(), act), x)  # tanh(0) = 0 is the one exact zero
        assert layer.zero_fraction == pytest.approx(zeros, abs=1e-12)


def test_code_histogram_counts_and_zero_fraction():
    h = torch.tensor([[0.0, 0.0, 1.0], [0.5, 2.0, 0.0]])
    hist = code_histogram(h, bins=4)
    assert hist["edges"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert hist["counts"] == [3, 1, 1, 1] and sum(hist["counts"]) == h.numel()
    assert hist["zero_fraction"] == 0.5
    signed = code_histogram(torch.tensor([-1.0, 1.0]), bins=2)
    assert signed["edges"] == [-1.0, 0.0, 1.0] and signed["counts"] == [1, 1] and signed["zero_fraction"] == 0.0
    dead = code_histogram(torch.zeros(5), bins=2)  # all zeros: a tiny range that still holds them
    assert dead["counts"][0] == 5 and math.isclose(dead["edges"][-1], 1e-6) and dead["zero_fraction"] == 1.0
    with pytest.raises(ValueError, match="non-empty"):
        code_histogram(torch.zeros(0))
