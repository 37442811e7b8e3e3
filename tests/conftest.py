"""Test-wide setup: rbmlib is imported before anything imports torch, so that the CPU arithmetic path is pinned
(see rbmlib.reproducibility) exactly as in the notebooks; one thread, since tiny tensors run far slower with two
threads on a busy two-core machine."""
import rbmlib  # noqa: F401
import torch

torch.set_num_threads(1)
