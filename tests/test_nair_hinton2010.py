"""Nair & Hinton 2010 (LFW and NORB chapters): thresholds, intensity equivariance, net export, learning-rate choice,
subsets and verdict logic, checked against exact answers on tiny inputs (no data files, no training runs)."""
import math

import pytest
import torch

from rbmlib.experiments import nair_hinton2010 as S
from rbmlib.experiments import nair_hinton2010_lfw as L
from rbmlib.experiments import nair_hinton2010_norb as N
from rbmlib.rbm import RBM
from rbmlib.train import DivergenceError
from rbmlib.units import Bernoulli, Gaussian, NReLU


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _rbm(kind, n_visible=12, n_hidden=7, seed=0, weight_std=0.5):
    return L.make_rbm(kind, n_visible, L.Config(n_hidden=n_hidden, weight_std=weight_std),
                      torch.Generator().manual_seed(seed), "cpu")


# thresholds and accuracy --------------------------------------------------------------------------------------
def test_best_threshold_is_the_midpoint_that_maximises_accuracy():
    scores = torch.tensor([0.1, 0.9, 0.4, 0.6, 0.3])
    same = torch.tensor([False, True, False, True, True])
    # sorted: 0.1 F, 0.3 T, 0.4 F, 0.6 T, 0.9 T: cutting below 0.6 gets 4/5, below 0.3 gets 4/5: lowest wins
    t = L.best_threshold(scores, same)
    assert t == pytest.approx(0.2)
    assert L.accuracy(scores, same, t) == pytest.approx(0.8)
    separable = torch.tensor([0.2, 0.8, 0.1, 0.7])
    t = L.best_threshold(separable, torch.tensor([False, True, False, True]))
    assert t == pytest.approx(0.45) and L.accuracy(separable, torch.tensor([False, True, False, True]), t) == 1.0


def test_best_threshold_extremes_and_bad_input():
    scores = torch.tensor([0.3, 0.5])
    assert L.accuracy(scores, torch.tensor([True, True]), L.best_threshold(scores, torch.tensor([True, True]))) == 1
    assert L.accuracy(scores, torch.tensor([False, False]),
                      L.best_threshold(scores, torch.tensor([False, False]))) == 1
    with pytest.raises(ValueError, match="equal-length"):
        L.best_threshold(torch.tensor([0.1, 0.2]), torch.tensor([True]))


def test_verification_accuracy_thresholds_on_training_pairs_only():
    images = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [1.0, 1.0]])
    train = (torch.tensor([0, 0]), torch.tensor([1, 2]), torch.tensor([True, False]))  # cos 0.995 same, 0 diff
    test = (torch.tensor([3, 2]), torch.tensor([0, 1]), torch.tensor([True, False]))  # cos 0.707, 0.0995
    assert L.verification_accuracy(torch.nn.Identity(), images, train, test) == 1.0
    flipped = (test[0], test[1], torch.tensor([False, True]))
    assert L.verification_accuracy(torch.nn.Identity(), images, train, flipped) == 0.0


# features and intensity equivariance ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind, activation", [("NReLU", torch.relu), ("binary", torch.sigmoid)])
def test_feature_net_is_the_bias_free_rbm_layer(kind, activation):
    rbm = _rbm(kind)
    assert rbm.hidden_bias.abs().sum() == 0 and isinstance(rbm.visible, Gaussian)
    net = L.feature_net(rbm)
    v = torch.randn(5, 12, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(net(v), activation(v @ rbm.weight))
    assert not net[0].bias.requires_grad and [p for p in net.parameters() if p.requires_grad] == [net[0].weight]


def test_equivariance_is_exact_for_nrelu_and_fails_for_binary():
    rbms = {"NReLU": _rbm("NReLU"), "binary": _rbm("binary")}
    images = torch.randn(6, 12, generator=torch.Generator().manual_seed(2))
    pairs = (torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5]))
    rows = L.equivariance(rbms, images, pairs, (0.5, 3.0))
    for row in rows:
        assert row["NReLU"]["relative_error"] < 1e-6 and row["NReLU"]["cosine_change"] < 1e-6
        assert row["binary"]["relative_error"] > 0.05
    # sigmoid(0) = 1/2, so f(αa) − αf(a) is at least |1 − α|/2 per unit at small weights
    assert rows[0]["scale"] == 0.5


def test_fine_tuning_keeps_the_net_bias_free_and_learns_the_pairs():
    g = torch.Generator().manual_seed(3)
    identities = torch.randn(4, 10, generator=g)
    images = identities.repeat_interleave(5, 0) + 0.3 * torch.randn(20, 10, generator=g)
    person = torch.arange(20) // 5
    a, b = torch.combinations(torch.arange(20), 2).t()
    pairs = (a, b, person[a] == person[b])
    config = L.Config(n_hidden=16, weight_std=0.01, finetune_epochs=20, finetune_batch_size=32)
    rbm = L.make_rbm("NReLU", 10, config, torch.Generator().manual_seed(4), "cpu")
    before = L.verification_accuracy(L.feature_net(rbm), images, pairs, pairs)
    net = L.fine_tune(L.feature_net(rbm), images, pairs, 1e-2, config, torch.Generator().manual_seed(5))
    assert net[0].bias.abs().sum() == 0
    assert not torch.equal(net[0].weight, rbm.weight.t())  # a copy was trained, the RBM is untouched
    assert L.verification_accuracy(net, images, pairs, pairs) > max(before, 0.9)


# shared helpers ---------------------------------------------------------------------------------------------
def test_mean_and_standard_error_exact():
    mean, se = S.mean_and_standard_error([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3)
    assert se == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2 / 3))
    assert S.mean_and_standard_error([0.5]) == (0.5, 0.0)
    with pytest.raises(ValueError):
        S.mean_and_standard_error([])


def test_best_learning_rate_skips_diverged_runs_and_prefers_the_smaller_rate_on_ties():
    assert S.best_learning_rate({1e-3: 0.2, 1e-2: None, 1e-4: 0.3}, lower_is_better=True) == 1e-3
    assert S.best_learning_rate({1e-3: 0.7, 1e-2: 0.7, 1e-4: 0.6}, lower_is_better=False) == 1e-3
    with pytest.raises(DivergenceError):
        S.best_learning_rate({1e-3: None}, lower_is_better=True)
    assert S.selection_cell(None, False) == "diverged" and S.selection_cell(0.25, True, percent=True) == "25.00% ←"


def test_fit_net_raises_on_a_diverging_loss():
    w = torch.nn.Parameter(torch.ones(1))
    with pytest.raises(DivergenceError, match="learning rate"):
        S.fit_net([{"params": [w], "lr": 0.1}], lambda batch: w.sum() * float("nan"), 4, 1, 2,
                  torch.Generator().manual_seed(0))


def test_bad_names_raise():
    with pytest.raises(ValueError, match="NReLU, binary"):
        S.hidden_units("tanh")
    assert isinstance(S.hidden_units("NReLU"), NReLU) and isinstance(S.hidden_units("binary"), Bernoulli)
    for module in (L, N):
        with pytest.raises(ValueError, match="ci, paper"):
            module.Config.for_profile("full")
        assert module.Config.for_profile("paper").profile == "paper"
    with pytest.raises(ValueError, match="folds"):
        L.Config(folds=(0, 10))
    with pytest.raises(ValueError, match="n_validation"):
        N.Config(n_train=100, n_validation=100)


# NORB ---------------------------------------------------------------------------------------------------------
def test_random_subset_draws_without_replacement_across_a_sorted_file():
    x = torch.arange(100.0).unsqueeze(1)
    y = torch.arange(100) // 10  # sorted by class, like the CIFAR-10 JPEG copy
    xs, ys = N.random_subset(x, y, 30, seed=0)
    assert xs.shape == (30, 1) and len(set(xs.flatten().tolist())) == 30
    assert torch.equal(ys, xs.flatten().long() // 10) and len(set(ys.tolist())) > 5
    assert torch.equal(N.random_subset(x, y, None, 0)[0].sort(0).values, x)
    with pytest.raises(ValueError, match="asked for"):
        N.random_subset(x, y, 101, 0)


def test_stack_for_and_the_classifier_net():
    config = N.Config(sizes=(6, 4))
    initial = N.initial_layers("NReLU", 9, config, torch.Generator().manual_seed(0), "cpu")
    pretrained = N.initial_layers("NReLU", 9, config, torch.Generator().manual_seed(1), "cpu")
    assert N.stack_for((1, 0), pretrained, initial) == initial[:1]
    assert N.stack_for((2, 1), pretrained, initial) == [pretrained[0], initial[1]]
    assert N.stack_for((2, 2), pretrained, initial) == pretrained
    net = N.build_net(N.stack_for((2, 1), pretrained, initial), n_classes=3)
    x = torch.randn(5, 9, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(net[:-1](x), torch.relu(torch.relu(x @ pretrained[0].weight) @ initial[1].weight))
    assert torch.count_nonzero(net(x)) == 0  # zero-initialised softmax layer
    assert N.error_rate(net, x, torch.zeros(5, dtype=torch.long)) == 0.0  # argmax of ties is class 0
    assert N.error_rate(net, x, torch.tensor([0, 1, 2, 1, 0])) == pytest.approx(0.6)


def test_data_name_drops_the_machine_specific_path():
    variant = "stand-in for NORB: CIFAR-10 (JPEG q75 copy), grey-scale 32×32, 10 classes — NORB not found under /x/norb"
    assert N.data_name(variant) == "stand-in for NORB: CIFAR-10 (JPEG q75 copy), grey-scale 32×32, 10 classes"
    assert N.data_name("Jittered-Cluttered NORB, stereo 2×32×32") == "Jittered-Cluttered NORB, stereo 2×32×32"


# verdict logic ------------------------------------------------------------------------------------------------
def _lfw_result(nrelu, binary):
    accuracy = {"raw pixels": [0.6, 0.6, 0.6], "features/NReLU": [0.6] * 3, "features/binary": [0.6] * 3,
                "pretrained/NReLU": nrelu, "pretrained/binary": binary, "random/NReLU": [0.7] * 3,
                "random/binary": [0.7] * 3}
    eq = [{"scale": 2.0, "NReLU": {"relative_error": 0.0, "cosine_change": 0.0},
           "binary": {"relative_error": 0.5, "cosine_change": 0.01}}]
    results = {"config": {"folds": [0, 1, 2], "n_hidden": 8, "rbm_epochs": 1, "finetune_epochs": 1,
                          "equivariance_pairs": 1}, "variant": "v", "accuracy": accuracy, "equivariance": eq,
               "selected_learning_rate": {f"{i}/{k}": 1e-3 for i in L.INITS for k in S.HIDDEN_KINDS},
               "learning_rate_selection": {}}
    return L.Result(results, "ci")


def test_lfw_verdict_uses_the_paired_standard_error():
    # differences 0.00, −0.02, −0.01: mean −0.01, s.e. 0.00577 → worse by more than 1 s.e.: not reproduced
    assert _lfw_result([0.80, 0.78, 0.79], [0.80, 0.80, 0.80]).verdicts()[0].holds is False
    # differences −0.03, +0.01, 0.00: mean −0.00667, s.e. 0.0120 → within 1 s.e.: reproduced
    assert _lfw_result([0.77, 0.81, 0.80], [0.80, 0.80, 0.80]).verdicts()[0].holds is True
    verdicts = _lfw_result([0.8] * 3, [0.8] * 3).verdicts()
    assert verdicts[3].holds is True  # equivariance: NReLU exact, binary 0.5
    assert "0.8000 ± 0.0000" in _lfw_result([0.8] * 3, [0.7] * 3).accuracy_table().markdown()


def test_norb_verdict_and_tables_name_the_data():
    errors = {f"{n}/{p}/{k}": [0.30, 0.32] if k == "NReLU" else [0.35, 0.33] for n, p in N.SETTINGS
              for k in S.HIDDEN_KINDS}
    results = {"config": {"sizes": [6, 4], "n_validation": 10, "rbm_epochs": 1, "finetune_epochs": 1,
                          "seeds": [0, 1]}, "data": "stand-in for NORB: X", "n_train": 100, "n_test": 50,
               "test_error": errors, "learning_rate_selection": {}, "selected_learning_rate": {}}
    result = N.Result(results, "ci")
    verdicts = result.verdicts()
    assert all(v.holds for v in verdicts[:5])  # NReLU lower by 0.03 ± 0.02
    assert all(v.holds for v in verdicts[5:])  # pre-trained equal to random: difference 0 ≤ s.e.
    table = result.one_layer_table().markdown()
    assert "stand-in for NORB: X" in table and "not comparable" in table and "31.00 ± 1.00%" in table
