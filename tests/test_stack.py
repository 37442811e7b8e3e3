"""Tests of rbmlib.stack: the DAE's noise, loss formulae and L1 term against hand computations, export of RBM and DAE
stacks to nn.Sequential (exactly the same function), greedy stacking feeds layer k the features of layer k − 1,
learning reduces the loss, and configuration errors."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rbmlib import portable
from rbmlib.rbm import RBM
from rbmlib.stack import (
    DenoisingAutoencoder, fit_denoising_autoencoder, layer_features, pretrain_daes, pretrain_rbms, stack_features,
    to_sequential,
)
from rbmlib.train import DivergenceError, TrainConfig, Trainer
from rbmlib.units import Bernoulli, Gaussian, NReLU


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def blobs(n=200, d=12, seed=0):
    """Binary-ish data in [0, 1]: two prototypes with noise."""
    g = gen(seed)
    proto = (torch.rand(2, d, generator=g) > 0.5).float()
    labels = torch.randint(0, 2, (n,), generator=g)
    return (0.8 * proto[labels] + 0.2 * torch.rand(n, d, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
def test_shapes_and_default_reconstruction(activation):
    dae = DenoisingAutoencoder(7, 5, activation, generator=gen())
    x = torch.rand(4, 7, generator=gen(1))
    assert dae.encode(x).shape == (4, 5)
    assert dae(x).shape == (4, 7)
    assert dae.loss(x, gen(2)).shape == ()
    assert dae.reconstruction == ("sigmoid" if activation == "tanh" else "softplus")
    assert dae.n_in == 7 and dae.n_hidden == 5


def test_masking_noise_level_is_the_corruption_probability():
    dae = DenoisingAutoencoder(100, 3, corruption=0.25)
    x = torch.ones(400, 100)
    x_tilde = dae.corrupt(x, gen(5))
    n = x.numel()
    zeros = (x_tilde == 0).float().mean().item()
    assert abs(zeros - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)  # binomial, 4 standard deviations
    assert torch.equal(x_tilde[x_tilde != 0], x[x_tilde != 0])  # kept entries are untouched
    assert torch.equal(dae.corrupt(x, gen(5)), x_tilde)  # the explicit generator fixes the draw
    assert torch.equal(DenoisingAutoencoder(100, 3, corruption=0.0).corrupt(x, gen(5)), x)


def _set_params(dae, w_enc, b_enc, w_dec, b_dec):
    with torch.no_grad():
        dae.encoder.weight.copy_(torch.tensor(w_enc))
        dae.encoder.bias.copy_(torch.tensor(b_enc))
        dae.decoder.weight.copy_(torch.tensor(w_dec))
        dae.decoder.bias.copy_(torch.tensor(b_dec))


def test_softplus_quadratic_loss_on_a_hand_example():
    # no corruption: x̃ = x = (1, 0); h = relu(W_enc x + b_enc) = relu((1·1 + 0, −2·1 + 0)) = (1, 0)
    dae = DenoisingAutoencoder(2, 2, "relu", corruption=0.0)
    _set_params(dae, [[1.0, 2.0], [-2.0, 1.0]], [0.0, 0.0], [[1.0, 3.0], [-1.0, 0.5]], [0.5, 0.0])
    x = torch.tensor([[1.0, 0.0]])
    assert torch.allclose(dae.encode(x), torch.tensor([[1.0, 0.0]]))
    f = torch.tensor([1.0 + 0.5, -1.0])  # W_dec h + b_dec
    expected = (1.0 - math.log1p(math.exp(f[0]))) ** 2 + (0.0 - math.log1p(math.exp(f[1]))) ** 2
    assert dae.loss(x, None).item() == pytest.approx(expected, rel=1e-6)
    assert torch.allclose(dae(x), F.softplus(f).unsqueeze(0))


def test_cross_entropy_losses_on_a_hand_example():
    dae = DenoisingAutoencoder(2, 1, "tanh", corruption=0.0)
    _set_params(dae, [[0.5, -1.0]], [0.2], [[2.0], [-1.0]], [0.0, 0.3])
    x = torch.tensor([[0.9, 0.2]])
    h = math.tanh(0.5 * 0.9 - 1.0 * 0.2 + 0.2)
    f = [2.0 * h, -h + 0.3]
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    ce = lambda t, p: -(t * math.log(p) + (1 - t) * math.log(1 - p))  # noqa: E731
    assert dae.loss(x, None).item() == pytest.approx(ce(0.9, sig(f[0])) + ce(0.2, sig(f[1])), rel=1e-6)
    # tanh reconstruction on codes in [−1, 1]: cross-entropy of (1 + x)/2 against (1 + tanh f)/2 = σ(2f)
    dae.reconstruction = "tanh"
    x = torch.tensor([[-0.6, 0.2]])
    h = math.tanh(0.5 * -0.6 - 1.0 * 0.2 + 0.2)
    f = [2.0 * h, -h + 0.3]
    expected = sum(ce((1 + t) / 2, (1 + math.tanh(fi)) / 2) for t, fi in zip([-0.6, 0.2], f))
    assert dae.loss(x, None).item() == pytest.approx(expected, rel=1e-5)
    assert torch.allclose(dae(x), torch.tanh(torch.tensor([f])))


def test_l1_term_adds_coefficient_times_sum_of_absolute_activations():
    x = torch.rand(6, 5, generator=gen(3), dtype=torch.float64)  # float64: the difference of two losses is small
    plain = DenoisingAutoencoder(5, 4, "tanh", corruption=0.3, generator=gen(1), dtype=torch.float64)
    penalised = DenoisingAutoencoder(5, 4, "tanh", corruption=0.3, l1_activation=0.01, generator=gen(1),
                                     dtype=torch.float64)
    h = penalised.encode(penalised.corrupt(x, gen(9)))  # the same mask as the losses below draw
    difference = penalised.loss(x, gen(9)) - plain.loss(x, gen(9))
    assert difference.item() == pytest.approx(0.01 * h.abs().sum(1).mean().item(), rel=1e-10)
    assert difference.item() > 0


def test_reconstruction_cost_is_the_loss_without_the_l1_term_under_the_same_noise():
    x = torch.rand(6, 5, generator=gen(3), dtype=torch.float64)
    penalised = DenoisingAutoencoder(5, 4, "relu", corruption=0.3, l1_activation=0.05, generator=gen(1),
                                     dtype=torch.float64)
    h = penalised.encode(penalised.corrupt(x, gen(9)))
    cost = penalised.reconstruction_cost(x, gen(9))
    assert cost.item() == pytest.approx(penalised.loss(x, gen(9)).item() - 0.05 * h.abs().sum(1).mean().item(),
                                        rel=1e-10)
    expected = (x - torch.nn.functional.softplus(penalised.decoder(h))).pow(2).sum(1).mean()  # eq. of the docstring
    assert cost.item() == pytest.approx(expected.item(), rel=1e-12)


def test_mini_batch_loss_is_the_mean_over_examples():
    dae = DenoisingAutoencoder(5, 3, corruption=0.0, l1_activation=0.1, generator=gen(2))
    x = torch.rand(4, 5, generator=gen(4))
    per_example = torch.stack([dae.loss(x[i:i + 1], None) for i in range(4)])
    assert dae.loss(x, None).item() == pytest.approx(per_example.mean().item(), rel=1e-6)


def test_sgd_step_is_plain_sgd():
    x = blobs(10, 6)
    dae = DenoisingAutoencoder(6, 4, corruption=0.0, generator=gen(1))
    before = [p.detach().clone() for p in dae.parameters()]
    dae.loss(x, None).backward()
    grads = [p.grad.clone() for p in dae.parameters()]
    dae.zero_grad()
    fit_denoising_autoencoder(dae, x, epochs=1, batch_size=10, learning_rate=0.05, generator=gen(), progress=False)
    for p, p0, g in zip(dae.parameters(), before, grads):
        assert torch.allclose(p, p0 - 0.05 * g, atol=1e-7)


def test_dae_on_tiny_data_reduces_its_loss():
    x = blobs(200, 12)
    dae = DenoisingAutoencoder(12, 8, "relu", l1_activation=1e-3, generator=gen(1))
    history = fit_denoising_autoencoder(dae, x, epochs=15, batch_size=10, learning_rate=0.05, generator=gen(2),
                                        progress=False)
    losses = [record["loss"] for record in history.epochs]
    assert len(losses) == 15 and len(history.step_losses) == 15 * 20
    assert losses[-1] < 0.6 * losses[0]


def test_dae_training_goes_through_the_one_supervised_loop(monkeypatch):
    import rbmlib.stack as stack

    calls = []
    original = stack.fit

    def recording_fit(loss_of_batch, optimizer, n, **kwargs):
        calls.append((optimizer, n, kwargs))
        return original(loss_of_batch, optimizer, n, **kwargs)

    monkeypatch.setattr(stack, "fit", recording_fit)
    dae = DenoisingAutoencoder(6, 4, generator=gen(1))
    fit_denoising_autoencoder(dae, blobs(30, 6), 2, 10, 0.05, gen(), progress=False)
    (optimizer, n, kwargs), = calls
    assert n == 30 and kwargs["epochs"] == 2 and kwargs["batch_size"] == 10
    assert kwargs["explosion_factor"] == stack.EXPLOSION_FACTOR
    group, = optimizer.param_groups  # plain SGD: one group, no momentum, no weight decay
    assert group["lr"] == 0.05 and group["momentum"] == 0 and group["weight_decay"] == 0


def test_bad_configuration_and_data_raise():
    with pytest.raises(ValueError, match="activation"):
        DenoisingAutoencoder(3, 2, "sigmoid")
    with pytest.raises(ValueError, match="reconstruction"):
        DenoisingAutoencoder(3, 2, reconstruction="linear")
    with pytest.raises(ValueError, match="corruption"):
        DenoisingAutoencoder(3, 2, corruption=1.0)
    with pytest.raises(ValueError, match="l1_activation"):
        DenoisingAutoencoder(3, 2, l1_activation=-1)
    with pytest.raises(ValueError, match="activation"):
        pretrain_daes(torch.rand(5, 3), [2], "sigmoid", epochs=1, learning_rate=0.1)
    dae = DenoisingAutoencoder(3, 2, "tanh")  # sigmoid cross-entropy needs inputs in [0, 1]
    with pytest.raises(ValueError, match=r"in \[0.0, 1.0\]"):
        fit_denoising_autoencoder(dae, torch.full((4, 3), 2.0), 1, 2, 0.1, gen(), progress=False)
    with pytest.raises(ValueError, match="shape"):
        fit_denoising_autoencoder(dae, torch.rand(4, 5), 1, 2, 0.1, gen(), progress=False)
    with pytest.raises(ValueError, match="sizes"):
        pretrain_daes(torch.rand(5, 3), [], epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match="empty"):
        to_sequential([])
    with pytest.raises(TypeError, match="RBMs or DenoisingAutoencoders"):
        to_sequential([nn.Linear(2, 2)])


def test_diverging_dae_raises():
    dae = DenoisingAutoencoder(12, 8, "relu", generator=gen(1))
    with pytest.raises(DivergenceError, match="learning rate"):  # non-finite loss
        fit_denoising_autoencoder(dae, blobs(50, 12), 3, 10, 1e20, gen(), progress=False)
    dae = DenoisingAutoencoder(12, 8, "tanh", generator=gen(1))
    with pytest.raises(DivergenceError, match="first mini-batch"):  # finite but ~1e9 times the first loss
        fit_denoising_autoencoder(dae, blobs(50, 12), 3, 10, 1e10, gen(), progress=False)


# export ------------------------------------------------------------------------------------------------------
def _random_rbm(n_v, n_h, hidden, seed):
    rbm = RBM(n_v, n_h, hidden=hidden, weight_std=0.5, generator=gen(seed))
    with torch.no_grad():
        rbm.hidden_bias.copy_(torch.randn(n_h, generator=gen(seed + 100)))
    return rbm


@pytest.mark.parametrize("hidden, module, feature", [
    (Bernoulli, nn.Sigmoid, torch.sigmoid), (NReLU, nn.ReLU, torch.relu), (Gaussian, nn.Identity, lambda z: z)])
def test_rbm_stack_exports_to_an_equal_sequential(hidden, module, feature):
    rbms = [_random_rbm(9, 6, hidden(), 1), _random_rbm(6, 4, hidden(), 2)]
    head = nn.Linear(4, 3)
    net = to_sequential(rbms, head)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, module, nn.Linear, module, nn.Linear]
    x = torch.rand(5, 9, generator=gen(3))
    with torch.no_grad():
        # the same function: equal up to float rounding (Linear multiplies by a transposed copy of W, and on some
        # CPUs, e.g. AMD EPYC under MKL, that memory layout changes the summation order)
        torch.testing.assert_close(net[:-1](x), stack_features(rbms, x), rtol=1e-5, atol=1e-6)
        expected = x
        for rbm in rbms:  # by hand: the noise-free feature of the unit type, from c + vW
            expected = feature(expected @ rbm.weight + rbm.hidden_bias)
        assert torch.allclose(net[:-1](x), expected, atol=1e-6)
        torch.testing.assert_close(net(x), head(stack_features(rbms, x)), rtol=1e-5, atol=1e-6)
    if hidden is Bernoulli:
        assert torch.allclose(layer_features(rbms[0], x), rbms[0].hidden_mean(x), atol=1e-7)  # E[h | v]


def test_export_copies_the_parameters():
    rbm = _random_rbm(5, 3, Bernoulli(), 1)
    dae = DenoisingAutoencoder(3, 2, "softplus", generator=gen(1))
    net = to_sequential([rbm, dae])
    weight_before = rbm.weight.detach().clone()
    with torch.no_grad():
        net[0].weight.add_(1.0)
        net[2].weight.add_(1.0)
    assert torch.equal(rbm.weight, weight_before)
    assert not torch.equal(net[2].weight, dae.encoder.weight)
    assert net[0].weight.requires_grad and net[2].weight.requires_grad


@pytest.mark.parametrize("activation, module", [("relu", nn.ReLU), ("tanh", portable.Tanh), ("softplus", nn.Softplus)])
def test_dae_stack_exports_to_an_equal_sequential(activation, module):
    daes = [DenoisingAutoencoder(8, 5, activation, generator=gen(1)),
            DenoisingAutoencoder(5, 4, activation, generator=gen(2))]
    net = to_sequential(daes)
    assert [type(m) for m in net] == [nn.Linear, module, nn.Linear, module]
    x = torch.rand(6, 8, generator=gen(3))
    with torch.no_grad():
        assert torch.equal(net(x), daes[1].encode(daes[0].encode(x)))


# greedy stacking ---------------------------------------------------------------------------------------------
def test_greedy_rbm_layer_k_is_trained_on_layer_k_minus_1_features(monkeypatch):
    data = blobs(60, 10)
    cfg = TrainConfig(epochs=2, batch_size=20, learning_rate=0.1)
    seen = []
    original_fit = Trainer.fit

    def recording_fit(self, x, *args, **kwargs):
        seen.append((self.rbm, x.clone()))
        return original_fit(self, x, *args, **kwargs)

    monkeypatch.setattr(Trainer, "fit", recording_fit)
    rbms = pretrain_rbms(data, [7, 5], cfg, generator=gen(4), progress=False)
    assert [(r.n_visible, r.n_hidden) for r in rbms] == [(10, 7), (7, 5)]
    assert [rbm for rbm, _ in seen] == rbms
    assert torch.equal(seen[0][1], data)
    with torch.no_grad():
        assert torch.allclose(seen[1][1], rbms[0].hidden_mean(data), atol=1e-7)  # E[h | v] of the trained RBM 1
    assert isinstance(rbms[1].visible, Bernoulli)


def test_greedy_rbm_unit_types_follow_the_layer_below():
    rbms = pretrain_rbms(torch.randn(40, 6), [4, 3], TrainConfig(epochs=1, batch_size=20, learning_rate=1e-3),
                         hidden_units=[NReLU(), Bernoulli()], generator=gen(1), progress=False,
                         visible_units=Gaussian())
    assert [type(r.visible) for r in rbms] == [Gaussian, NReLU]
    assert [type(r.hidden) for r in rbms] == [NReLU, Bernoulli]
    with pytest.raises(ValueError, match="hidden_units"):
        pretrain_rbms(torch.rand(10, 6), [4, 3], TrainConfig(epochs=1), hidden_units=[Bernoulli()], progress=False)


def test_greedy_dae_layer_k_is_trained_on_layer_k_minus_1_codes(monkeypatch):
    import rbmlib.stack as stack

    data = blobs(50, 10)
    seen = []
    original = stack.fit_denoising_autoencoder

    def recording_fit(dae, x, *args, **kwargs):
        seen.append((dae, x.clone()))
        return original(dae, x, *args, **kwargs)

    monkeypatch.setattr(stack, "fit_denoising_autoencoder", recording_fit)
    daes = pretrain_daes(data, [8, 6, 4], "tanh", epochs=2, learning_rate=0.05, l1_activation=1e-3,
                         generator=gen(3), progress=False)
    assert [(d.n_in, d.n_hidden) for d in daes] == [(10, 8), (8, 6), (6, 4)]
    assert [d.reconstruction for d in daes] == ["sigmoid", "tanh", "tanh"]
    assert all(d.l1_activation == 1e-3 and d.corruption == 0.25 for d in daes)
    assert torch.equal(seen[0][1], data)
    with torch.no_grad():
        assert torch.equal(seen[1][1], daes[0].encode(data))
        assert torch.equal(seen[2][1], daes[1].encode(daes[0].encode(data)))
    relu = pretrain_daes(data, [5, 4], "relu", epochs=1, learning_rate=0.01, generator=gen(3), progress=False)
    assert [d.reconstruction for d in relu] == ["softplus", "softplus"]


def test_greedy_dae_stack_is_reproducible_with_its_generator():
    data = blobs(40, 8)
    a = pretrain_daes(data, [5, 3], "relu", epochs=2, learning_rate=0.05, generator=gen(7), progress=False)
    b = pretrain_daes(data, [5, 3], "relu", epochs=2, learning_rate=0.05, generator=gen(7), progress=False)
    for x, y in zip(a, b):
        assert all(torch.equal(p, q) for p, q in zip(x.parameters(), y.parameters()))


def test_a_dae_stack_grown_on_frozen_layers_trains_on_their_codes():
    data = blobs(40, 8)
    (first,) = pretrain_daes(data, [5], "tanh", epochs=1, learning_rate=0.05, generator=gen(7), progress=False)
    before = [p.detach().clone() for p in first.parameters()]
    (second,) = pretrain_daes(data, [3], "tanh", epochs=1, learning_rate=0.05, generator=gen(8), progress=False,
                              stacked_on=[first])
    assert (second.n_in, second.n_hidden, second.reconstruction) == (5, 3, "tanh")  # a higher layer's reconstruction
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), before))  # the layer below stays frozen
    # the same layer as training it directly on the codes of the layer below, with the same generator
    with torch.no_grad():
        codes = first.encode(data)
    g = gen(8)  # one generator draws the initialisation, then the mini-batches and the noise
    direct = DenoisingAutoencoder(5, 3, "tanh", reconstruction="tanh", generator=g)
    fit_denoising_autoencoder(direct, codes, 1, 10, 0.05, g, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(second.parameters(), direct.parameters()))
