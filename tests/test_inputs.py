"""The inputs ``Trainer.fit`` takes (issue 22): each kind of input trains or is refused with a message naming the fix.

Inputs that hold the same values as a float32 tensor train to the same bits as that tensor (the conversion is
exact and the batches are drawn in the same order); an iterable is streamed batch by batch, in its own order."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from rbmlib.rbm import RBM
from rbmlib.samplers import PCD
from rbmlib.train import TrainConfig, Trainer
from rbmlib.units import Gaussian, NReLU

CONFIG = TrainConfig(epochs=2, batch_size=5, learning_rate=0.1)
# 23 binary 2×4 "images" (a last batch of 3), as a float32 tensor of rows
BINARY = (torch.rand(23, 8, generator=torch.Generator().manual_seed(0)) < 0.4).float()


def trainer(visible=None, config=CONFIG, sampler=None):
    rbm = RBM(8, 3, visible=visible, weight_std=0.1, generator=torch.Generator().manual_seed(1))
    return Trainer(rbm, config, sampler, generator=torch.Generator().manual_seed(2))


def trained_weight(data, **kwargs):
    return trainer(**kwargs).fit(data, progress=False).rbm.weight


# inputs that work ---------------------------------------------------------------------------------------------
SAME_VALUES = {
    "float64 tensor": BINARY.double(),
    "bool tensor": BINARY.bool(),
    "int64 tensor": BINARY.long(),
    "uint8 tensor": BINARY.to(torch.uint8),
    "float16 tensor": BINARY.half(),
    "images (N, H, W)": BINARY.reshape(23, 2, 4),
    "images (N, C, H, W)": BINARY.reshape(23, 1, 2, 4),
    "non-contiguous tensor": BINARY.t().contiguous().t(),
    "float32 NumPy array": BINARY.numpy(),
    "float64 NumPy array": BINARY.double().numpy(),
    "uint8 NumPy images": BINARY.to(torch.uint8).reshape(23, 2, 4).numpy(),
    "bool NumPy array": BINARY.bool().numpy(),
    "read-only NumPy array": np.lib.stride_tricks.as_strided(BINARY.numpy(), writeable=False),
    "NumPy memmap-like (__array__)": type("ArrayLike", (), {"__array__": lambda self, *a, **k: BINARY.numpy()})(),
}


@pytest.mark.parametrize("kind", SAME_VALUES)
def test_an_exact_conversion_trains_to_the_same_bits_as_the_float32_tensor(kind):
    assert torch.equal(trained_weight(SAME_VALUES[kind]), trained_weight(BINARY))


def test_a_float32_tensor_is_used_as_it_is():
    from rbmlib.train import as_rows

    rbm = trainer().rbm
    assert as_rows(BINARY, rbm) is BINARY


def test_float64_data_are_rounded_to_a_float32_model():
    data = torch.rand(23, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    assert torch.equal(trained_weight(data), trained_weight(data.float()))


def test_a_float64_model_takes_float32_data_exactly():
    rbm = RBM(8, 3, weight_std=0.1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Trainer(rbm, CONFIG).fit(BINARY, progress=False)
    assert rbm.weight.dtype == torch.float64


def test_an_iterable_is_streamed_batch_by_batch_in_its_order():
    """A list of batches (and a DataLoader's (x, y) batches) train exactly as ``_step`` on each batch in turn."""
    batches = [BINARY[:10], BINARY[10:17].numpy(), (BINARY[17:].reshape(6, 2, 4).to(torch.uint8), torch.zeros(6))]
    streamed = trainer().fit(batches, progress=False)
    by_hand = trainer()
    with torch.no_grad():
        for epoch in range(CONFIG.epochs):
            for batch in (BINARY[:10], BINARY[10:17], BINARY[17:]):
                by_hand._step(batch, CONFIG.learning_rate, CONFIG.momentum_at(epoch))
    assert torch.equal(streamed.rbm.weight, by_hand.rbm.weight)
    assert streamed.epoch_ == 2 and len(streamed.history_) == 2


def test_a_dataloader_over_a_labelled_dataset_is_used_in_the_loaders_batches(monkeypatch):
    loader = DataLoader(TensorDataset(BINARY.reshape(23, 1, 2, 4).to(torch.uint8), torch.arange(23)),
                        batch_size=7, shuffle=True, generator=torch.Generator().manual_seed(4))
    sizes = []
    step = Trainer._step
    monkeypatch.setattr(Trainer, "_step", lambda self, v, *a: (sizes.append(tuple(v.shape)), step(self, v, *a)))
    fitted = trainer().fit(loader, progress=False)
    assert sizes == [(7, 8), (7, 8), (7, 8), (2, 8)] * 2
    assert fitted.rbm.weight.dtype == torch.float32 and np.isfinite(fitted.history_[-1]["reconstruction_error"])


def test_a_one_shot_iterator_is_fine_for_one_epoch():
    one_epoch = TrainConfig(epochs=1, batch_size=5)
    fitted = trainer(config=one_epoch).fit(iter([BINARY[:12], BINARY[12:]]), progress=False)
    assert fitted.epoch_ == 1


def test_the_monitor_of_a_stream_is_its_first_rows_and_pcd_chains_start_from_its_first_batch():
    fitted = trainer(sampler=PCD(1)).fit([BINARY[:10], BINARY[10:]], progress=False)
    assert fitted.sampler.chains.shape == (10, 8)


def test_real_valued_data_suit_gaussian_visibles():
    data = torch.randn(23, 8, generator=torch.Generator().manual_seed(5)) * 3
    trainer(visible=Gaussian(), config=TrainConfig(epochs=1, learning_rate=1e-3)).fit(data, progress=False)


# inputs that are refused, with the message -----------------------------------------------------------------------
REFUSED = {
    "0-255 images, Bernoulli visibles (forgotten /255)": (
        lambda: trainer(), (BINARY * 255).to(torch.uint8).reshape(23, 2, 4), ValueError,
        r"Bernoulli\(\) visible units take values in \[0, 1\], but data range over \[0, 255\]: scale the data "
        r"into \[0, 1\] \(e.g. x / 255"),
    "standardised data, Bernoulli visibles": (
        lambda: trainer(), BINARY - 0.5, ValueError, r"range over \[-0.5, 0.5\].*Gaussian visible units"),
    "negative data, NReLU visibles": (
        lambda: trainer(visible=NReLU()), BINARY - 0.5, ValueError, r"\[0, inf\].*non-negative"),
    "int64 beyond 2^24": (
        lambda: trainer(visible=Gaussian()), torch.full((4, 8), 2 ** 24 + 1), ValueError,
        r"torch.int64 with values in \[16777217, 16777217\], not all exact in torch.float32"),
    "complex": (lambda: trainer(), BINARY.to(torch.complex64), TypeError, "complex values cannot be represented"),
    "NumPy strings": (lambda: trainer(), np.array([["a"] * 8]), TypeError, "must be numeric"),
    "NaN": (lambda: trainer(), torch.full((2, 8), float("nan")), ValueError, "NaN or infinite"),
    "float64 beyond float32's range": (
        lambda: trainer(visible=Gaussian()), np.full((2, 8), 1e300), ValueError,
        r"NaN or infinite values \(once converted to torch.float32\)"),
    "wrong width": (lambda: trainer(), torch.zeros(4, 7), ValueError, r"shape \(N, 8\).*got shape \(4, 7\)"),
    "images of the wrong size": (
        lambda: trainer(), torch.zeros(4, 3, 3), ValueError, r"images of 8 pixels, got shape \(4, 3, 3\)"),
    "one example without a batch dimension": (
        lambda: trainer(), torch.zeros(8), ValueError, r"add a batch dimension, x\[None\]"),
    "no rows": (lambda: trainer(), torch.zeros(0, 8), ValueError, "no rows"),
    "empty iterable": (lambda: trainer(), [], ValueError, "no rows"),
    "list of rows": (lambda: trainer(), BINARY.tolist(), TypeError, "a batch of data is a float: pass a tensor"),
    "a Dataset, not a DataLoader": (
        lambda: trainer(), TensorDataset(BINARY), TypeError, r"wrap a Dataset in torch.utils.data.DataLoader"),
    "a number": (lambda: trainer(), 3, TypeError, "data is a int"),
    "one-shot iterator, two epochs": (
        lambda: trainer(), iter([BINARY]), TypeError, "one-shot iterator.*DataLoader or a list of batches"),
    "tensor on another device": (
        lambda: trainer(), torch.zeros(4, 8, device="meta"), ValueError,
        r"data is on meta but the RBM is on cpu: move one of them"),
}


@pytest.mark.parametrize("kind", REFUSED)
def test_a_bad_input_is_refused_before_any_update_with_the_fix_named(kind):
    make_trainer, data, error, message = REFUSED[kind]
    fitted = make_trainer()
    before = fitted.rbm.weight.clone()
    with pytest.raises(error, match=message):
        fitted.fit(data, progress=False)
    assert torch.equal(fitted.rbm.weight, before) and fitted.epoch_ == 0


def test_a_bad_batch_in_a_stream_is_named():
    with pytest.raises(ValueError, match=r"a batch of data range over \[0, 255\]"):
        trainer().fit([BINARY[:10], BINARY[10:] * 255], progress=False)


def test_the_monitor_is_checked_too():
    with pytest.raises(ValueError, match=r"monitor range over \[0, 255\]"):
        trainer().fit(BINARY, monitor=BINARY * 255, progress=False)


def test_converting_the_rbm_after_building_the_trainer_is_refused_with_the_order_to_follow():
    fitted = trainer()
    fitted.rbm.double()
    with pytest.raises(RuntimeError, match=r"now torch.float64 on cpu.*are torch.float32 on cpu: convert the RBM "
                                           r"\(rbm.double\(\), rbm.to\(device\)\) before building its Trainer"):
        fitted.fit(BINARY, progress=False)
    rebuilt = Trainer(fitted.rbm, CONFIG).fit(BINARY, progress=False)  # in that order it works
    assert rebuilt.rbm.weight.dtype == torch.float64
