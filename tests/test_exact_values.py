"""Exact values, by hand (issue 21): every unit type's potential and log-partition term, the free energies they make
on a 2 × 2 RBM, reconstruction error of a model with nonzero weights, and AIS's reported band and base-model log Z
recomputed from the numbers it returns."""
import math

import pytest
import torch

from oracles import random_rbm
from rbmlib.estimators import ais, default_betas, reconstruction_error, reverse_ais
from rbmlib.rbm import RBM
from rbmlib.units import Bernoulli, Gaussian, NReLU, SteppedSigmoid

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_bernoulli_terms():
    # log Σ_{s∈{0,1}} e^{xs} = log(1 + e^x): log 2 at 0
    torch.testing.assert_close(Bernoulli().log_partition(t(0.0, 2.0, -3.0)),
                               t(0.6931471805599453, 2.1269280110429727, 0.04858735157374206))
    assert torch.equal(Bernoulli().potential(t(0.0, 1.0)), t(0.0, 0.0))


def test_gaussian_terms():
    # ψ(s) = s²/2; log ∫ e^{xs − s²/2} ds = x²/2 + ½ log 2π
    torch.testing.assert_close(Gaussian().potential(t(3.0, -1.0, 0.0)), t(4.5, 0.5, 0.0))
    torch.testing.assert_close(Gaussian().log_partition(t(2.0, 0.0, -1.0)),
                               t(2.9189385332046727, HALF_LOG_2PI, 0.5 + HALF_LOG_2PI))


def test_stepped_sigmoid_terms():
    # N copies with offsets 0.5, 1.5, …: log_partition(x) = Σ_{i=1}^{N} softplus(x − i + 0.5)
    torch.testing.assert_close(SteppedSigmoid(2).log_partition(t(1.0)), t(1.4481539683602134))
    torch.testing.assert_close(SteppedSigmoid(3).log_partition(t(1.2)), t(1.8985497471869772))
    torch.testing.assert_close(SteppedSigmoid(1).log_partition(t(0.5)), t(math.log(2)))
    # mean = Σ sigmoid(x − i + 0.5): at x = 1 with two copies, sigmoid(0.5) + sigmoid(−0.5) = 1
    torch.testing.assert_close(SteppedSigmoid(2).mean(t(1.0)), t(1.0))
    with pytest.raises(NotImplementedError):
        SteppedSigmoid(2).potential(t(1.0))


@pytest.mark.parametrize("n_copies", [1, 3, 100])
def test_nrelu_log_partition_is_the_stepped_sigmoid_form_it_approximates(n_copies):
    x = t(-2.0, 0.0, 0.3, 4.0, 25.0)
    expected = t(*[sum(softplus(v - i + 0.5) for i in range(1, n_copies + 1)) for v in x.tolist()])
    for noise in ("sigmoid", "unit"):
        units = NReLU(noise_variance=noise, n_copies=n_copies)
        torch.testing.assert_close(units.log_partition(x), expected)
        assert torch.equal(units.log_partition(x), SteppedSigmoid(n_copies).log_partition(x))


def two_by_two(visible=None, hidden=None):
    rbm = RBM(2, 2, visible, hidden, dtype=torch.float64)
    with torch.no_grad():
        rbm.weight.copy_(t(1.0, -1.0, 0.5, 2.0).reshape(2, 2))
        rbm.visible_bias.copy_(t(0.1, -0.2))
        rbm.hidden_bias.copy_(t(0.3, -0.4))
    return rbm


def test_free_energies_of_each_unit_type_by_hand():
    """W = [[1, −1], [0.5, 2]], b = (0.1, −0.2), c = (0.3, −0.4)."""
    # Gaussian visibles, binary hiddens, v = (0.5, −1): −b·v = −0.25, Σ v²/2 = 0.625, c + vW = (0.3, −2.9)
    rbm = two_by_two(Gaussian(), Bernoulli())
    expected = -0.25 + 0.625 - softplus(0.3) - softplus(-2.9)
    torch.testing.assert_close(rbm.free_energy(t(0.5, -1.0)[None]), t(expected))
    # F_h(h = (1, 0)) = −c·h − Σ_i [x_i²/2 + ½ log 2π] with x = b + Wh = (1.1, 0.3)
    expected_h = -0.3 - (1.1 ** 2 / 2 + HALF_LOG_2PI) - (0.3 ** 2 / 2 + HALF_LOG_2PI)
    torch.testing.assert_close(rbm.free_energy_hidden(t(1.0, 0.0)[None]), t(expected_h))
    # E(v, h) = −b·v + Σ v²/2 − c·h − vᵀWh at v = (0.5, −1), h = (1, 1): vW = (0, −2.5)
    torch.testing.assert_close(rbm.energy(t(0.5, -1.0)[None], t(1.0, 1.0)[None]),
                               t(-0.25 + 0.625 - (0.3 - 0.4) - (0.0 - 2.5)))

    # binary visibles, stepped sigmoid hiddens (3 copies), v = (1, 1): c + vW = (1.8, 0.6)
    rbm = two_by_two(Bernoulli(), SteppedSigmoid(3))
    expected = -(0.1 - 0.2) - sum(softplus(x - i + 0.5) for x in (1.8, 0.6) for i in (1, 2, 3))
    torch.testing.assert_close(rbm.free_energy(t(1.0, 1.0)[None]), t(expected))
    # stepped sigmoid hiddens have no potential of their own (a count has many configurations): no F_h
    with pytest.raises(NotImplementedError):
        rbm.free_energy_hidden(t(2.0, 1.0)[None])

    # binary visibles, NReLU hiddens: the approximate free energy uses the stepped sigmoid's log-partition
    rbm = two_by_two(Bernoulli(), NReLU(n_copies=3))
    torch.testing.assert_close(rbm.free_energy(t(1.0, 1.0)[None]), t(expected))


def test_reconstruction_error_of_a_model_with_nonzero_weights_by_hand():
    """mean over examples and pixels of (v − E[v | E[h | v]])², on the 2 × 2 binary RBM."""
    rbm = two_by_two()
    v = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    W, b, c = [[1.0, -1.0], [0.5, 2.0]], [0.1, -0.2], [0.3, -0.4]
    total = 0.0
    for row in v:
        p = [sigmoid(c[j] + sum(row[i] * W[i][j] for i in range(2))) for j in range(2)]
        recon = [sigmoid(b[i] + sum(p[j] * W[i][j] for j in range(2))) for i in range(2)]
        total += sum((row[i] - recon[i]) ** 2 for i in range(2))
    assert reconstruction_error(rbm, torch.tensor(v, dtype=torch.float64)) == pytest.approx(total / 6, rel=1e-12)
    # v = (1, 0): E[h|v] = σ(1.3, −1.4) = (0.785835, 0.197816); E[v|h] = σ(0.1 + 0.785835 − 0.197816,
    #             −0.2 + 0.392917 + 0.395632) = σ(0.688019, 0.588549) = (0.665527, 0.643034)
    first = reconstruction_error(rbm, torch.tensor(v[:1], dtype=torch.float64))
    assert first == pytest.approx(((1 - 0.665527) ** 2 + 0.643034 ** 2) / 2, abs=1e-6)


def test_ais_reports_log_mean_weight_and_three_standard_errors_of_the_mean():
    """log Ẑ = log Z_A + log mean w, and the band log Z_A + log(mean w ± 3·std(w)/√n), from the weights it returns;
    reverse AIS: log Z_A − log mean w, band log Z_A − log(mean w ∓ 3·std(w)/√n). Z_A of the zero-weight base model
    with zero biases is 2^(n_visible + n_hidden); with biases b_A it is Π(1 + e^{b_A}) · 2^n_hidden."""
    rbm = random_rbm(6, 4, seed=0, scale=0.5)
    n = 40
    forward = ais(rbm, n_runs=n, betas=default_betas(300), generator=torch.Generator().manual_seed(0))
    assert forward.log_z_base == pytest.approx(10 * math.log(2), rel=1e-12)
    w = forward.log_weights.exp()
    mean, se = w.mean().item(), w.std().item() / math.sqrt(n)
    assert mean > 3 * se  # the band's lower edge is finite here
    assert forward.log_z == pytest.approx(forward.log_z_base + math.log(mean), rel=1e-10)
    assert forward.log_z_low == pytest.approx(forward.log_z_base + math.log(mean - 3 * se), rel=1e-10)
    assert forward.log_z_high == pytest.approx(forward.log_z_base + math.log(mean + 3 * se), rel=1e-10)
    assert forward.log_z_low < forward.log_z < forward.log_z_high

    base = t(0.5, -1.0, 0.0, 2.0, -0.3, 0.1)
    v_model = rbm.gibbs((torch.rand(n, 6, generator=torch.Generator().manual_seed(1)) < 0.5).double(), steps=50,
                        generator=torch.Generator().manual_seed(2))
    backward = reverse_ais(rbm, v_model, betas=default_betas(300), base_visible_bias=base,
                           generator=torch.Generator().manual_seed(3))
    log_z_a = sum(softplus(x) for x in base.tolist()) + 4 * math.log(2)
    assert backward.log_z_base == pytest.approx(log_z_a, rel=1e-12)
    w = backward.log_weights.exp()
    mean, se = w.mean().item(), w.std().item() / math.sqrt(n)
    assert mean > 3 * se
    assert backward.log_z == pytest.approx(log_z_a - math.log(mean), rel=1e-10)
    assert backward.log_z_low == pytest.approx(log_z_a - math.log(mean + 3 * se), rel=1e-10)
    assert backward.log_z_high == pytest.approx(log_z_a - math.log(mean - 3 * se), rel=1e-10)
