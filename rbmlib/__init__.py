"""rbmlib: Restricted Boltzmann Machines and rectifier networks in PyTorch, the library behind rbmbook.

    import rbmlib
    rbm = rbmlib.RBM(784, 500)                      # Bernoulli–Bernoulli; see rbmlib.units for other unit types
    rbmlib.Trainer(rbm, rbmlib.TrainConfig(epochs=5), rbmlib.CD(1)).fit(x)

``import rbmlib`` does not load torch: the names below load their module on first use, so that
``rbmlib.pin_cpu_arithmetic()`` can still run first, as the notebooks do (see ``rbmlib.reproducibility``).
"""
from __future__ import annotations

import importlib

from .reproducibility import pin_cpu_arithmetic

__version__ = "0.1.0"
_LAZY = {
    "RBM": "rbm", "Bernoulli": "units", "Gaussian": "units", "NReLU": "units", "SteppedSigmoid": "units",
    "CD": "samplers", "PCD": "samplers", "FastPCD": "samplers", "Trainer": "train", "TrainConfig": "train",
    "DivergenceError": "train", "preset": "train", "seed_everything": "reproducibility",
    "active_profile": "profiles",
}
# every public submodule, reachable as an attribute (rbmlib.data.load_mnist(), rbmlib.grid.run(...);
# rbmlib.sklearn.RBMTransformer needs scikit-learn), loaded on first use
_SUBMODULES = ("activity", "blas", "checkpoint", "data", "estimators", "grid", "initialisation", "portable",
               "profiles", "rbm", "report", "reproducibility", "samplers", "sklearn", "stack", "stats", "supervised",
               "train", "units", "verification")
__all__ = [*_LAZY, "pin_cpu_arithmetic", "__version__"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _LAZY:
        raise AttributeError(f"module 'rbmlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})
