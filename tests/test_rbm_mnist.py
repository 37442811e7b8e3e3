"""Oracle tests of the identities the MNIST chapter's page relies on, each against exact enumeration of a tiny RBM:
long block-Gibbs chains sample the model (reverse AIS starts from them), the certain bound Z ≥ exp(−F(v*)), and the
base-rate model (W = 0) behind AIS and the reconstruction-error check. The chapter's protocol itself is on its page
(notebooks/rbm_mnist.ipynb); exact log Z in bounded memory is tested in test_estimators.py."""
import pytest
import torch

from oracles import all_binary_states, random_rbm
from rbmlib.estimators import base_rate_biases, exact_log_likelihood, exact_log_partition, reconstruction_error
from rbmlib.rbm import RBM


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@torch.no_grad()
def test_long_gibbs_chains_sample_the_model():
    """Chains of a tiny RBM reach its exact marginal p(v) (enumerated): total variation < 0.05."""
    rbm = random_rbm(4, 3, seed=4, dtype=torch.float32)
    states = all_binary_states(4, torch.float32)
    exact = exact_log_likelihood(rbm, states).exp()
    final = rbm.gibbs(torch.zeros(20_000, 4), 30, gen(5))
    index = (final * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(1).long()  # row order of all_binary_states
    empirical = torch.bincount(index, minlength=16).double() / len(final)
    assert 0.5 * (empirical - exact).abs().sum() < 0.05


@torch.no_grad()
def test_the_chain_bound_holds_for_every_state():
    """log Z ≥ −F(v*) for every v*, so mean log p(v) ≤ mean(−F(v)) + min F(v*): the page's certain bound."""
    rbm = random_rbm(8, 5, seed=6, dtype=torch.float32)
    states = all_binary_states(8, torch.float32)
    log_z = exact_log_partition(rbm)
    free = rbm.free_energy(states).double()
    assert (-free <= log_z + 1e-9).all()
    assert log_z == pytest.approx(torch.logsumexp(-free, 0).item(), abs=1e-5)  # the bound is tight in the sum
    data = states[::3]
    bound = -rbm.free_energy(data).double().mean() + free.min()
    assert exact_log_likelihood(rbm, data).mean() <= bound
    assert exact_log_likelihood(rbm, data).mean() > bound - 20  # and not vacuous on this model


def test_base_rate_model_is_independent_pixels_at_the_smoothed_marginals():
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    base = RBM(3, 1, weight_std=0.0)
    with torch.no_grad():
        base.visible_bias.copy_(base_rate_biases(x))
    p = (x.mean(0) + 0.05) / 1.1
    expected = (x * p.log() + (1 - x) * (1 - p).log()).sum(1)  # log Π_i p_i^v_i (1 − p_i)^(1 − v_i)
    torch.testing.assert_close(exact_log_likelihood(base, x), expected.double())
    # its reconstruction of any image is E[v] = sigmoid(b_A), the page's base-rate reconstruction error
    assert reconstruction_error(base, x) == pytest.approx(((x - p) ** 2).mean().item(), rel=1e-6)
