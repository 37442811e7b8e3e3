"""Tests of rbmlib.experiments.glorot2011 on tiny synthetic data: configuration, the data split, the fine-tuning
objective (one SGD step by hand, with the L1 activation term), best-validation-epoch selection, exact-zero counts,
and the tables and verdicts computed from known numbers."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rbmlib.experiments import glorot2011 as g
from rbmlib.stack import DenoisingAutoencoder


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_profiles_and_configuration_errors():
    ci, paper = g.Config.for_profile("ci"), g.Config.for_profile("paper")
    assert paper.hidden_sizes == (1000, 1000, 1000) and paper.batch_size == 10 and paper.select_learning_rates
    assert paper.splits["mnist"] == g.Split(50_000, 10_000) and paper.splits["cifar10"].valid_from == "test"
    for cfg in (ci, paper):
        assert cfg.corruption == 0.25 and cfg.batch_size == 10
        assert cfg.l1_activation == {"relu": 1e-3, "tanh": 0.0, "softplus": 0.0}
    assert len(ci.seeds) >= 2
    with pytest.raises(ValueError, match="ci, paper"):
        g.Config.for_profile("full")
    with pytest.raises(ValueError, match="activations"):
        g.Config(activations=("sigmoid",))
    with pytest.raises(ValueError, match="datasets"):
        g.Config(datasets=("norb",))
    with pytest.raises(ValueError, match="device"):
        g.Config(device="tpu")
    with pytest.raises(ValueError, match="finetune_lr"):
        g.Config(finetune_lr={"relu": {True: 0.1}, "tanh": {True: 0.1, False: 0.1},
                              "softplus": {True: 0.1, False: 0.1}})


def test_split_is_disjoint_and_sized(monkeypatch):
    x_train, y_train = torch.arange(100.0).unsqueeze(1), torch.arange(100) % 10
    x_test, y_test = 1000 + torch.arange(40.0).unsqueeze(1), torch.arange(40) % 10
    monkeypatch.setattr(g, "load_mnist", lambda train: (x_train, y_train) if train else (x_test, y_test))
    data = g.load_split("mnist", g.Split(30, 20, 25))
    assert [len(data[k][0]) for k in ("train", "valid", "test")] == [30, 20, 25]
    train, valid = set(data["train"][0].flatten().tolist()), set(data["valid"][0].flatten().tolist())
    assert not train & valid and max(train | valid) < 100 and min(data["test"][0].flatten().tolist()) >= 1000
    assert torch.equal(g.load_split("mnist", g.Split(30, 20, 25))["train"][0], data["train"][0])  # fixed subset
    from_test = g.load_split("mnist", g.Split(None, 15, valid_from="test"))
    assert len(from_test["train"][0]) == 100 and len(from_test["valid"][0]) == 15 and len(from_test["test"][0]) == 25
    assert not set(from_test["valid"][0].flatten().tolist()) & set(from_test["test"][0].flatten().tolist())
    with pytest.raises(ValueError, match="exceed"):
        g.load_split("mnist", g.Split(90, 20))


def test_make_net_uses_the_pretrained_encoders_or_glorot_uniform():
    daes = [DenoisingAutoencoder(6, 4, "tanh", generator=gen(1)), DenoisingAutoencoder(4, 3, "tanh", generator=gen(2))]
    net = g.make_net(6, (4, 3), "tanh", 10, gen(3), "cpu", daes)
    assert torch.equal(net[0].weight, daes[0].encoder.weight) and torch.equal(net[2].weight, daes[1].encoder.weight)
    assert isinstance(net[1], nn.Tanh) and net[-1].out_features == 10
    fresh = g.make_net(600, (400, 3), "relu", 10, gen(3), "cpu")
    bound = math.sqrt(6 / (600 + 400))
    assert fresh[0].weight.abs().max() <= bound and fresh[0].weight.abs().max() > 0.9 * bound
    assert torch.count_nonzero(fresh[0].bias) == 0


def test_hidden_codes_and_exact_zero_fractions():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 3))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
        net[0].bias.zero_()
        net[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        net[2].bias.fill_(-1.0)
    x = torch.tensor([[1.0, -1.0], [-1.0, -1.0], [2.0, 3.0], [-2.0, 0.5]])
    codes, logits = g.hidden_codes(net, x)
    assert len(codes) == 2 and torch.equal(logits, net(x))
    # layer 1 = relu(x) = (1, 0), (0, 0), (2, 3), (0, 0.5): 4 of 8 zeros; layer 2 = relu(sum − 1) = (0, 0, 4, 0)
    assert g.exact_zero_fractions(net, x, batch_size=3) == [4 / 8, 3 / 4]


def test_one_fine_tuning_step_is_sgd_on_nll_plus_l1_of_the_codes():
    net = g.make_net(5, (4, 3), "relu", 3, gen(1), "cpu")
    x, y = torch.rand(4, 5, generator=gen(2)), torch.tensor([0, 2, 1, 2])
    expected = [p.detach().clone() for p in net.parameters()]
    reference = g.make_net(5, (4, 3), "relu", 3, gen(1), "cpu")
    h1 = torch.relu(reference[0](x))
    h2 = torch.relu(reference[2](h1))
    loss = F.cross_entropy(reference[4](h2), y) + 0.01 * (h1.abs().sum(1).mean() + h2.abs().sum(1).mean())
    grads = torch.autograd.grad(loss, list(reference.parameters()))
    g.fine_tune(net, (x, y), (x, y), epochs=1, batch_size=4, learning_rate=0.1, l1_activation=0.01, generator=gen())
    for p, p0, grad in zip(net.parameters(), expected, grads):
        assert torch.allclose(p, p0 - 0.1 * grad, atol=1e-6)


def test_fine_tuning_keeps_the_best_validation_epoch():
    x = torch.rand(60, 8, generator=gen(1))
    y = (x[:, 0] > 0.5).long()
    net = g.make_net(8, (6, 6), "tanh", 2, gen(2), "cpu")
    out = g.fine_tune(net, (x, y), (x[:20], y[:20]), epochs=5, batch_size=10, learning_rate=0.5, l1_activation=0.0,
                      generator=gen(3))
    assert len(out["history"]) == 5
    assert out["valid_error"] == min(r["valid_error"] for r in out["history"])
    assert g.error_rate(net, x[:20], y[:20]) == out["valid_error"]  # the kept parameters are the best epoch's
    assert out["history"][out["best_epoch"] - 1]["valid_error"] == out["valid_error"]


def _synthetic_result(errors: dict, zeros: dict) -> g.Result:
    """errors[(activation, pretrained)] = list over seeds; zeros[activation] = per-layer fractions (every seed)."""
    runs = {f"{a}/{'pretrained' if p else 'random'}": [{"test_error": e, "zero_fraction": zeros[a]} for e in errs]
            for (a, p), errs in errors.items()}
    data = {"variant": "MNIST", "sizes": {"train": 10, "valid": 5, "test": 5}, "runs": runs,
            "learning_rates": {a: {"pretrain": 0.01, "True": 0.1, "False": 0.1} for a in g.ACTIVATION_ORDER}}
    config = {"seeds": [0, 1], "hidden_sizes": [8, 8, 8], "pretrain_epochs": 1, "finetune_epochs": 1}
    return g.Result({"config": config, "datasets": {"mnist": data}}, "ci")


def test_tables_and_verdicts_from_known_numbers():
    errors = {("relu", True): [0.050, 0.052], ("tanh", True): [0.049, 0.051], ("softplus", True): [0.060, 0.058],
              ("relu", False): [0.055, 0.057], ("tanh", False): [0.070, 0.072], ("softplus", False): [0.080, 0.078]}
    zeros = {"relu": [0.6, 0.7, 0.8], "tanh": [0.0, 0.0, 0.0], "softplus": [0.0, 0.005, 0.0]}
    result = _synthetic_result(errors, zeros)
    table = result.table1()
    assert len(table.rows) == 6 and table.header[2:4] == ["MNIST paper", "MNIST ours"]
    assert table.rows[0][:4] == ["Rectifier", "yes", "1.20%", "5.10 ± 0.14%"]
    assert table.rows[0][-3:] == ["not public", "16.46%", "no data"]
    diffs = {row[1]: row[3] for row in result.differences_table().rows}
    assert diffs["rectifier − tanh, with pre-training"] == "+0.10 ± 0.00"
    assert diffs["rectifier: gain from pre-training (without − with)"] == "+0.50 ± 0.00"
    sparsity = {row[1]: row[3] for row in result.sparsity_table().rows}
    assert sparsity["layer 2"] == "70.0 ± 0.0%" and sparsity["average"] == "70.0 ± 0.0%"
    labels = [row[3] for row in result.verdicts().rows]
    # as good: +0.10 pp with, −1.50 pp without (≤ 1 pp); gains relu 0.5 ≤ min(2.1, 2.0) + 0.5;
    # sparse: 70% ≥ 50% and tanh/softplus ≤ 1% (0.17% here)
    assert labels == ["✅ reproduced"] * 3 + ["➖ not testable here"] * 2

    errors[("relu", True)] = [0.070, 0.072]  # now 2.1 pp worse than tanh with pre-training
    zeros["relu"] = [0.3, 0.3, 0.3]
    labels = [row[3] for row in _synthetic_result(errors, zeros).verdicts().rows]
    assert labels[0] == "❌ not reproduced" and labels[2] == "❌ not reproduced"
    assert labels[1] == "✅ reproduced"  # rectifier gain now −1.5 pp: pre-training matters even less


def test_a_diverging_rate_falls_back_to_the_next_smaller_one_of_the_grid():
    tried = []

    def fit(lr):
        tried.append(lr)
        if lr > 0.005:
            raise g.DivergenceError("diverged")
        return "fitted"

    assert g.with_fallback(fit, 0.1) == ("fitted", 0.001) and tried == [0.1, 0.01, 0.001]
    assert g.with_fallback(fit, 0.002) == ("fitted", 0.002)
    with pytest.raises(g.DivergenceError):
        g.with_fallback(lambda lr: fit(1.0), 0.1)


def test_paper_profile_tables_say_when_not_run(monkeypatch):
    monkeypatch.setattr(g, "load_results", lambda name, profile: None)
    assert "has not been run" in g.paper_profile_tables()
