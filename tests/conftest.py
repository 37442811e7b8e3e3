"""Test-wide setup, before any test module imports torch: the CPU arithmetic path pinned as in the notebooks
(``rbmlib.pin_cpu_arithmetic``), so that a test with a fixed seed gives the same numbers on every x86-64 machine; one
thread, since tiny tensors run far slower with two threads on a busy two-core machine."""
import rbmlib

rbmlib.pin_cpu_arithmetic()

import torch  # noqa: E402

torch.set_num_threads(1)
