"""The RBM's energies, free energies and conditionals against brute-force enumeration and hand computation."""
import math

import pytest
import torch
from torch import nn

from oracles import all_binary_states, brute_force_free_energy, joint_log_probabilities, random_rbm
from rbmlib.estimators import exact_log_partition
from rbmlib.rbm import RBM
from rbmlib.units import Gaussian


def test_free_energy_sums_out_binary_hiddens():
    rbm = random_rbm(5, 4, seed=1)
    v = all_binary_states(5)
    torch.testing.assert_close(rbm.free_energy(v), brute_force_free_energy(rbm, v))


def test_gaussian_bernoulli_free_energies_match_enumeration_and_the_integral():
    rbm = random_rbm(2, 3, seed=2, visible=Gaussian())
    v = torch.randn(7, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2
    torch.testing.assert_close(rbm.free_energy(v), brute_force_free_energy(rbm, v))
    # F_h(h) = −log ∫∫ exp(−E(v, h)) dv₁ dv₂, by the trapezoid rule on a grid wide enough for N(b + Wh, I)
    grid = torch.linspace(-15, 15, 301, dtype=torch.float64)
    v1, v2 = torch.meshgrid(grid, grid, indexing="ij")
    points = torch.stack([v1.flatten(), v2.flatten()], 1)
    with torch.no_grad():
        for h in all_binary_states(3):
            density = torch.exp(-rbm.energy(points, h.expand(len(points), -1))).reshape(301, 301)
            integral = torch.trapezoid(torch.trapezoid(density, grid, dim=1), grid)
            torch.testing.assert_close(rbm.free_energy_hidden(h[None]), -integral.log()[None])


def test_two_by_two_free_energy_by_hand():
    rbm = RBM(2, 2, dtype=torch.float64)
    with torch.no_grad():
        rbm.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0]], dtype=torch.float64))
        rbm.visible_bias.copy_(torch.tensor([0.1, -0.2], dtype=torch.float64))
        rbm.hidden_bias.copy_(torch.tensor([0.3, -0.4], dtype=torch.float64))
    # v = (1, 0): hidden inputs c + vW = (1.3, −1.4); F = −0.1 − log(1 + e^1.3) − log(1 + e^−1.4)
    #           = −0.1 − 1.5410085 − 0.2204174 = −1.8614259
    # v = (1, 1): hidden inputs (1.8, 0.6);     F = +0.1 − 1.9529776 − 1.0374880 = −2.8904656
    v = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(rbm.free_energy(v), torch.tensor([-1.8614259, -2.8904656], dtype=torch.float64),
                               atol=1e-7, rtol=0)
    # Z = Σ over the 16 (v, h) of exp(−E) = 44.080671, log Z = 3.7860214
    assert exact_log_partition(rbm) == pytest.approx(3.7860214, abs=1e-7)
    # E(v = (1, 0), h = (1, 0)) = −b₁ − c₁ − W₁₁ = −0.1 − 0.3 − 1.0
    assert rbm.energy(v[:1], torch.tensor([[1.0, 0.0]], dtype=torch.float64)).item() == pytest.approx(-1.4)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5)], ids=["visible-larger", "hidden-larger"])
def test_log_z_agrees_over_both_layers_and_the_joint(shape):
    rbm = random_rbm(*shape, seed=3)
    v, h, _ = joint_log_probabilities(rbm)
    with torch.no_grad():
        energy = torch.stack([rbm.energy(v, row.expand(len(v), -1)) for row in h])
        joint = torch.logsumexp(-energy.flatten(), 0)
        torch.testing.assert_close(torch.logsumexp(-rbm.free_energy(v), 0), joint)
        torch.testing.assert_close(torch.logsumexp(-rbm.free_energy_hidden(h), 0), joint)
    assert exact_log_partition(rbm) == pytest.approx(joint.item(), abs=1e-10)


def test_conditionals_match_the_enumerated_joint():
    rbm = random_rbm(4, 3, seed=4)
    v, h, log_joint = joint_log_probabilities(rbm)
    p = log_joint.exp()
    p_h_given_v = p / p.sum(1, keepdim=True)
    p_v_given_h = p / p.sum(0, keepdim=True)
    torch.testing.assert_close(rbm.hidden_mean(v), p_h_given_v @ h)
    torch.testing.assert_close(rbm.visible_mean(h), p_v_given_h.T @ v)
    assert torch.equal(rbm(v), rbm.hidden_mean(v))


def test_to_dtype_moves_parameters_and_buffers():
    rbm = RBM(6, 3, hidden_bias=False, generator=torch.Generator().manual_seed(0))
    v = all_binary_states(6, torch.float32)
    f32 = rbm.free_energy(v)
    rbm.to(torch.float64)
    assert all(t.dtype == torch.float64 for t in [*rbm.parameters(), *rbm.buffers()])
    assert isinstance(rbm.weight, nn.Parameter)
    torch.testing.assert_close(rbm.free_energy(v.double()), f32.double(), atol=1e-5, rtol=1e-6)


def test_fixed_hidden_bias_is_a_zero_buffer():
    rbm = RBM(6, 3, hidden_bias=False, generator=torch.Generator().manual_seed(0))
    assert "hidden_bias" in dict(rbm.named_buffers()) and "hidden_bias" not in dict(rbm.named_parameters())
    assert "hidden_bias" in rbm.state_dict() and "fixed at 0" in repr(rbm)
    optimiser = torch.optim.SGD(rbm.parameters(), lr=1.0)
    rbm.free_energy(torch.ones(2, 6)).sum().backward()
    optimiser.step()
    assert torch.equal(rbm.hidden_bias, torch.zeros(3)) and rbm.visible_bias.abs().sum() > 0


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="n_visible"):
        RBM(0, 3)
    with pytest.raises(ValueError, match="weight_std"):
        RBM(3, 3, weight_std=-1.0)
    assert math.isclose(RBM(3, 2, weight_std=0.0).weight.abs().sum().item(), 0.0)
