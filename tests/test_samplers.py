"""Samplers against exact answers: the Gibbs chain's stationary law and the likelihood gradient of a tiny RBM."""
import copy

import pytest
import torch
from scipy.stats import chi2

from oracles import all_binary_states, joint_log_probabilities, random_rbm
from rbmlib.rbm import RBM
from rbmlib.samplers import CD, PCD, FastPCD

PATTERNS = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0],
                         [0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 1, 1], [0, 0, 1, 1, 0, 0]], dtype=torch.float64)


def joint_state_index(v, h):
    bits = torch.cat([v, h], 1).long()
    return (bits * (2 ** torch.arange(bits.shape[1] - 1, -1, -1))).sum(1)  # itertools.product order


def chi_square_p_value(rbm, reference, n_chains=20_000, sweeps=30, seed=0):
    """p-value of a χ² test of (v, h) drawn by ``rbm.gibbs`` against the enumerated joint law of ``reference``."""
    generator = torch.Generator().manual_seed(seed)
    v0 = (torch.rand(n_chains, rbm.n_visible, generator=generator) < 0.5).double()
    with torch.no_grad():
        v = rbm.gibbs(v0, steps=sweeps, generator=generator)
        h = rbm.sample_hidden(v, generator)
    counts = torch.bincount(joint_state_index(v, h), minlength=2 ** (rbm.n_visible + rbm.n_hidden)).double()
    expected = n_chains * joint_log_probabilities(reference)[2].exp().flatten()
    statistic = ((counts - expected) ** 2 / expected).sum().item()
    return chi2.sf(statistic, df=len(counts) - 1)


class WrongConditional(RBM):
    """An RBM whose hidden sampler forgets the hidden biases: Gibbs then has the wrong stationary law."""

    def sample_hidden(self, v, generator=None):
        return self.hidden.sample(v @ self.weight, generator)


def test_block_gibbs_reproduces_the_exact_joint_distribution():
    rbm = random_rbm(4, 3, seed=5)
    assert chi_square_p_value(rbm, rbm) > 1e-3
    # the same test rejects a sampler with a wrong conditional (the negative control)
    wrong = WrongConditional(4, 3, dtype=torch.float64)
    wrong.load_state_dict(rbm.state_dict())
    assert chi_square_p_value(wrong, rbm) < 1e-9


def exact_gradient(rbm, data):
    """∂ mean log p(data) / ∂W = ⟨v E[h|v]ᵀ⟩_data − Σ_v p(v) v E[h|v]ᵀ, with p(v) by enumeration."""
    v = all_binary_states(rbm.n_visible)
    with torch.no_grad():
        p = torch.softmax(-rbm.free_energy(v), 0)
        return data.T @ rbm.hidden_mean(data) / len(data) - v.T @ (p[:, None] * rbm.hidden_mean(v))


def test_exact_gradient_oracle_matches_autograd():
    rbm = random_rbm(6, 4, seed=3)
    log_z = torch.logsumexp(-rbm.free_energy(all_binary_states(6)), 0)
    (-rbm.free_energy(PATTERNS).mean() - log_z).backward()
    torch.testing.assert_close(rbm.weight.grad, exact_gradient(rbm, PATTERNS))


def cd_gradient(sampler, rbm, data, generator):
    with torch.no_grad():
        v_model = sampler.negative_phase(rbm, data, rbm.sample_hidden(data, generator), generator)
        return (data.T @ rbm.hidden_mean(data) - v_model.T @ rbm.hidden_mean(v_model)) / len(data)


def test_cd_k_gradient_approaches_the_exact_gradient_for_large_k():
    rbm = random_rbm(6, 4, seed=3)
    data = PATTERNS.repeat(2000, 1)  # many chains per pattern: Monte Carlo noise ~1% of the gradient
    exact = exact_gradient(rbm, PATTERNS).flatten()
    generator = torch.Generator().manual_seed(0)

    def cosine(k):
        estimate = cd_gradient(CD(k, sample_visible=True), rbm, data, generator).flatten()
        return torch.nn.functional.cosine_similarity(estimate, exact, 0).item()

    one, many = cosine(1), cosine(50)
    assert many > 0.999, many
    assert one < many  # CD-1 is biased on this model (cosine ≈ 0.993)


def test_cd_k_replays_as_a_gibbs_chain_with_a_mean_field_last_step():
    """CD-k: h0 → v1 ~ p(v|h0) → h1 ~ p(h|v1) → … → E[v | h_{k-1}], every inner visible sampled."""
    rbm = random_rbm(6, 4, seed=2)
    h0 = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]], dtype=torch.float64)
    out = CD(k=3).negative_phase(rbm, None, h0, torch.Generator().manual_seed(5))
    replay = torch.Generator().manual_seed(5)
    with torch.no_grad():
        h = h0
        for _ in range(2):
            h = rbm.sample_hidden(rbm.sample_visible(h, replay), replay)
        expected = rbm.visible_mean(h)
    assert torch.equal(out, expected)


def test_pcd_continues_its_chains_from_where_they_stopped():
    rbm = random_rbm(6, 4, seed=3)
    sampler, generator = PCD(k=1, n_chains=4), torch.Generator().manual_seed(7)
    first = sampler.negative_phase(rbm, PATTERNS, None, generator)
    second = sampler.negative_phase(rbm, PATTERNS, None, generator)
    replay = torch.Generator().manual_seed(7)
    with torch.no_grad():
        v = PATTERNS[:4]
        for expected in (first, second):
            v = rbm.sample_visible(rbm.sample_hidden(v, replay), replay)
            assert torch.equal(v, expected)
    assert torch.equal(sampler.chains, second)


def test_pcd_chains_are_saved_in_state_dict_and_restored():
    rbm = random_rbm(6, 4, seed=1)
    sampler = PCD(k=2, n_chains=4)
    sampler.negative_phase(rbm, PATTERNS, None, torch.Generator().manual_seed(0))
    state = copy.deepcopy(sampler.state_dict())
    assert state["chains"].shape == (4, 6)
    restored = PCD(k=2, n_chains=4)
    restored.load_state_dict(state)
    assert torch.equal(restored.chains, sampler.chains)
    next_a = sampler.negative_phase(rbm, PATTERNS, None, torch.Generator().manual_seed(1))
    next_b = restored.negative_phase(rbm, PATTERNS, None, torch.Generator().manual_seed(1))
    assert torch.equal(next_a, next_b) and not torch.equal(next_a, state["chains"])
    with pytest.raises(ValueError, match="n_chains"):
        PCD(n_chains=10).negative_phase(rbm, PATTERNS, None)


def test_fast_pcd_runs_chains_on_fast_weights_that_decay_and_are_restored():
    rbm = random_rbm(6, 4, seed=2)
    sampler = FastPCD(fast_learning_rate=0.5, k=1, n_chains=6, fast_decay=0.9)
    sampler.negative_phase(rbm, PATTERNS, None, torch.Generator().manual_seed(0))
    gradients = {name: torch.ones_like(p) for name, p in rbm.named_parameters()}
    sampler.after_update(rbm, gradients)
    sampler.after_update(rbm, {name: 2 * g for name, g in gradients.items()})
    torch.testing.assert_close(sampler.fast["weight"], torch.full_like(rbm.weight, 0.9 * 0.5 + 0.5 * 2))
    for _ in range(10):
        sampler.after_update(rbm, {name: torch.zeros_like(g) for name, g in gradients.items()})
    torch.testing.assert_close(sampler.fast["weight"], torch.full_like(rbm.weight, 1.45 * 0.9 ** 10))

    # the chains move under θ + θ_fast: a PCD on that summed model draws the same states
    summed = copy.deepcopy(rbm)
    with torch.no_grad():
        for name, p in summed.named_parameters():
            p.add_(sampler.fast[name])
    plain = PCD(k=1, n_chains=6)
    plain.chains = sampler.chains.clone()
    state = copy.deepcopy(sampler.state_dict())
    fast_draw = sampler.negative_phase(rbm, PATTERNS, None, torch.Generator().manual_seed(3))
    assert torch.equal(fast_draw, plain.negative_phase(summed, PATTERNS, None, torch.Generator().manual_seed(3)))
    assert torch.equal(rbm.weight, random_rbm(6, 4, seed=2).weight)  # the model's own weights are untouched

    restored = FastPCD(fast_learning_rate=0.5, k=1, n_chains=6, fast_decay=0.9)
    restored.load_state_dict(state)
    assert torch.equal(restored.fast["weight"], state["fast.weight"])
    assert torch.equal(restored.negative_phase(rbm, PATTERNS, None, torch.Generator().manual_seed(3)), fast_draw)


@pytest.mark.parametrize("make", [lambda: CD(0), lambda: PCD(0), lambda: FastPCD(0.1, k=0), lambda: PCD(n_chains=0),
                                  lambda: FastPCD(0.0), lambda: FastPCD(0.1, fast_decay=1.0)],
                         ids=["CD-k0", "PCD-k0", "FastPCD-k0", "PCD-chains0", "FastPCD-rate0", "FastPCD-decay1"])
def test_bad_settings_are_rejected(make):
    with pytest.raises(ValueError):
        make()
