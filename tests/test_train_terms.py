"""The trainer, term by term and epoch by epoch (issue 21): every update term (sparsity, weight decay, momentum, fast
weights) against a hand computation in a configuration where it is active, for each sampler; the learning rate and
momentum each epoch trains with against the schedule; persistent chains carried across batches and epochs; batches
in the generator's order; a saved state that does not change as training goes on."""
import copy
import dataclasses

import pytest
import torch

from rbmlib.rbm import RBM
from rbmlib.samplers import CD, PCD, FastPCD
from rbmlib.train import DivergenceError, TrainConfig, Trainer

# Six binary patterns on 8 pixels (as in test_train.py), in float64 so that the hand computation draws the same bits.
PATTERNS = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0, 0],
                         [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1, 1, 1]],
                        dtype=torch.float64)


def tiny_rbm(seed=0, dtype=torch.float64):
    rbm = RBM(8, 4, weight_std=0.3, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    with torch.no_grad():  # nonzero biases, so that a term that drops or flips a bias shows
        rbm.visible_bias.copy_(torch.linspace(-0.4, 0.3, 8, dtype=dtype))
        rbm.hidden_bias.copy_(torch.tensor([0.2, -0.3, 0.1, -0.1], dtype=dtype))
    return rbm


def bernoulli(p, generator):
    """The trainer's draw: s = [u < p], u ~ U[0, 1) from the same generator, in p's dtype."""
    return (torch.rand(p.shape, generator=generator, dtype=p.dtype) < p).to(p.dtype)


def hand_updates(rbm, batches, *, sampler, lr, momentum, decay, target=None, cost=0.0, q_decay=0.95,
                 fast_lr=None, fast_decay=None, n_chains=None, seed=3):
    """The trainer's updates written out from Hinton's guide, one batch after another, with the generator replayed:

        h0 ~ p(h | v);  v1 = E[v | h0] (CD-1) or the chains moved one Gibbs sweep on θ + θ_fast (PCD, fast PCD)
        q ← q_decay·q + (1 − q_decay)·mean(E[h | v]);   penalty = κ (q − t)
        ĝ_W = vᵀE[h|v] / n − v1ᵀE[h|v1] / m − mean(v) ⊗ penalty,  ĝ_b = mean(v) − mean(v1),
        ĝ_c = mean(E[h|v]) − mean(E[h|v1]) − penalty
        (n rows of data, m rows of v1: m = n for CD, the number of chains for PCD; each phase's statistic is the mean
        over its own rows)
        Δθ ← μ Δθ + ε (ĝ_θ − λ θ [W only]);  θ ← θ + Δθ;  θ_fast ← fast_decay·θ_fast + fast_lr·ĝ_θ (no decay term)
    Returns the parameters, the velocities, q, the chains and the fast parameters."""
    replay = torch.Generator().manual_seed(seed)
    theta = {n: p.detach().clone() for n, p in rbm.named_parameters()}
    velocity = {n: torch.zeros_like(p) for n, p in theta.items()}
    fast = {n: torch.zeros_like(p) for n, p in theta.items()}
    q = torch.full_like(theta["hidden_bias"], target if target is not None else 0.0)
    chains = None
    for v in batches:
        W, b, c = theta["weight"], theta["visible_bias"], theta["hidden_bias"]
        n = v.shape[0]
        p0 = torch.sigmoid(v @ W + c)
        h0 = bernoulli(p0, replay)
        if sampler == "CD":
            v1 = torch.sigmoid(h0 @ W.T + b)
        else:
            chains = v[:n_chains or len(v)].clone() if chains is None else chains
            Wf, bf, cf = W + fast["weight"], b + fast["visible_bias"], c + fast["hidden_bias"]
            hs = bernoulli(torch.sigmoid(chains @ Wf + cf), replay)
            chains = bernoulli(torch.sigmoid(hs @ Wf.T + bf), replay)
            v1 = chains
        p1 = torch.sigmoid(v1 @ W + c)
        grads = {"weight": v.T @ p0 / n - v1.T @ p1 / len(v1), "visible_bias": v.mean(0) - v1.mean(0),
                 "hidden_bias": p0.mean(0) - p1.mean(0)}
        if target is not None and cost > 0:
            q = q_decay * q + (1 - q_decay) * p0.mean(0)
            penalty = cost * (q - target)
            grads["weight"] = grads["weight"] - torch.outer(v.mean(0), penalty)
            grads["hidden_bias"] = grads["hidden_bias"] - penalty
        for name, g in grads.items():
            weight_decay = decay * theta[name] if name == "weight" else 0.0
            velocity[name] = momentum * velocity[name] + lr * (g - weight_decay)
            theta[name] = theta[name] + velocity[name]
        if sampler == "FastPCD":
            for name, g in grads.items():
                fast[name] = fast_decay * fast[name] + fast_lr * g
    return theta, velocity, q, chains, fast


SAMPLERS = {"CD": lambda: CD(1), "PCD": lambda: PCD(1), "FastPCD": lambda: FastPCD(0.2, fast_decay=0.8)}


@pytest.mark.parametrize("sparsity", [True, False], ids=["sparsity", "no-sparsity"])
@pytest.mark.parametrize("momentum", [0.5, 0.0], ids=["momentum", "plain-SGD"])
@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_three_updates_with_every_term_active_match_a_hand_computation(sampler, momentum, sparsity):
    sparse = dict(sparsity_target=0.2, sparsity_cost=0.5, sparsity_decay=0.9) if sparsity else {}
    cfg = TrainConfig(epochs=1, batch_size=6, learning_rate=0.3, initial_momentum=momentum, final_momentum=momentum,
                      weight_decay=0.1, **sparse)
    rbm = tiny_rbm()
    expected, velocity, q, chains, fast = hand_updates(
        rbm, [PATTERNS, PATTERNS.flip(0), PATTERNS], sampler=sampler, lr=0.3, momentum=momentum, decay=0.1,
        target=0.2 if sparsity else None, cost=0.5, q_decay=0.9, fast_lr=0.2, fast_decay=0.8)
    trainer = Trainer(rbm, cfg, SAMPLERS[sampler](), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for v in [PATTERNS, PATTERNS.flip(0), PATTERNS]:
            trainer._step(v, 0.3, momentum)
    for name, p in rbm.named_parameters():
        torch.testing.assert_close(p, expected[name], msg=name)
    if sparsity:
        torch.testing.assert_close(trainer.hidden_activity, q)
    if momentum:
        for name, v in trainer.velocity.items():
            torch.testing.assert_close(v, velocity[name], msg=f"velocity of {name}")
    if sampler != "CD":
        assert torch.equal(trainer.sampler.chains, chains)
    if sampler == "FastPCD":
        for name, p in trainer.sampler.fast.items():
            torch.testing.assert_close(p, fast[name], msg=f"fast {name}")


@pytest.mark.parametrize("momentum", [0.5, 0.0], ids=["momentum", "plain-SGD"])
@pytest.mark.parametrize("sampler", ["PCD", "FastPCD"])
def test_persistent_chains_fewer_than_the_rows_of_a_batch_are_averaged_over_themselves(sampler, momentum):
    """With 3 persistent chains and batches of 6 rows (and a last batch of 4), the model statistic of ĝ_W is the
    mean over the 3 chains, as it is for ĝ_b: v1ᵀE[h|v1] / 3, not / 6 (or / 4)."""
    cfg = TrainConfig(epochs=1, batch_size=6, learning_rate=0.3, initial_momentum=momentum, final_momentum=momentum,
                      weight_decay=0.1, sparsity_target=0.2, sparsity_cost=0.5, sparsity_decay=0.9)
    make = {"PCD": lambda: PCD(1, n_chains=3), "FastPCD": lambda: FastPCD(0.2, fast_decay=0.8, n_chains=3)}[sampler]
    batches = [PATTERNS, PATTERNS.flip(0), PATTERNS[:4]]
    rbm = tiny_rbm()
    expected, _, _, chains, fast = hand_updates(
        rbm, batches, sampler=sampler, lr=0.3, momentum=momentum, decay=0.1, target=0.2, cost=0.5, q_decay=0.9,
        fast_lr=0.2, fast_decay=0.8, n_chains=3)
    trainer = Trainer(rbm, cfg, make(), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for v in batches:
            trainer._step(v, 0.3, momentum)
    for name, p in rbm.named_parameters():
        torch.testing.assert_close(p, expected[name], msg=name)
    assert torch.equal(trainer.sampler.chains, chains) and chains.shape == (3, 8)
    if sampler == "FastPCD":
        for name, p in trainer.sampler.fast.items():
            torch.testing.assert_close(p, fast[name], msg=f"fast {name}")


def test_the_sparsity_penalty_pulls_the_hidden_activity_towards_its_target():
    """The sign of both sparsity terms, without the hand computation: from an RBM whose hidden units are mostly on,
    a pure penalty step (no data term: model and data statistics cancel) lowers every hidden bias and weight."""
    rbm = tiny_rbm()
    with torch.no_grad():
        rbm.hidden_bias.fill_(3.0)  # E[h | v] ≈ 0.95 > t = 0.1
    cfg = TrainConfig(epochs=1, batch_size=6, learning_rate=1.0, initial_momentum=0.0, final_momentum=0.0,
                      weight_decay=0.0, sparsity_target=0.1, sparsity_cost=1.0, sparsity_decay=0.0)

    class Data(CD):  # the negative phase returns the data: the CD statistics cancel and only the penalty remains
        def negative_phase(self, rbm, v_data, h_data_sample, generator=None):
            return v_data

    before = copy.deepcopy(rbm)
    Trainer(rbm, cfg, Data()).fit(PATTERNS, progress=False)
    assert (rbm.hidden_bias < before.hidden_bias).all()
    moved = rbm.weight - before.weight
    assert (moved[PATTERNS.sum(0) > 0] < 0).all()
    torch.testing.assert_close(rbm.visible_bias, before.visible_bias)


def test_each_epoch_trains_with_and_records_its_scheduled_rate_and_momentum():
    """Linear decay ε(1 − e/E) and the momentum switch, epoch by epoch: the rate and momentum every update of an
    epoch uses, and the history's record of them, equal the schedule written out by hand, also after a resume."""
    cfg = TrainConfig(epochs=5, batch_size=2, learning_rate=0.2, learning_rate_schedule="linear",
                      initial_momentum=0.3, final_momentum=0.7, momentum_switch_epoch=2, weight_decay=0.0)
    schedule = [(1, 0.2, 0.3), (2, 0.16, 0.3), (3, 0.12, 0.7), (4, 0.08, 0.7), (5, 0.04, 0.7)]

    def recording(trainer):
        seen = []
        step = trainer._step
        trainer._step = lambda v, lr, momentum: (seen.append((trainer.epoch_ + 1, lr, momentum)), step(v, lr, momentum))
        return seen

    trainer = Trainer(tiny_rbm(dtype=torch.float32), cfg, CD(1), generator=torch.Generator().manual_seed(0))
    seen = recording(trainer)
    trainer.fit(PATTERNS.float(), progress=False)
    assert seen == [pytest.approx(row) for row in schedule for _ in range(3)]  # 6 rows, 3 batches an epoch
    assert [(r["epoch"], r["learning_rate"], r["momentum"]) for r in trainer.history_] == [
        pytest.approx(row) for row in schedule]

    first = Trainer(tiny_rbm(dtype=torch.float32), dataclasses.replace(cfg, epochs=2), CD(1),
                    generator=torch.Generator().manual_seed(0)).fit(PATTERNS.float(), progress=False)
    resumed = Trainer(tiny_rbm(dtype=torch.float32), cfg, CD(1))
    resumed.load_state_dict(copy.deepcopy(first.state_dict()))
    seen = recording(resumed)
    resumed.fit(PATTERNS.float(), progress=False)
    assert seen == [pytest.approx(row) for row in schedule[2:] for _ in range(3)]
    assert [(r["epoch"], r["learning_rate"], r["momentum"]) for r in resumed.history_[2:]] == [
        pytest.approx(row) for row in schedule[2:]]  # the first two: the 2-epoch run's own schedule


@pytest.mark.parametrize("make", [lambda: PCD(1), lambda: PCD(2, n_chains=2), lambda: FastPCD(0.1)],
                         ids=["PCD", "PCD-k2-2-chains", "FastPCD"])
def test_persistent_chains_carry_over_between_batches_and_epochs(make):
    """The chains each negative phase starts from are those the previous one ended with, across epoch boundaries
    too; they start as the first rows of the first batch; after each epoch the sampler holds the last ones."""
    sampler = make()
    calls, ends = [], []
    negative_phase = sampler.negative_phase

    def recorded(rbm, v_data, h_data_sample, generator=None):
        start = sampler.chains.clone()
        out = negative_phase(rbm, v_data, h_data_sample, generator)
        calls.append((v_data.clone(), start, out.clone()))
        return out

    sampler.negative_phase = recorded
    cfg = TrainConfig(epochs=3, batch_size=2, learning_rate=0.1)
    trainer = Trainer(tiny_rbm(), cfg, sampler, generator=torch.Generator().manual_seed(1),
                      callbacks=[lambda t, record: ends.append(t.sampler.chains.clone())])
    trainer.fit(PATTERNS, progress=False)
    assert len(calls) == 9 and len(ends) == 3
    assert calls[0][1].numel() == 0  # created from the first batch in the first call
    for (_, _, previous_end), (_, start, _) in zip(calls, calls[1:]):
        assert torch.equal(start, previous_end)
    assert [torch.equal(end, calls[3 * e + 2][2]) for e, end in enumerate(ends)] == [True] * 3


def test_batches_are_the_generators_permutation_of_the_rows():
    """Each epoch's batches are the rows in the order of a fresh torch.randperm from the trainer's generator (its
    first draw in the epoch), cut into batch_size rows."""
    data = torch.arange(10, dtype=torch.float64).unsqueeze(1).expand(10, 8) / 10  # row i holds i/10
    batches = []
    trainer = Trainer(tiny_rbm(), TrainConfig(epochs=2, batch_size=4), CD(1),
                      generator=torch.Generator().manual_seed(11))
    step = trainer._step
    trainer._step = lambda v, lr, momentum: (batches.append((v[:, 0] * 10).round().long().tolist()),
                                             step(v, lr, momentum))
    trainer.fit(data, progress=False)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(11)).tolist()
    assert batches[:3] == [order[:4], order[4:8], order[8:]]
    second = [i for batch in batches[3:] for i in batch]
    assert sorted(second) == list(range(10)) and second != order  # a new permutation each epoch


def test_a_saved_state_does_not_change_as_training_goes_on():
    """state_dict() is a snapshot: its velocities, sparsity estimate, generator state and history are copies, so
    that a checkpoint written later (or kept in memory) holds the state at the time it was taken."""
    cfg = TrainConfig(epochs=4, batch_size=3, learning_rate=0.1, sparsity_target=0.2, sparsity_cost=0.1)
    trainer = Trainer(tiny_rbm(), dataclasses.replace(cfg, epochs=2), PCD(1),
                      generator=torch.Generator().manual_seed(2))
    trainer.fit(PATTERNS, progress=False)
    state = trainer.state_dict()
    frozen = copy.deepcopy(state)
    trainer.config = cfg
    trainer.fit(PATTERNS, progress=False)
    assert trainer.epoch_ == 4 and state["epoch"] == 2 and len(state["history"]) == 2
    for name, v in frozen["velocity"].items():
        assert torch.equal(state["velocity"][name], v), name
        assert not torch.equal(trainer.velocity[name], v), name  # training did move them
    assert torch.equal(state["hidden_activity"], frozen["hidden_activity"])
    assert torch.equal(state["generator"], frozen["generator"])
    assert torch.equal(state["sampler"]["chains"], frozen["sampler"]["chains"])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_parameter_made_non_finite_by_the_last_update_of_an_epoch_is_caught_at_its_end(bad):
    """The per-batch test sees the inputs of an update, not its result: a parameter that the epoch's last update
    leaves NaN or infinite (in one entry) must be caught by the end-of-epoch check, naming it."""

    class Poisoning(CD):
        def after_update(self, rbm, gradients):
            rbm.weight[2, 1] = bad

    trainer = Trainer(tiny_rbm(), TrainConfig(epochs=1, batch_size=6), Poisoning())
    with pytest.raises(DivergenceError, match=r"epoch 1: parameter 'weight' has non-finite values"):
        trainer.fit(PATTERNS, progress=False)
