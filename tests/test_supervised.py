"""rbmlib.supervised: error rate by arg-max (batched, mode restored) and device names."""
import pytest
import torch
from torch import nn

from rbmlib.supervised import error_rate, resolve_device


def test_error_rate_counts_arg_max_mistakes_across_batches():
    x = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert error_rate(nn.Identity(), x, torch.tensor([0, 1, 1, 0]), batch_size=3) == 0.5
    assert error_rate(nn.Identity(), x, torch.tensor([0, 1, 0, 1]), batch_size=1) == 0.0


def test_error_rate_evaluates_in_eval_mode_and_restores_the_mode():
    net = nn.Sequential(nn.Dropout(0.99), nn.Identity())
    x = torch.tensor([[0.0, 1.0]] * 50)
    assert error_rate(net, x, torch.ones(50, dtype=torch.long)) == 0.0  # dropout off: no zeroed rows
    assert net.training


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="equal length"):
        error_rate(nn.Identity(), torch.zeros(3, 2), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")
    assert resolve_device("cpu") == torch.device("cpu")


# the one training loop ----------------------------------------------------------------------------------------
from rbmlib.supervised import cross_entropy_loss, fit, select_learning_rate, sgd  # noqa: E402
from rbmlib.train import DivergenceError  # noqa: E402


def _linear_problem(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    return x, x @ torch.tensor([1.0, -2.0, 0.5])


def test_fit_is_exact_full_batch_gradient_descent():
    """One full batch per epoch, plain SGD: fit must take exactly the hand-computed steps w ← w − ε ∇ℓ(w)."""
    x, y = _linear_problem()
    model = nn.Linear(3, 1, bias=False)
    nn.init.zeros_(model.weight)
    history = fit(lambda b: ((model(x[b]).squeeze(1) - y[b]) ** 2).mean(), sgd(model, 0.1), len(x), epochs=3,
                  batch_size=len(x), generator=torch.Generator().manual_seed(0))
    w = torch.zeros(3, dtype=torch.float64)
    xd, yd = x.double(), y.double()
    losses = []
    for _ in range(3):
        r = xd @ w - yd
        losses.append((r ** 2).mean().item())
        w = w - 0.1 * 2 * xd.T @ r / len(x)
    torch.testing.assert_close(model.weight.detach().double().squeeze(0), w, rtol=1e-5, atol=1e-6)
    assert [e["loss"] for e in history.epochs] == pytest.approx(losses, rel=1e-5)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3] and history.epochs[-1]["steps"] == 3


def test_fit_visits_every_example_once_per_epoch_in_mini_batches():
    seen = []
    w = nn.Parameter(torch.zeros(1))

    def loss(batch):
        seen.append(batch.tolist())
        return (w * 0).sum() + 1.0

    history = fit(loss, torch.optim.SGD([w], lr=0.1), 10, epochs=2, batch_size=4,
                  generator=torch.Generator().manual_seed(1))
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    assert sorted(sum(seen[:3], [])) == list(range(10)) and sorted(sum(seen[3:], [])) == list(range(10))
    assert seen[:3] != seen[3:]  # reshuffled each epoch
    assert len(history.step_losses) == 6 and history.windowed(3) == [1.0, 1.0]


def test_fit_drop_last_max_steps_and_scheduler():
    w = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=1.0)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2], 0.1)
    sizes = []

    def loss(batch):
        sizes.append(len(batch))
        return -w.sum()  # gradient −1: each step adds the current learning rate to w

    history = fit(loss, opt, 10, epochs=5, batch_size=4, drop_last=True, max_steps=3, scheduler=sched,
                  generator=torch.Generator().manual_seed(0))
    assert sizes == [4, 4, 4] and history.epochs[-1]["steps"] == 3
    assert w.item() == pytest.approx(1.0 + 1.0 + 0.1)  # lr 1, 1, then 0.1 after the 2nd step


def test_sgd_exempts_prelu_from_weight_decay():
    net = nn.Sequential(nn.Linear(2, 2), nn.PReLU(2))
    opt = sgd(net, 0.1, momentum=0.9, weight_decay=0.5)
    decay = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert decay[id(net[1].weight)] == 0.0 and decay[id(net[0].weight)] == 0.5 and decay[id(net[0].bias)] == 0.5
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)


def test_keep_best_restores_the_epoch_with_the_lowest_validation_value():
    w = nn.Parameter(torch.zeros(1))
    module = nn.Module()
    module.w = w
    valid = iter([3.0, 1.0, 2.0])
    history = fit(lambda b: -w.sum(), torch.optim.SGD([w], lr=1.0), 4, epochs=3, batch_size=4,
                  generator=torch.Generator().manual_seed(0), after_epoch=lambda e: {"valid": next(valid)},
                  keep_best=(module, "valid"))
    assert history.best_epoch == 2 and w.item() == 2.0  # after epoch 2, w = 2
    assert [e["valid"] for e in history.epochs] == [3.0, 1.0, 2.0]


def test_divergence_is_named():
    w = nn.Parameter(torch.ones(1))
    with pytest.raises(DivergenceError, match="diverged in epoch 1.*learning rate \\(now 0.5\\)"):
        fit(lambda b: w.sum() * float("nan"), torch.optim.SGD([w], lr=0.5), 4, epochs=2, batch_size=2,
            generator=torch.Generator().manual_seed(0))
    w = nn.Parameter(torch.ones(1))
    growth = iter([1.0, 1.0, 100.0, 100.0])
    with pytest.raises(DivergenceError, match="epoch 2"):
        fit(lambda b: w.sum() * 0 + next(growth), torch.optim.SGD([w], lr=0.5), 4, epochs=2, batch_size=2,
            generator=torch.Generator().manual_seed(0), explosion_factor=10)
    with pytest.raises(ValueError, match="batch_size"):
        fit(lambda b: w.sum(), torch.optim.SGD([w], lr=0.5), 4, epochs=1, batch_size=0,
            generator=torch.Generator())


def test_cross_entropy_loss_matches_torch():
    x, y = torch.randn(6, 3, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 0, 1, 2])
    net = nn.Linear(3, 3)
    batch = torch.tensor([1, 4])
    torch.testing.assert_close(cross_entropy_loss(net, x, y)(batch),
                               torch.nn.functional.cross_entropy(net(x[batch]), y[batch]))


def test_select_learning_rate_skips_diverged_runs_and_prefers_the_smaller_rate_on_ties():
    def score(lr):
        if lr > 1:
            raise DivergenceError("boom")
        return {0.01: 0.3, 0.1: 0.2, 1.0: 0.2}[lr]

    best, scores = select_learning_rate(score, [0.01, 0.1, 1.0, 10.0])
    assert best == 0.1 and scores[10.0] is None and scores[0.01] == 0.3
    best, _ = select_learning_rate(lambda lr: lr, [0.1, 0.2], lower_is_better=False)
    assert best == 0.2
    with pytest.raises(DivergenceError, match="every learning rate diverged"):
        select_learning_rate(lambda lr: (_ for _ in ()).throw(DivergenceError("x")), [0.1])
    with pytest.raises(ValueError, match="empty"):
        select_learning_rate(score, [])


def test_keep_best_keeps_the_earlier_epoch_on_a_tie():
    """Epochs 2 and 3 tie on the validation value: the parameters after epoch 2 are kept (the docstring's rule)."""
    w = nn.Parameter(torch.zeros(1))
    module = nn.Module()
    module.w = w
    valid = iter([3.0, 1.0, 1.0, 2.0])
    history = fit(lambda b: -w.sum(), torch.optim.SGD([w], lr=1.0), 4, epochs=4, batch_size=4,
                  generator=torch.Generator().manual_seed(0), after_epoch=lambda e: {"valid": next(valid)},
                  keep_best=(module, "valid"))
    assert history.best_epoch == 2 and w.item() == 2.0  # after epoch 2, w = 2 (epoch 3 would give 3)
