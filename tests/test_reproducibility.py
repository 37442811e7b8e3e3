"""rbmlib.reproducibility.seed_everything: every source of randomness seeded with the seed it is given; and `import rbmlib`
loads no torch, every public submodule an attribute loaded on first use."""
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


def test_every_public_submodule_is_an_attribute_of_rbmlib_loaded_on_first_use():
    import importlib
    import subprocess
    import sys
    from pathlib import Path

    import rbmlib

    package = Path(rbmlib.__file__).parent
    public = {p.stem for p in package.glob("*.py") if not p.stem.startswith("_")} | {"data"}
    assert set(rbmlib._SUBMODULES) == public and public <= set(dir(rbmlib))
    for name in sorted(public - {"sklearn"}):  # rbmlib.sklearn needs scikit-learn, an extra
        assert getattr(rbmlib, name) is importlib.import_module(f"rbmlib.{name}")
    lazy = subprocess.run([sys.executable, "-c", "import sys, rbmlib; print('torch' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert lazy.stdout.strip() == "False"  # so that rbmlib.pin_cpu_arithmetic() can still run first
