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
