"""Estimators against exact answers: log Z and likelihoods by enumeration, AIS within its band, PL by brute force."""
import math

import pytest
import torch

from oracles import all_binary_states, joint_log_probabilities, random_rbm
from rbmlib import estimators
from rbmlib.estimators import (AISResult, ais, average_log_probability, base_rate_biases, default_betas,
                               exact_log_likelihood, exact_log_partition, pseudo_log_likelihood,
                               reconstruction_error, reverse_ais)
from rbmlib.rbm import RBM
from rbmlib.units import Gaussian, NReLU, SteppedSigmoid

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def exact_samples(rbm, n, generator):
    """Exact draws of v: h from its enumerated marginal p(h) ∝ exp(−F_h(h)), then v ~ p(v | h)."""
    h = all_binary_states(rbm.n_hidden, rbm.weight.dtype).to(rbm.weight.device)
    with torch.no_grad():
        p = torch.softmax(-rbm.free_energy_hidden(h).double(), 0)
        index = torch.multinomial(p, n, replacement=True, generator=generator)
        return rbm.sample_visible(h[index], generator)


# ------------------------------------------------------------------------------------------------ exact
@pytest.mark.parametrize("shape", [(4, 3), (3, 5)], ids=["sums-visible", "sums-hidden"])
def test_exact_log_partition_matches_the_joint_enumeration(shape):
    rbm = random_rbm(*shape, seed=7, dtype=torch.float32)  # float32 model: the sums still run in float64
    v, h, _ = joint_log_probabilities(random_rbm(*shape, seed=7))
    with torch.no_grad():
        joint = random_rbm(*shape, seed=7).energy
        energies = torch.stack([joint(v, row.expand(len(v), -1)) for row in h])
    assert exact_log_partition(rbm) == pytest.approx(torch.logsumexp(-energies.flatten(), 0).item(), abs=1e-5)


def test_exact_log_partition_integrates_gaussian_visibles():
    rbm = random_rbm(2, 3, seed=8, scale=0.7, visible=Gaussian())
    grid = torch.linspace(-15, 15, 301, dtype=torch.float64)
    v1, v2 = torch.meshgrid(grid, grid, indexing="ij")
    points = torch.stack([v1.flatten(), v2.flatten()], 1)
    with torch.no_grad():
        density = sum(torch.exp(-rbm.energy(points, h.expand(len(points), -1))) for h in all_binary_states(3))
    z = torch.trapezoid(torch.trapezoid(density.reshape(301, 301), grid, dim=1), grid)
    assert exact_log_partition(rbm) == pytest.approx(z.log().item(), abs=1e-8)


def test_exact_log_likelihood_normalises():
    rbm = random_rbm(8, 5, seed=9, scale=1.5, dtype=torch.float32)
    total = exact_log_likelihood(rbm, all_binary_states(8, torch.float32)).exp().sum()
    assert total.item() == pytest.approx(1.0, abs=1e-9)
    ssu = random_rbm(6, 3, seed=9, hidden=SteppedSigmoid(4))  # enumerates the visibles, sums the copies out
    assert exact_log_likelihood(ssu, all_binary_states(6)).exp().sum().item() == pytest.approx(1.0, abs=1e-12)


def test_average_log_probability_is_the_mean_exact_log_likelihood():
    rbm = random_rbm(6, 4, seed=10)
    v = all_binary_states(6)[::5]
    log_z = exact_log_partition(rbm)
    assert average_log_probability(rbm, v, log_z) == pytest.approx(exact_log_likelihood(rbm, v).mean().item())


def test_exact_estimators_refuse_what_they_cannot_enumerate():
    with pytest.raises(ValueError, match="ais"):
        exact_log_partition(RBM(30, 26))
    assert math.isfinite(exact_log_partition(RBM(30, 12)))  # the smaller layer is enumerated
    with pytest.raises(ValueError, match="exact"):
        exact_log_partition(RBM(3, 2, visible=Gaussian(), hidden=NReLU()))
    with pytest.raises(ValueError, match="exact"):
        exact_log_likelihood(RBM(3, 2, hidden=NReLU()), torch.ones(1, 3))


# ------------------------------------------------------------------------------------------------ AIS
def test_default_betas_are_the_papers_schedule():
    betas = default_betas()
    steps = betas.diff()
    assert len(betas) == 14_501 and betas[0] == 0 and betas[-1] == 1
    torch.testing.assert_close(steps[:500], torch.full((500,), 1e-3, dtype=torch.float64))
    torch.testing.assert_close(steps[500:4_500], torch.full((4_000,), 1e-4, dtype=torch.float64))
    torch.testing.assert_close(steps[4_500:], torch.full((10_000,), 1e-5, dtype=torch.float64))
    short = default_betas(145)  # the same shape: 5, 40 and 100 steps
    assert len(short) == 146 and short[5] == 0.5 and short[45] == pytest.approx(0.9) and short[-1] == 1
    assert (short.diff() > 0).all()
    with pytest.raises(ValueError):
        default_betas(2)


def test_base_rate_biases_are_smoothed_logits_of_the_pixel_means():
    data = torch.tensor([[0.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    biases = base_rate_biases(data, eps=0.05)
    expected = torch.logit(torch.tensor([0.05, 1.05, 0.55]) / 1.1)
    torch.testing.assert_close(biases, expected)
    assert biases[2] == 0 and torch.isfinite(biases).all()
    with pytest.raises(ValueError):
        base_rate_biases(data, eps=0.0)


@pytest.mark.parametrize("shape", [(20, 10), (25, 15)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ais_brackets_the_exact_log_partition(shape, seed):
    rbm = random_rbm(*shape, seed=seed, scale=0.5, dtype=torch.float32)
    data = exact_samples(rbm, 500, torch.Generator().manual_seed(seed))
    result = ais(rbm, n_runs=100, betas=default_betas(1000), base_visible_bias=base_rate_biases(data),
                 generator=torch.Generator().manual_seed(seed))
    exact = exact_log_partition(rbm)
    assert isinstance(result, AISResult) and result.n_runs == 100 and result.n_betas == 1000
    assert result.log_z_low <= exact <= result.log_z_high, (result, exact)
    assert result.log_z_high - result.log_z_low < 0.5  # a band narrow enough to mean something
    assert result.log_z_low < result.log_z < result.log_z_high


@pytest.mark.parametrize("device", DEVICES)
def test_forward_and_reverse_ais_err_on_their_documented_sides(device):
    """E[log Ẑ] ≤ log Z forward and ≥ log Z in reverse from exact samples: with a crude 10-step schedule the Jensen
    gaps are ~0.25 nats for estimates from 4 runs each, averaged over 5,000 such estimates (s.e. ~0.01)."""
    rbm = random_rbm(20, 10, seed=0, scale=0.5, dtype=torch.float32).to(device)
    exact = exact_log_partition(rbm)
    generator = torch.Generator(device).manual_seed(0)
    forward = ais(rbm, n_runs=20_000, betas=default_betas(10), generator=generator)
    reverse = reverse_ais(rbm, exact_samples(rbm, 20_000, generator), betas=default_betas(10), generator=generator)
    assert reverse.reverse and not forward.reverse

    def mean_estimate_from_4_runs(log_w):
        return (torch.logsumexp(log_w.view(-1, 4), 1) - math.log(4)).mean().item()

    assert forward.log_z_base + mean_estimate_from_4_runs(forward.log_weights) < exact - 0.1
    assert reverse.log_z_base - mean_estimate_from_4_runs(reverse.log_weights) > exact + 0.1
    for result in (forward, reverse):  # pooled over all runs, both are unbiased enough to bracket log Z
        assert result.log_z_low <= exact <= result.log_z_high, result


def test_reverse_ais_brackets_the_exact_log_partition_with_the_default_shape():
    rbm = random_rbm(20, 10, seed=3, scale=0.5, dtype=torch.float32)
    generator = torch.Generator().manual_seed(3)
    result = reverse_ais(rbm, exact_samples(rbm, 100, generator), betas=default_betas(1000), generator=generator)
    assert result.log_z_low <= exact_log_partition(rbm) <= result.log_z_high, result


def test_ais_from_the_target_itself_is_exact_with_zero_variance():
    rbm = random_rbm(12, 7, seed=4, dtype=torch.float32)
    with torch.no_grad():
        rbm.weight.zero_()  # p_β(v) ∝ p_B(v) for every β: every weight is Z_B / Z_A exactly
    exact = exact_log_partition(rbm)
    for result in (ais(rbm, n_runs=50, betas=default_betas(50), base_visible_bias=rbm.visible_bias),
                   reverse_ais(rbm, torch.ones(50, 12), betas=default_betas(50), base_visible_bias=rbm.visible_bias)):
        assert result.log_weights.std().item() < 1e-8  # float32 rounding of the hidden inputs, nothing more
        assert result.log_z == pytest.approx(exact, abs=1e-5)
        assert result.log_z_high - result.log_z_low < 1e-7


@pytest.mark.parametrize("capability, vendor, dtype", [
    ("AVX512", "AuthenticAMD", torch.float64), ("AVX512", "GenuineIntel", torch.float32),
    ("AVX2", "AuthenticAMD", torch.float32), ("DEFAULT", "AuthenticAMD", torch.float32),
    ("AVX512", None, torch.float32)])
def test_the_binary_ais_update_runs_in_float64_only_at_avx512_on_amd(monkeypatch, capability, vendor, dtype):
    """float64 log1p and expm1 were 7-8x faster than float32 at AVX-512 on an AMD EPYC, 2.5x slower on an Intel
    Xeon; elsewhere, the pinned (AVX2) path included, the update keeps its input's dtype, so that the pinned
    arithmetic does not change."""
    monkeypatch.setattr(estimators, "_aten_capability", lambda: capability)
    monkeypatch.setattr(estimators, "_cpu_vendor", lambda: vendor)
    seen, log1p = [], torch.log1p
    monkeypatch.setattr(torch, "log1p", lambda t: seen.append(t.dtype) or log1p(t))
    rbm = random_rbm(12, 8, dtype=torch.float32)
    change = estimators._log_partition_change(rbm.hidden, rbm.hidden_input(torch.ones(3, 12)), 0.2, 0.3)
    assert seen == [dtype] and change.dtype == torch.float64 and change.shape == (3,)


def test_both_precisions_of_the_update_give_the_same_log_weights_on_the_same_chains(monkeypatch):
    rbm = random_rbm(20, 10, seed=0, scale=0.5, dtype=torch.float32)
    monkeypatch.setattr(estimators, "_cpu_vendor", lambda: "AuthenticAMD")
    log_weights = {}
    for capability in ("AVX512", "AVX2"):
        monkeypatch.setattr(estimators, "_aten_capability", lambda: capability)
        log_weights[capability] = ais(rbm, n_runs=50, betas=default_betas(500),
                                      generator=torch.Generator().manual_seed(0)).log_weights
    assert not torch.equal(log_weights["AVX512"], log_weights["AVX2"])  # two precisions really ran
    assert torch.allclose(log_weights["AVX512"], log_weights["AVX2"], atol=1e-5, rtol=0)


def test_the_update_precision_follows_the_process_the_cpu_and_the_device(monkeypatch, tmp_path):
    from rbmlib import report

    assert estimators._aten_capability() == torch.backends.cpu.get_cpu_capability()
    assert estimators._cpu_vendor() == report.cpu_vendor()
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n")
    monkeypatch.setattr(report, "CPUINFO", cpuinfo)
    assert report.cpu_vendor() == "AuthenticAMD"
    monkeypatch.setattr(estimators, "_aten_capability", lambda: "AVX512")
    monkeypatch.setattr(estimators, "_cpu_vendor", lambda: "AuthenticAMD")
    assert estimators._update_dtype(torch.zeros(2, 3)) == torch.float64
    assert estimators._update_dtype(torch.zeros(2, 3, device="meta")) == torch.float32  # not a CPU tensor


def test_ais_integrates_gaussian_visibles():
    rbm = random_rbm(10, 8, seed=5, scale=0.3, visible=Gaussian(), dtype=torch.float32)
    result = ais(rbm, betas=default_betas(500), generator=torch.Generator().manual_seed(5))
    assert result.log_z_low <= exact_log_partition(rbm) <= result.log_z_high, result


def test_ais_rejects_bad_inputs():
    rbm = RBM(5, 3)
    with pytest.raises(ValueError, match="n_runs"):
        ais(rbm, n_runs=1)
    with pytest.raises(ValueError, match="betas"):
        ais(rbm, betas=torch.tensor([0.1, 1.0]))
    with pytest.raises(ValueError, match="betas"):
        ais(rbm, betas=torch.tensor([0.0, 0.6, 0.4, 1.0]))
    with pytest.raises(ValueError, match="exact"):
        ais(RBM(5, 3, hidden=NReLU()))
    with pytest.raises(ValueError, match="shape"):
        ais(rbm, base_visible_bias=torch.zeros(4))
    with pytest.raises(ValueError, match="v_model"):
        reverse_ais(rbm, torch.ones(10, 4))


# ------------------------------------------------------------------------------------------------ monitors
def test_pseudo_log_likelihood_matches_brute_force():
    rbm = random_rbm(5, 3, seed=11, scale=1.5)
    v, _, log_joint = joint_log_probabilities(rbm)
    log_p = torch.logsumexp(log_joint, 1)  # log p(v), indexed like v
    index = {tuple(row.tolist()): i for i, row in enumerate(v)}
    brute = torch.zeros(len(v), dtype=torch.float64)
    for n, row in enumerate(v):
        for i in range(5):
            flipped = row.clone()
            flipped[i] = 1 - flipped[i]
            pair = torch.stack([log_p[n], log_p[index[tuple(flipped.tolist())]]])
            brute[n] += log_p[n] - torch.logsumexp(pair, 0)  # log p(v_i | v_−i)
    torch.testing.assert_close(pseudo_log_likelihood(rbm, v), brute)
    # all bits drawn in random order is the same sum; k random bits scaled by 5/k is unbiased for it
    torch.testing.assert_close(pseudo_log_likelihood(rbm, v, n_bits=5, generator=torch.Generator()), brute)
    repeats = pseudo_log_likelihood(rbm, v.repeat(4000, 1), n_bits=2, generator=torch.Generator().manual_seed(0))
    repeats = repeats.view(4000, -1)
    assert ((repeats.mean(0) - brute).abs() < 4 * repeats.std(0) / math.sqrt(4000)).all()
    assert (repeats.std(0) > 0.1).any()  # the subset estimate really is random


def test_pseudo_log_likelihood_rejects_bad_inputs():
    with pytest.raises(ValueError, match="binary"):
        pseudo_log_likelihood(RBM(3, 2, visible=Gaussian()), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="n_bits"):
        pseudo_log_likelihood(RBM(3, 2), torch.zeros(1, 3), n_bits=4)


def test_reconstruction_error_of_a_zero_weight_model():
    rbm = random_rbm(6, 4, seed=12)
    with torch.no_grad():
        rbm.weight.zero_()  # E[v | h] = sigmoid(b) whatever h
    v = all_binary_states(6)
    expected = ((v - torch.sigmoid(rbm.visible_bias)) ** 2).mean().item()
    assert reconstruction_error(rbm, v) == pytest.approx(expected, rel=1e-12)
    # and, W = 0, the pseudo-likelihood is Σ_i log sigmoid(±b_i) in closed form
    closed = torch.nn.functional.logsigmoid((2 * v - 1) * rbm.visible_bias).sum(1)
    torch.testing.assert_close(pseudo_log_likelihood(rbm, v), closed)


_PEAK_MEMORY_SCRIPT = """
import resource
import torch
from rbmlib.estimators import exact_log_partition
from rbmlib.rbm import RBM
torch.set_num_threads(1)
rbm = RBM(784, 18, weight_std=0.1, generator=torch.Generator().manual_seed(0))
x = torch.ones(4_090_000, dtype=torch.float64)  # free a 32 MB block: glibc then serves such blocks from its heap
del x
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
log_z = exact_log_partition(rbm)
print(log_z, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_exact_log_partition_memory_stays_bounded():
    """Enumerating 2^18 hidden states of a 784-unit visible layer raises the process's peak RSS by < 64 MB (the
    whole-chunk version held ~33 MB float64 blocks that glibc kept: +230 MB here, 6.5 GB at 20 units in a notebook);
    measured in a fresh process, after freeing a 32 MB block as a long notebook does."""
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _PEAK_MEMORY_SCRIPT], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    log_z, grown_kb = out.stdout.split()
    assert math.isfinite(float(log_z))
    assert int(grown_kb) < 64 * 1024, f"peak RSS grew by {int(grown_kb) / 1024:.0f} MB"


def test_exact_log_partition_does_not_depend_on_the_chunk_size():
    rbm = random_rbm(6, 9, seed=3, dtype=torch.float32)
    reference = exact_log_partition(rbm)
    for chunk_elements in (1, 15, 100, 10_000):  # one state per chunk, uneven last chunks, a single chunk
        assert exact_log_partition(rbm, chunk_elements=chunk_elements) == pytest.approx(reference, abs=1e-12)
