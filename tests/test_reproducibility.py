"""rbmlib.reproducibility.seed_everything: every source of randomness seeded with the seed it is given."""
import random

import numpy as np
import torch

from rbmlib.reproducibility import seed_everything


def test_seed_everything_seeds_python_numpy_torch_and_the_generator_it_returns():
    draws = []
    for seed in (7, 7, 8):
        generator = seed_everything(seed)
        draws.append((random.random(), np.random.rand(), torch.rand(1).item(),
                      torch.rand(3, generator=generator).tolist()))
    assert draws[0] == draws[1] and all(a != b for a, b in zip(draws[0], draws[2]))
    random.seed(7)
    np.random.seed(7)
    assert draws[0][:2] == (random.random(), np.random.rand())
    assert draws[0][2] == torch.rand(1, generator=torch.Generator().manual_seed(7)).item()
    assert draws[0][3] == torch.rand(3, generator=torch.Generator().manual_seed(7)).tolist()
    assert torch.get_num_threads() == 1
