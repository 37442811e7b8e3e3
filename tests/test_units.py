"""Unit types against their stated laws: analytic moments, Monte Carlo of the samplers, enumerated partitions."""
import math

import pytest
import torch
import torch.nn.functional as F

from rbmlib.units import Bernoulli, Gaussian, NReLU, SteppedSigmoid

N = 200_000
X = torch.tensor([-2.0, -0.5, 0.0, 0.7, 2.5], dtype=torch.float64)


def draws(units, x=X, n=N, seed=0):
    return units.sample(x.expand(n, -1), torch.Generator().manual_seed(seed))


def rectified_gaussian_moments(x, variance):
    """Mean and variance of max(0, x + √variance·ε), ε ~ N(0, 1)."""
    std = variance.sqrt()
    z = x / std
    cdf, pdf = torch.special.ndtr(z), torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    mean = x * cdf + std * pdf
    second = (x * x + variance) * cdf + x * std * pdf
    return mean, second - mean * mean


def test_nrelu_noise_has_variance_sigmoid_x_not_std_sigmoid_x():
    samples = draws(NReLU())
    mean, var = rectified_gaussian_moments(X, torch.sigmoid(X))
    standard_error = (var / N).sqrt()
    assert ((samples.mean(0) - mean).abs() < 5 * standard_error).all()
    torch.testing.assert_close(samples.var(0), var, rtol=0.02, atol=1e-4)
    # the look-alike with std = sigmoid(x) (PyDeep's) would be rejected by the same checks
    wrong_mean, wrong_var = rectified_gaussian_moments(X, torch.sigmoid(X) ** 2)
    assert ((samples.mean(0) - wrong_mean).abs() > 20 * standard_error).any()
    assert ((samples.var(0) / wrong_var - 1).abs() > 0.2).any()


def test_nrelu_mean_matches_monte_carlo_for_both_noise_models():
    for units, variance in [(NReLU(), torch.sigmoid(X)), (NReLU(noise_variance="unit"), torch.ones_like(X))]:
        samples = draws(units, seed=1)
        expected_mean, var = rectified_gaussian_moments(X, variance)
        torch.testing.assert_close(units.mean(X), expected_mean)
        assert ((samples.mean(0) - units.mean(X)).abs() < 5 * (var / N).sqrt()).all(), units
        torch.testing.assert_close(samples.var(0), var, rtol=0.02, atol=1e-4)
    assert (draws(NReLU(), n=1000) >= 0).all()
    torch.testing.assert_close(NReLU().deterministic(X), torch.relu(X))


def test_nrelu_rejects_unknown_noise_and_has_no_energy():
    with pytest.raises(ValueError, match="noise_variance"):
        NReLU(noise_variance="std")
    with pytest.raises(NotImplementedError):
        NReLU().potential(X)
    assert not NReLU().exact


def test_stepped_sigmoid_sum_is_close_to_softplus():
    x = torch.linspace(-10, 30, 801, dtype=torch.float64)
    gap = (SteppedSigmoid(100).mean(x) - F.softplus(x)).abs()
    # Nair & Hinton's eq. 3: the sum of shifted sigmoids is within 0.011 of log(1 + e^x) (worst near x = 0)
    assert 0.005 < gap.max() < 0.02, gap.max()
    assert gap[x.abs() > 5].max() < 1e-3
    # ...only while x stays below the number of copies: 100 copies saturate at 100 where softplus(150) = 150
    torch.testing.assert_close(SteppedSigmoid(100).mean(torch.tensor([150.0], dtype=torch.float64)),
                               torch.tensor([100.0], dtype=torch.float64))


def test_stepped_sigmoid_sampler_matches_its_mean_and_binomial_variance():
    units = SteppedSigmoid(20)
    samples = draws(units, seed=2)
    p = torch.sigmoid(X.unsqueeze(-1) - (torch.arange(20, dtype=torch.float64) + 0.5))
    var = (p * (1 - p)).sum(-1)
    assert ((samples.mean(0) - units.mean(X)).abs() < 5 * (var / N).sqrt()).all()
    torch.testing.assert_close(samples.var(0), var, rtol=0.03, atol=1e-4)
    assert torch.equal(samples, samples.round()) and (samples >= 0).all() and (samples <= 20).all()
    # the SSU's variance is close to sigmoid(x): what motivates NReLU's noise variance
    torch.testing.assert_close(var, torch.sigmoid(X), atol=0.02, rtol=0)


def test_stepped_sigmoid_log_partition_enumerates_the_copies():
    units, x = SteppedSigmoid(3), torch.tensor([-1.3, 0.4, 2.2], dtype=torch.float64)
    copies = torch.tensor([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=torch.float64)
    offsets = torch.tensor([0.5, 1.5, 2.5], dtype=torch.float64)
    brute = torch.logsumexp((copies @ (x.unsqueeze(0) - offsets.unsqueeze(1))), dim=0)  # Σ_i (x − off_i) s_i
    torch.testing.assert_close(units.log_partition(x), brute)
    with pytest.raises(ValueError):
        SteppedSigmoid(0)


def test_bernoulli_sampler_frequency_and_log_partition():
    samples = draws(Bernoulli(), seed=3)
    p = torch.sigmoid(X)
    assert set(samples.unique().tolist()) <= {0.0, 1.0}
    assert ((samples.mean(0) - p).abs() < 5 * (p * (1 - p) / N).sqrt()).all()
    torch.testing.assert_close(Bernoulli().mean(X), p)
    torch.testing.assert_close(Bernoulli().log_partition(X), torch.log(1 + torch.exp(X)))  # e^0 + e^x
    assert torch.equal(Bernoulli().potential(X), torch.zeros_like(X))


def test_gaussian_sampler_and_log_partition_integral():
    samples = draws(Gaussian(), seed=4)
    assert ((samples.mean(0) - X).abs() < 5 / math.sqrt(N)).all()
    torch.testing.assert_close(samples.var(0), torch.ones_like(X), rtol=0.02, atol=0)
    s = torch.linspace(-40, 40, 80_001, dtype=torch.float64).unsqueeze(1)
    integral = torch.trapezoid(torch.exp(X * s - Gaussian().potential(s)), s, dim=0).log()
    torch.testing.assert_close(Gaussian().log_partition(X), integral)
    torch.testing.assert_close(Gaussian().mean(X), X)


@pytest.mark.parametrize("units", [Bernoulli(), Gaussian(), NReLU(), SteppedSigmoid(5)], ids=repr)
def test_mean_and_sample_equals_mean_and_sample_drawn_separately(units):
    x = torch.randn(50, 7, generator=torch.Generator().manual_seed(0))
    mean, sample = units.mean_and_sample(x, torch.Generator().manual_seed(1))
    assert torch.equal(mean, units.mean(x))
    assert torch.equal(sample, units.sample(x, torch.Generator().manual_seed(1)))  # same draws, same values
    assert sample.dtype == x.dtype
