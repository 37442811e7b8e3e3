"""Tests of rbmlib.train: the update rule against a hand computation, learning raises the exact likelihood,
save/resume equals an uninterrupted run, the divergence guard, and configuration errors."""
import copy

import pytest
import torch

from rbmlib.rbm import RBM
from rbmlib.samplers import CD, PCD, FastPCD
from rbmlib.train import DivergenceError, TrainConfig, Trainer, preset
from rbmlib.units import Gaussian, NReLU

# Six binary patterns on 8 pixels: two prototypes with a flipped bit each.
PATTERNS = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0, 0],
                         [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1, 1, 1]],
                        dtype=torch.float32)


def tiny_rbm(seed=0, **kwargs):
    return RBM(8, 4, weight_std=0.1, generator=torch.Generator().manual_seed(seed), **kwargs)


def test_one_update_matches_the_cd1_formula_by_hand():
    rbm = tiny_rbm()
    before = copy.deepcopy(rbm)
    cfg = TrainConfig(epochs=1, batch_size=6, learning_rate=0.5, initial_momentum=0.0, weight_decay=0.01)
    gen = torch.Generator().manual_seed(3)
    replay = torch.Generator().manual_seed(3)
    trainer = Trainer(rbm, cfg, CD(1), generator=gen)
    with torch.no_grad():
        trainer._step(PATTERNS, cfg.learning_rate, 0.0)
        # the same draws by hand: h0 ~ p(h|v), v1 = E[v|h0], positive minus negative statistics
        p0 = torch.sigmoid(PATTERNS @ before.weight + before.hidden_bias)
        h0 = (torch.rand(p0.shape, generator=replay) < p0).float()
        v1 = torch.sigmoid(h0 @ before.weight.T + before.visible_bias)
        p1 = torch.sigmoid(v1 @ before.weight + before.hidden_bias)
        grad_w = (PATTERNS.T @ p0 - v1.T @ p1) / 6
        expected_w = before.weight + 0.5 * (grad_w - 0.01 * before.weight)
        expected_b = before.visible_bias + 0.5 * (PATTERNS - v1).mean(0)  # no weight decay on biases
        expected_c = before.hidden_bias + 0.5 * (p0 - p1).mean(0)
    torch.testing.assert_close(rbm.weight, expected_w)
    torch.testing.assert_close(rbm.visible_bias, expected_b)
    torch.testing.assert_close(rbm.hidden_bias, expected_c)


@pytest.mark.parametrize("sampler", [CD(1), CD(5), PCD(1), FastPCD(0.05)], ids=["CD1", "CD5", "PCD", "FastPCD"])
def test_training_raises_the_exact_log_likelihood(sampler):
    from rbmlib.estimators import exact_log_likelihood

    rbm = tiny_rbm()
    start = exact_log_likelihood(rbm, PATTERNS).mean().item()
    # PCD needs a small learning rate (Tieleman 2008): 0.05 without momentum suits every sampler here
    cfg = TrainConfig(epochs=600, batch_size=60, learning_rate=0.05, initial_momentum=0.0, final_momentum=0.0,
                      weight_decay=0.0)
    data = PATTERNS.repeat(10, 1)  # 60 rows: 60 persistent chains for PCD
    Trainer(rbm, cfg, sampler, generator=torch.Generator().manual_seed(1)).fit(data, progress=False)
    end = exact_log_likelihood(rbm, PATTERNS).mean().item()
    # uniform over 2^8 states is −5.55 nats; the six patterns have log(1/6) = −1.79 as the best achievable
    assert end > start + 2.5, (start, end)


@pytest.mark.parametrize("momentum", [0.5, 0.0], ids=["momentum", "plain-SGD"])
def test_two_updates_match_momentum_and_decay_by_hand(momentum):
    """Momentum carries the first step into the second; weight decay acts on W only, never on the biases. With
    momentum 0 throughout, the trainer's plain-SGD path (no ΔW kept) must give the same updates."""
    rbm = tiny_rbm()
    cfg = TrainConfig(epochs=1, batch_size=6, learning_rate=0.3, initial_momentum=momentum, final_momentum=momentum,
                      weight_decay=0.1)
    trainer = Trainer(rbm, cfg, CD(1), generator=torch.Generator().manual_seed(3))
    replay = torch.Generator().manual_seed(3)
    expected = {n: p.detach().clone() for n, p in rbm.named_parameters()}
    velocity = {n: torch.zeros_like(p) for n, p in expected.items()}
    with torch.no_grad():
        for _ in range(2):
            trainer._step(PATTERNS, cfg.learning_rate, momentum)
            w, b, c = expected["weight"], expected["visible_bias"], expected["hidden_bias"]
            p0 = torch.sigmoid(PATTERNS @ w + c)
            h0 = (torch.rand(p0.shape, generator=replay) < p0).float()
            v1 = torch.sigmoid(h0 @ w.T + b)
            p1 = torch.sigmoid(v1 @ w + c)
            grads = {"weight": (PATTERNS.T @ p0 - v1.T @ p1) / 6 - 0.1 * w,
                     "visible_bias": (PATTERNS - v1).mean(0), "hidden_bias": (p0 - p1).mean(0)}
            for name in expected:
                velocity[name] = momentum * velocity[name] + 0.3 * grads[name]
                expected[name] = expected[name] + velocity[name]
    for name, p in rbm.named_parameters():
        torch.testing.assert_close(p, expected[name], msg=name)


@pytest.mark.parametrize("make_sampler", [lambda: CD(1), lambda: PCD(2, n_chains=3),
                                          lambda: FastPCD(0.05, n_chains=3)], ids=["CD", "PCD", "FastPCD"])
def test_resume_equals_an_uninterrupted_run(make_sampler):
    cfg = TrainConfig(epochs=6, batch_size=3, learning_rate=0.05, momentum_switch_epoch=2,
                      sparsity_target=0.2, sparsity_cost=0.1)
    straight = Trainer(tiny_rbm(), cfg, make_sampler(), torch.Generator().manual_seed(7))
    straight.fit(PATTERNS, progress=False)

    first = Trainer(tiny_rbm(), dataclass_replace(cfg, epochs=3), make_sampler(), torch.Generator().manual_seed(7))
    first.fit(PATTERNS, progress=False)
    state = copy.deepcopy(first.state_dict())
    resumed = Trainer(tiny_rbm(seed=99), cfg, make_sampler(), torch.Generator().manual_seed(12345))
    resumed.load_state_dict(state)
    resumed.fit(PATTERNS, progress=False)

    assert resumed.epoch_ == straight.epoch_ == 6
    for name, p in straight.rbm.state_dict().items():
        assert torch.equal(p, resumed.rbm.state_dict()[name]), name
    assert [r["reconstruction_error"] for r in resumed.history_] == [r["reconstruction_error"]
                                                                     for r in straight.history_]


@pytest.mark.parametrize("make_sampler", [lambda: PCD(2, n_chains=3), lambda: FastPCD(0.05, n_chains=3)],
                         ids=["PCD", "FastPCD"])
def test_a_state_saved_in_float64_resumes_a_float32_trainer(make_sampler):
    """Persistent chains and fast weights are created from the saved tensors: they must take this trainer's dtype
    and device, or the resumed fit refuses (or computes) in the saved precision."""
    cfg = TrainConfig(epochs=2, batch_size=3, learning_rate=0.05)
    saved = Trainer(tiny_rbm().double(), cfg, make_sampler(), torch.Generator().manual_seed(7))
    saved.fit(PATTERNS.double(), progress=False)
    resumed = Trainer(tiny_rbm(), dataclass_replace(cfg, epochs=4), make_sampler(), torch.Generator().manual_seed(7))
    resumed.load_state_dict(copy.deepcopy(saved.state_dict()))
    assert {t.dtype for t in resumed.sampler.state_dict().values()} == {torch.float32}
    resumed.fit(PATTERNS, progress=False)
    assert resumed.epoch_ == 4 and resumed.rbm.weight.dtype == torch.float32
    assert torch.equal(resumed.sampler.chains, resumed.sampler.chains.float())


def dataclass_replace(cfg, **changes):
    import dataclasses
    return dataclasses.replace(cfg, **changes)


def test_divergence_raises_a_clear_error():
    data = torch.randn(200, 20, generator=torch.Generator().manual_seed(0)) * 3
    rbm = RBM(20, 10, visible=Gaussian(), hidden=NReLU(), generator=torch.Generator().manual_seed(0))
    trainer = Trainer(rbm, TrainConfig(epochs=50, batch_size=20, learning_rate=100.0))
    with pytest.raises(DivergenceError, match=r"diverged in epoch \d+.*learning rate \(now 100\)"):
        trainer.fit(data, progress=False)


def test_fixed_hidden_biases_stay_zero_and_are_not_learned():
    rbm = tiny_rbm(hidden_bias=False)
    Trainer(rbm, TrainConfig(epochs=3, batch_size=2)).fit(PATTERNS, progress=False)
    assert "hidden_bias" not in dict(rbm.named_parameters())
    assert torch.count_nonzero(rbm.hidden_bias) == 0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig(learning_rate=-1)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(learning_rate_schedule="cosine")
    with pytest.raises(ValueError, match="unknown preset"):
        preset("nope")
    trainer = Trainer(tiny_rbm(), TrainConfig(epochs=1))
    with pytest.raises(ValueError, match=r"shape \(N, 8\)"):
        trainer.fit(torch.zeros(4, 7), progress=False)
    with pytest.raises(ValueError, match="no rows"):
        trainer.fit(torch.zeros(0, 8), progress=False)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_one_non_finite_value_in_the_data_is_refused_before_any_update(bad):
    rbm = tiny_rbm()
    before = {k: v.clone() for k, v in rbm.state_dict().items()}
    data = torch.rand(50, 8, generator=torch.Generator().manual_seed(0))
    data[37, 5] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        Trainer(rbm, TrainConfig(epochs=1)).fit(data, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in rbm.state_dict().items())


def test_schedules_and_presets():
    cfg = preset("hinton_salakhutdinov_2006", epochs=10, learning_rate_schedule="linear")
    assert cfg.learning_rate == 0.1 and cfg.weight_decay == 2e-4
    assert cfg.learning_rate_at(0) == pytest.approx(0.1) and cfg.learning_rate_at(5) == pytest.approx(0.05)
    assert cfg.momentum_at(4) == 0.5 and cfg.momentum_at(5) == 0.9
