"""rbmlib: Restricted Boltzmann Machines and rectifier networks in PyTorch, the library behind rbmbook.

    import rbmlib                                   # first: pins the CPU arithmetic path before torch loads
    rbm = rbmlib.RBM(784, 500)                      # Bernoulli–Bernoulli; see rbmlib.units for other unit types
    rbmlib.Trainer(rbm, rbmlib.TrainConfig(epochs=5), rbmlib.CD(1)).fit(x)
"""
from .reproducibility import pin_cpu_arithmetic

pin_cpu_arithmetic()  # before torch loads its CPU kernels: see rbmlib.reproducibility

from .profiles import active_profile  # noqa: E402
from .rbm import RBM  # noqa: E402
from .reproducibility import seed_everything  # noqa: E402
from .samplers import CD, PCD, FastPCD  # noqa: E402
from .train import DivergenceError, TrainConfig, Trainer, preset  # noqa: E402
from .units import Bernoulli, Gaussian, NReLU, SteppedSigmoid  # noqa: E402

__version__ = "0.1.0"
__all__ = ["RBM", "Bernoulli", "Gaussian", "NReLU", "SteppedSigmoid", "CD", "PCD", "FastPCD", "Trainer",
           "TrainConfig", "DivergenceError", "preset", "seed_everything", "active_profile", "__version__"]
