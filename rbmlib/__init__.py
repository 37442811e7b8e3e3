"""rbmlib: Restricted Boltzmann Machines and rectifier networks in PyTorch, the library behind rbmbook."""
from .reproducibility import pin_cpu_arithmetic

pin_cpu_arithmetic()  # before torch loads its CPU kernels: see rbmlib.reproducibility

from .reproducibility import seed_everything  # noqa: E402
from .profiles import active_profile  # noqa: E402

__version__ = "0.1.0"
__all__ = ["seed_everything", "active_profile", "__version__"]
