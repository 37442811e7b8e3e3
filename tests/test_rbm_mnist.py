"""Tests of the MNIST chapter's logic (rbmlib.experiments.rbm_mnist): profiles and config errors, binarisation,
samplers by name, long Gibbs chains, log-probabilities against exact enumeration, logistic regression at its
optimum, re-initialisation, fine-tuning, the verdict rules on hand-made numbers, and a tiny end-to-end run on
synthetic images (no MNIST files needed)."""
import copy
import math

import pytest
import torch
from torch import nn

from oracles import all_binary_states, random_rbm
from rbmlib import report
from rbmlib.estimators import default_betas, exact_log_likelihood, exact_log_partition
from rbmlib.experiments import rbm_mnist
from rbmlib.experiments.rbm_mnist import Config, Result
from rbmlib.samplers import CD, PCD


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# -- configuration ------------------------------------------------------------------------------------------------
def test_profiles_and_the_paper_settings():
    ci, paper = Config.for_profile("ci"), Config.for_profile("paper")
    assert ci.profile == "ci" and paper.profile == "paper"
    assert paper.ais_steps == rbm_mnist.PAPER_STEPS == 14_500 and paper.ais_runs == 100
    assert paper.n_train == 60_000 and paper.n_hidden == 500 and paper.dbn_sizes == (500, 500, 2000)
    assert ci.ais_runs < paper.ais_runs and ci.n_train < paper.n_train  # ci is scaled down, and says so
    with pytest.raises(ValueError, match="ci, paper"):
        Config.for_profile("fast")


@pytest.mark.parametrize("bad", [dict(n_train=0), dict(n_train=70_000), dict(ais_runs=1), dict(exact_n_hidden=30),
                                 dict(cd_steps=(3, 25)), dict(cd_steps=(1, 0)), dict(epochs=0), dict(profile="gpu"),
                                 dict(learning_rate=float("nan")), dict(dbn_sizes=())])
def test_bad_config_values_raise(bad):
    with pytest.raises(ValueError, match="Config|profile"):
        Config(**bad)


# -- data ---------------------------------------------------------------------------------------------------------
def test_binarise_draws_each_pixel_with_its_intensity():
    x = torch.tensor([0.0, 0.3, 0.9, 1.0]).repeat(20_000, 1)
    v = rbm_mnist.binarise(x, gen(1))
    assert set(v.unique().tolist()) <= {0.0, 1.0}
    means = v.mean(0)
    assert means[0] == 0 and means[3] == 1
    assert abs(means[1] - 0.3) < 0.015 and abs(means[2] - 0.9) < 0.01  # ≈ 5 binomial standard deviations
    assert torch.equal(v, rbm_mnist.binarise(x, gen(1)))  # a fixed seed gives the same binary images
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm_mnist.binarise(x * 255, gen(1))


# -- samplers and chains ------------------------------------------------------------------------------------------
def test_samplers_by_name():
    cd3, pcd = rbm_mnist.make_sampler("CD-3"), rbm_mnist.make_sampler("PCD")
    assert type(cd3) is CD and cd3.k == 3 and isinstance(pcd, PCD) and pcd.k == 1
    assert rbm_mnist.sampler_names(Config()) == ["CD-1", "CD-3", "CD-25", "PCD"]
    for bad in ("CD-0", "CD-x", "PT"):
        with pytest.raises(ValueError, match="unknown sampler"):
            rbm_mnist.make_sampler(bad)


def test_long_gibbs_chains_are_block_gibbs_sweeps_with_snapshots():
    rbm = random_rbm(6, 3, seed=1, dtype=torch.float32)
    start = (torch.rand(4, 6, generator=gen(2)) < 0.5).float()
    final, shown = rbm_mnist.long_gibbs_chains(rbm, start, 5, (0, 2, 5), gen(3))
    assert torch.equal(shown[0], start) and set(shown) == {0, 2, 5}
    replay = gen(3)  # the same draws by hand: 2 sweeps, a half-sweep for the snapshot, 3 more sweeps
    v = rbm.gibbs(start, 2, replay)
    torch.testing.assert_close(shown[2], rbm.visible_mean(rbm.sample_hidden(v, replay)))
    v = rbm.gibbs(v, 3, replay)
    torch.testing.assert_close(final, v)
    assert set(final.unique().tolist()) <= {0.0, 1.0}


@torch.no_grad()
def test_long_chains_sample_the_model():
    """Chains of a tiny RBM reach its exact marginal p(v) (enumerated): total variation < 0.05."""
    rbm = random_rbm(4, 3, seed=4, dtype=torch.float32)
    states = all_binary_states(4, torch.float32)
    exact = exact_log_likelihood(rbm, states).exp()
    final, _ = rbm_mnist.long_gibbs_chains(rbm, torch.zeros(20_000, 4), 30, (), gen(5))
    index = (final * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(1).long()  # row order of all_binary_states
    empirical = torch.bincount(index, minlength=16).double() / len(final)
    assert 0.5 * (empirical - exact).abs().sum() < 0.05


# -- log-probabilities --------------------------------------------------------------------------------------------
def test_log_probability_matches_exact_enumeration_on_a_small_rbm():
    rbm = random_rbm(10, 4, seed=6, scale=0.5, dtype=torch.float32)
    data = (torch.rand(50, 10, generator=gen(7)) < 0.5).float()
    model_samples, _ = rbm_mnist.long_gibbs_chains(rbm, data[:40], 200, (), gen(8))
    out = rbm_mnist.log_probability(rbm, data, torch.zeros(10), model_samples, default_betas(500), 40, gen(9),
                                    exact=True)
    log_z = exact_log_partition(rbm)
    assert out["exact_log_z"] == pytest.approx(log_z)
    assert out["exact_test_log_prob"] == pytest.approx(exact_log_likelihood(rbm, data).mean().item())
    # log p̂ = E[−F(v)] − log Ẑ for each estimate of log Z, and the band is the log Z band turned around
    mean_neg_free = out["exact_test_log_prob"] + log_z
    assert out["test_log_prob"] == pytest.approx(mean_neg_free - out["log_z"], abs=1e-4)
    assert out["reverse_test_log_prob"] == pytest.approx(mean_neg_free - out["reverse_log_z"], abs=1e-4)
    assert out["test_log_prob_low"] == pytest.approx(mean_neg_free - out["log_z_high"], abs=1e-4)
    # an easy model: the ±3σ band holds the truth and both AIS directions land within 0.1 nats of it
    assert out["log_z_low"] <= log_z <= out["log_z_high"]
    assert abs(out["log_z"] - log_z) < 0.1 and abs(out["reverse_log_z"] - log_z) < 0.1
    assert out["n_betas"] == 500 and out["n_runs"] == 40
    # the certain bound: log p ≤ E[−F(v)] + min F over the chain states, and it lies above the truth
    with torch.no_grad():
        assert out["chain_bound"] == pytest.approx(mean_neg_free + rbm.free_energy(model_samples).min().item(),
                                                   abs=1e-4)
    assert out["chain_bound"] >= out["exact_test_log_prob"]


def test_base_rate_model_is_independent_pixels_at_the_smoothed_marginals():
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    base = rbm_mnist.base_rate_model(x)
    p = (x.mean(0) + 0.05) / 1.1
    expected = (x * p.log() + (1 - x) * (1 - p).log()).sum(1)  # log Π_i p_i^v_i (1 − p_i)^(1 − v_i)
    torch.testing.assert_close(exact_log_likelihood(base, x), expected.double())


# -- classification -----------------------------------------------------------------------------------------------
def test_logistic_regression_reaches_its_optimum():
    x = torch.randn(300, 5, generator=gen(10))
    y = (x @ torch.randn(5, 3, generator=gen(11))).argmax(1)
    model = rbm_mnist.fit_logistic_regression(x, y, weight_decay=1e-2, iterations=200, n_classes=3)
    loss = nn.functional.cross_entropy(model(x), y) + 0.5 * 1e-2 * model.weight.pow(2).sum()
    grads = torch.autograd.grad(loss, list(model.parameters()))
    assert max(g.abs().max().item() for g in grads) < 1e-4  # stationary point of a strictly convex objective
    assert rbm_mnist.error_rate(model, x, y) < 0.05


def test_reinitialise_draws_pytorchs_default_rule_and_leaves_the_original():
    net = nn.Sequential(nn.Linear(400, 30), nn.Sigmoid(), nn.Linear(30, 10))
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(5.0)
    fresh = rbm_mnist.reinitialise(net, gen(12))
    assert all((p == 5.0).all() for p in net.parameters())
    for linear, bound in ((fresh[0], 1 / 20), (fresh[2], 1 / math.sqrt(30))):
        assert linear.weight.abs().max() <= bound and linear.weight.abs().max() > 0.9 * bound
        assert linear.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)  # U(−a, a) has std a/√3
    again = rbm_mnist.reinitialise(net, gen(12))
    assert all(torch.equal(a, b) for a, b in zip(fresh.parameters(), again.parameters()))


def test_finetune_learns_and_is_reproducible():
    x = torch.randn(400, 6, generator=gen(13))
    y = (x[:, 0] > 0).long()
    net = nn.Sequential(nn.Linear(6, 8), nn.Sigmoid(), nn.Linear(8, 2))
    runs = []
    for _ in range(2):
        model = copy.deepcopy(net)
        runs.append(rbm_mnist.finetune(model, x, y, x, y, epochs=15, batch_size=20, learning_rate=0.5,
                                       momentum=0.9, generator=gen(14), progress=False))
    assert runs[0] == runs[1]
    assert runs[0][-1]["train_loss"] < 0.5 * runs[0][0]["train_loss"] and runs[0][-1]["test_error"] < 0.05
    assert [r["epoch"] for r in runs[0]] == list(range(1, 16))


# -- verdicts on hand-made numbers --------------------------------------------------------------------------------
def fake_results(log_probs: dict, bands: dict, exact_band=(99.0, 101.0), errors=(0.10, 0.04, 0.012, 0.05)):
    config = rbm_mnist.asdict(Config(epochs=2))
    history = [{"epoch": e, "reconstruction_error": 0.05 - 0.01 * e} for e in (1, 2)]
    models = {}
    for name in ["CD-1", "CD-3", "CD-25", "PCD"]:
        low, high = bands[name]
        models[name] = {"n_hidden": 500, "test_log_prob": log_probs[name], "test_log_prob_low": low,
                        "test_log_prob_high": high, "reverse_test_log_prob": log_probs[name] - 5,
                        "chain_bound": log_probs[name] + 20,
                        "history": history, "test_reconstruction_error": 0.02}
    models["CD-1 (20 hidden)"] = {"n_hidden": 20, "exact_log_z": 100.0, "log_z": 100.1, "log_z_low": exact_band[0],
                                  "log_z_high": exact_band[1], "reverse_log_z": 100.2, "test_log_prob": -150.0,
                                  "test_log_prob_low": -151.0, "test_log_prob_high": -149.0,
                                  "reverse_test_log_prob": -150.2, "exact_test_log_prob": -150.1, "history": history,
                                  "chain_bound": -140.0,
                                  "test_reconstruction_error": 0.03}
    pixels, features, dbn, scratch = errors
    return {"config": config, "data": {"variant": "synthetic", "n_train": 100, "n_test": 10},
            "base_rate": {"test_log_prob": -200.0, "test_reconstruction_error": 0.08}, "models": models,
            "classification": {"pixels_error": pixels, "rbm_features_error": features,
                               "dbn_history": [{"epoch": 1, "train_loss": 1.0, "test_error": dbn}],
                               "scratch_history": [{"epoch": 1, "train_loss": 1.0, "test_error": scratch}]},
            "stages": {"data": {"cpu_s": 1.0, "wall_s": 1.0}}}


def labels(result: Result, part: str) -> list:
    return [v.holds for v in result.verdicts(part)]


def test_density_verdicts_follow_their_tolerances():
    ordered = Result(fake_results({"CD-1": -130, "CD-3": -110, "CD-25": -88, "PCD": -100},
                                  {"CD-1": (-131, -129), "CD-3": (-111, -109), "CD-25": (-89, -87),
                                   "PCD": (-101, -99)}), "ci")
    # AIS check, ordering, gap 42 ≥ 0.5 × 39.19, |−88 − (−86.34)| ≤ 5, PCD above CD-1
    assert labels(ordered, "density") == [True, True, True, True, True]
    overlapping = Result(fake_results({"CD-1": -130, "CD-3": -128, "CD-25": -120, "PCD": -131},
                                      {"CD-1": (-131, -127), "CD-3": (-129, None), "CD-25": (-121, -119),
                                       "PCD": (-132, -130)}, exact_band=(100.5, 101.0)), "ci")
    # exact outside [100.5, 101]; CD-3's band overlaps CD-1's; gap 10 < 19.6; 33.7 nats off; PCD below CD-1
    assert labels(overlapping, "density") == [False, False, False, False, False]
    one_sided = Result(fake_results({"CD-1": -130, "CD-3": -110, "CD-25": -88, "PCD": -100},
                                    {"CD-1": (-131, None), "CD-3": (-111, None), "CD-25": (-89, None),
                                     "PCD": (-101, None)}, exact_band=(None, 101.0)), "ci")
    # a band with an infinite edge contains exact log Z below it, but cannot separate two models
    assert labels(one_sided, "density")[:2] == [True, False]
    assert "−∞" in one_sided.exact_check_table().markdown() and "+∞" in one_sided.density_table().markdown()


def test_an_ais_estimate_above_the_certain_chain_bound_is_invalid():
    """PCD's AIS says −100 (band to +∞) but a chain state proves log p ≤ −140: it cannot beat CD-1 at −130."""
    results = fake_results({"CD-1": -130, "CD-3": -110, "CD-25": -88, "PCD": -100},
                           {"CD-1": (-131, -129), "CD-3": (-111, -109), "CD-25": (-89, -87), "PCD": (-101, None)})
    results["models"]["PCD"]["chain_bound"] = -140.0
    result = Result(results, "ci")
    assert labels(result, "density")[-1] is False
    assert "-100.00 (above the certain bound: invalid)" in result.density_table().markdown()
    results["models"]["CD-25"]["chain_bound"] = -95.0  # CD-25 invalid too: its gap and value are not testable
    assert labels(Result(results, "ci"), "density")[2:4] == [None, None]


def test_classification_verdicts_follow_their_tolerances():
    good = Result(fake_results({n: -100 for n in ("CD-1", "CD-3", "CD-25", "PCD")},
                               {n: (-101, -99) for n in ("CD-1", "CD-3", "CD-25", "PCD")},
                               errors=(0.08, 0.05, 0.014, 0.03)), "ci")
    assert labels(good, "classification") == [True, True, True, True]  # 95% ≥ 94%, 1.4% ≤ 8% − 2 pp, …
    bad = Result(fake_results({n: -100 for n in ("CD-1", "CD-3", "CD-25", "PCD")},
                              {n: (-101, -99) for n in ("CD-1", "CD-3", "CD-25", "PCD")},
                              errors=(0.07, 0.061, 0.055, 0.056)), "ci")
    assert labels(bad, "classification") == [False, False, False, False]
    with pytest.raises(ValueError, match="unknown part"):
        good.verdicts("speed")


def test_every_paper_number_carries_its_source_label():
    result = Result(fake_results({n: -100 for n in ("CD-1", "CD-3", "CD-25", "PCD")},
                                 {n: (-101, -99) for n in ("CD-1", "CD-3", "CD-25", "PCD")}), "ci")
    table = result.density_table().markdown()
    assert "-125.53 (UNVERIFIED)" in table and "-105.50 (UNVERIFIED)" in table and "-86.34 (secondary)" in table
    assert "1.25% (secondary" in result.classification_table().markdown()
    assert "profile `ci`" in table and "synthetic" in table


# -- end to end ---------------------------------------------------------------------------------------------------
def test_a_tiny_run_end_to_end(tmp_path, monkeypatch):
    """Synthetic 'digits' in place of MNIST: the run trains everything, saves JSON and rebuilds the same tables."""
    def fake_mnist(train=True):
        g = gen(0 if train else 1)
        n = 300 if train else 100
        y = torch.randint(0, 10, (n,), generator=g)
        prototypes = torch.rand(10, 784, generator=gen(2))
        return (0.7 * prototypes[y] + 0.3 * torch.rand(n, 784, generator=g)), y

    monkeypatch.setattr(rbm_mnist, "load_mnist", fake_mnist)
    config = Config(n_train=200, n_hidden=12, epochs=2, ais_steps=20, ais_runs=8, gibbs_steps=10, exact_n_hidden=5,
                    dbn_sizes=(10, 12), dbn_epochs=1, finetune_epochs=2, classifier_iterations=5)
    result = rbm_mnist.run(config, progress=False, results_dir=tmp_path)
    saved = report.load_results(rbm_mnist.NAME, "ci", tmp_path)
    again = Result.from_saved(saved)
    for table in ("density_table", "exact_check_table", "training_table", "classification_table"):
        assert getattr(again, table)().markdown() == getattr(result, table)().markdown()
    assert again.verdict_table().markdown() == result.verdict_table().markdown()
    assert len(saved["verdicts"]) == len(result.verdicts()) and saved["provenance"]["seeds"] == [0, 1234]
    assert set(result.models) == {"CD-1", "CD-3", "CD-25", "PCD", "CD-1 (5 hidden)"}
    assert len(result.models["PCD"]["history"]) == 2 and result.models["PCD"]["learning_rate"] == 0.01
    for make in ("filters_figure", "reconstructions_figure", "samples_figure", "learning_curves_figure"):
        assert getattr(result, make)() is not None
    with pytest.raises(ValueError, match="figures need"):
        again.samples_figure()
