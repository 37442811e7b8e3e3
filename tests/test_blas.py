"""rbmlib.blas, the pinned path's matrix products (tests/conftest.py pins, so every product here is routed): right
answers against float64, OpenBLAS's own bits, torch's semantics (α, β, NaNs under β = 0, errors), autograd, the
thread count, and stored fingerprints that a pinned run must reproduce on every x86-64 CPU, Intel or AMD."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits
from torch import nn

import rbmlib
from rbmlib import blas
from rbmlib.reproducibility import cpu_arithmetic_pinned
from rbmlib.rbm import RBM
from rbmlib.samplers import CD
from rbmlib.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parent.parent


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) - 0.5


def fingerprint(*tensors) -> str:
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def test_the_pin_routes_torchs_products_to_openblas_haswell_kernels():
    assert blas.routed() and cpu_arithmetic_pinned() and blas.openblas_coretype() == "Haswell"
    assert rbmlib.pin_cpu_arithmetic()  # a second call, torch loaded under the pin: still pinned, no warning
    a, b = rand(37, 50), rand(50, 23, seed=1)
    # OpenBLAS's bits exactly (numpy in this process runs the same library)
    assert np.array_equal(torch.mm(a, b).numpy(), np.matmul(a.numpy(), b.numpy()))
    assert np.array_equal((a @ b[:, 0]).numpy(), np.matmul(a.numpy(), b[:, 0].numpy()))


CASES = {
    "mm": lambda a, b, c, bias, t: torch.mm(a, b),
    "mm, transposed operands": lambda a, b, c, bias, t: torch.mm(b.t(), a.t()),
    "mm, strided rows": lambda a, b, c, bias, t: torch.mm(a[::2], b),
    "mm, neither C- nor F-contiguous": lambda a, b, c, bias, t: torch.mm(a, t[::2, ::2]),
    "addmm, broadcast bias, α, β": lambda a, b, c, bias, t: torch.addmm(bias, a, b, beta=0.5, alpha=-2.0),
    "addmm, matrix bias": lambda a, b, c, bias, t: torch.addmm(c, a, b),
    "addmm_, α, β": lambda a, b, c, bias, t: c.clone().addmm_(a, b, beta=0.3, alpha=1.5),
    "addmm_, β = 0": lambda a, b, c, bias, t: c.clone().addmm_(a, b, beta=0, alpha=2.0),
    "mv": lambda a, b, c, bias, t: torch.mv(a, b[:, 3]),
    "mv, strided vector": lambda a, b, c, bias, t: torch.mv(a, t[::2, 0]),
    "matmul, batch of matrices @ matrix": lambda a, b, c, bias, t: torch.matmul(a[:36].view(3, 12, 50), b),
    "linear": lambda a, b, c, bias, t: nn.functional.linear(a, b.t(), bias),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_products_agree_with_float64(case, dtype):
    a, b, c, bias, t = rand(37, 50), rand(50, 23, seed=1), rand(37, 23, seed=2), rand(23, seed=3), rand(100, 46, seed=4)
    got = CASES[case](*(x.to(dtype) for x in (a, b, c, bias, t)))
    a64, b64, c64, bias64, t64 = (x.double().numpy() for x in (a, b, c, bias, t))  # the reference, in float64
    expected = {
        "mm": a64 @ b64, "mm, transposed operands": (a64 @ b64).T, "mm, strided rows": a64[::2] @ b64,
        "mm, neither C- nor F-contiguous": a64 @ t64[::2, ::2], "addmm, broadcast bias, α, β": 0.5 * bias64 - 2 * a64 @ b64,
        "addmm, matrix bias": c64 + a64 @ b64, "addmm_, α, β": 0.3 * c64 + 1.5 * a64 @ b64,
        "addmm_, β = 0": 2.0 * a64 @ b64, "mv": a64 @ b64[:, 3], "mv, strided vector": a64 @ t64[::2, 0],
        "matmul, batch of matrices @ matrix": (a64[:36] @ b64).reshape(3, 12, 23), "linear": a64 @ b64 + bias64,
    }[case]
    assert got.dtype == dtype
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(got.double().numpy(), expected, rtol=0, atol=tolerance)


def test_a_strided_view_is_multiplied_as_its_contiguous_copy():
    # numpy's matmul has its own loop for views BLAS cannot take, which adds in another order: never used
    a, t = rand(37, 50), rand(100, 46, seed=4)
    assert torch.equal(torch.mm(a, t[::2, ::2]), torch.mm(a, t[::2, ::2].contiguous()))
    assert torch.equal(torch.mm(t[::2, ::2].t(), a.t()), torch.mm(t[::2, ::2].t().contiguous(), a.t().contiguous()))


def test_strided_views_reach_blas_as_contiguous_arrays():
    # numpy would take a view that is neither C- nor F-contiguous through its own matmul loop, far slower than BLAS
    t = rand(100, 46)
    for view in (t[::2, ::2], t[::2, ::2].t(), t[:, ::3], t[::2, 0]):
        array = blas._blas_view(view)
        assert array.flags.c_contiguous or array.flags.f_contiguous
    assert np.shares_memory(blas._blas_view(t.t()), t.numpy())  # a transposed matrix is passed as it is, not copied


def test_beta_zero_ignores_nan_and_inf_as_torch_does():
    a, b = rand(4, 5), rand(5, 3, seed=1)
    nan = torch.full((4, 3), float("nan"))
    assert torch.equal(torch.addmm(nan, a, b, beta=0), torch.mm(a, b))
    assert torch.equal(nan.clone().addmm_(a, b, beta=0), torch.mm(a, b))
    assert torch.isnan(torch.addmm(nan, a, b, beta=1)).all()  # and only then


def test_inf_passes_through_silently():
    a = torch.tensor([[float("inf"), 1.0]])
    with np.errstate(all="raise"):  # the route must not turn numpy's floating-point warnings into anything
        out = torch.mm(a, torch.ones(2, 1))
    assert torch.isinf(out).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_products_are_left_to_torchs_own_kernels(dtype):
    a, b, bias = rand(6, 7).to(dtype), rand(7, 5, seed=1).to(dtype), rand(5, seed=2).to(dtype)
    assert not blas._routable(a, b)
    expected = (a.double() @ b.double()).to(dtype)  # rounded once
    torch.testing.assert_close(torch.mm(a, b), expected, rtol=0, atol=2e-2)
    torch.testing.assert_close(torch.addmm(bias, a, b), (bias.double() + a.double() @ b.double()).to(dtype), rtol=0,
                               atol=2e-2)


def test_other_dtypes_and_conjugate_views_take_torchs_own_kernels():
    i = torch.arange(12).view(3, 4)
    assert torch.equal(torch.mm(i, i.t()), torch.tensor([[14, 38, 62], [38, 126, 214], [62, 214, 366]]))
    c = torch.complex(rand(3, 4), rand(3, 4, seed=1))
    expected = c.numpy() @ c.numpy().conj().T
    np.testing.assert_allclose(torch.mm(c, c.conj().t()).numpy(), expected, rtol=0, atol=1e-5)
    with pytest.raises(RuntimeError):
        torch.mm(torch.ones(2, 2, dtype=torch.bool), torch.ones(2, 2, dtype=torch.bool))


def test_alpha_zero_ignores_the_product_and_its_nans_as_torch_does():
    a, b, bias = rand(4, 5), rand(5, 3, seed=1), rand(3, seed=2)
    a[0, 0] = float("nan")
    assert torch.equal(torch.addmm(bias, a, b, beta=2.0, alpha=0), (2.0 * bias).expand(4, 3))
    c = rand(4, 3, seed=3)
    assert torch.equal(c.clone().addmm_(a, b, beta=0.5, alpha=0), 0.5 * c)


def test_a_bias_of_another_dtype_or_shape_raises_like_torch():
    a, b = rand(4, 5), rand(5, 3, seed=1)
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.addmm(torch.zeros(3, dtype=torch.float64), a, b)
    with pytest.raises(RuntimeError, match="broadcast"):
        torch.addmm(torch.zeros(7), a, b, beta=0)


def test_bad_operands_raise_like_torch():
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.mm(rand(2, 3), rand(3, 2).double())
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        torch.mm(rand(2, 3), rand(2, 3))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        torch.mv(rand(2, 3), rand(2))


def test_gradients_of_a_linear_layer_agree_with_float64():
    layer = nn.Linear(50, 23)
    layer64 = nn.Linear(50, 23).double()
    layer64.load_state_dict({k: v.double() for k, v in layer.state_dict().items()})
    x = rand(37, 50).requires_grad_()
    x64 = x.detach().double().requires_grad_()
    layer(x).pow(2).sum().backward()
    layer64(x64).pow(2).sum().backward()
    for got, expected in ((x.grad, x64.grad), (layer.weight.grad, layer64.weight.grad),
                          (layer.bias.grad, layer64.bias.grad)):
        torch.testing.assert_close(got.double(), expected, rtol=0, atol=1e-5)


def test_openblas_runs_on_as_many_threads_as_torch():
    def openblas_threads():
        return next(i["num_threads"] for i in threadpool_info()
                    if i.get("internal_api") == "openblas" and "numpy" in i["filepath"])

    a, b = rand(8, 8), rand(8, 8, seed=1)
    try:
        torch.set_num_threads(2)
        torch.mm(a, b)
        assert openblas_threads() == 2
    finally:
        torch.set_num_threads(1)
    torch.mm(a, b)
    assert openblas_threads() == 1
    with threadpool_limits(2, user_api="blas"):  # as scikit-learn does: the next product sets it back to torch's
        torch.mm(a, b)
        assert openblas_threads() == 1


# Fingerprints of pinned results at one thread, recorded on an AMD EPYC with AVX-512 (2026-12-02). A pinned run
# must reproduce them on every x86-64 CPU with AVX2 and FMA: CI runs this test on whichever machine it lands on.
PRODUCT_FINGERPRINT = "2f2611d6c8c1c4e2"
TRAINING_FINGERPRINT = "3efde977a328201d"
OTHER_PRODUCTS_FINGERPRINT = "865d7ddf5a2c860d"


def test_a_pinned_product_has_the_same_bits_on_every_cpu():
    g = torch.Generator().manual_seed(0)
    v, w = torch.rand(100, 784, generator=g), torch.rand(784, 500, generator=g) - 0.5
    assert fingerprint(v @ w, torch.addmm(torch.ones(500), v, w, alpha=0.1), w.t() @ v.t()[:, :7]) == \
        PRODUCT_FINGERPRINT
    # gemv (a matrix-vector product, and numpy's route for a 1×k matrix) and dgemm
    assert fingerprint(w.t() @ v[0], v[:1] @ w, v.double() @ w.double()) == OTHER_PRODUCTS_FINGERPRINT


def test_a_pinned_training_run_has_the_same_bits_on_every_cpu():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(600, 784, generator=g) < 0.2).float()
    rbm = RBM(784, 64, weight_std=0.01, generator=g)
    Trainer(rbm, TrainConfig(epochs=2, batch_size=100, learning_rate=0.05), CD(1), g).fit(x, progress=False)
    assert fingerprint(*rbm.parameters()) == TRAINING_FINGERPRINT


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR")}
    return subprocess.run([sys.executable, "-c", code], env={**environment, **env}, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("first", ["numpy", "torch"])
def test_numpy_or_torch_loaded_before_the_pin_leaves_it_off_with_a_warning(first):
    done = run_python(f"import warnings, {first}, rbmlib\nwarnings.simplefilter('error')\n"
                      "try:\n    rbmlib.pin_cpu_arithmetic()\nexcept UserWarning as w:\n    print('warned', w)\n"
                      "from rbmlib import blas\nprint('routed', blas.routed())")
    assert "warned" in done.stdout and "imported before" in done.stdout, done.stderr
    assert first in done.stdout.split("imported before")[0] and "routed False" in done.stdout


def test_unpinned_products_stay_on_torchs_own_kernels():
    done = run_python("import rbmlib\nprint(rbmlib.pin_cpu_arithmetic())\nimport torch\nfrom rbmlib import blas\n"
                      "from rbmlib.reproducibility import cpu_arithmetic_pinned\n"
                      "print(blas.routed(), cpu_arithmetic_pinned())", RBMBOOK_PIN_CPU="0")
    assert done.stdout.split() == ["False", "False", "False"], done.stderr


def test_routing_refuses_openblas_running_other_kernels():
    done = run_python("import numpy, os\nos.environ['OPENBLAS_CORETYPE'] = 'Haswell'\nfrom rbmlib import blas\n"
                      "try:\n    blas.route_cpu_gemms()\nexcept RuntimeError as e:\n    print('refused', blas.routed())",
                      OPENBLAS_CORETYPE="Sandybridge")
    assert "refused False" in done.stdout, done.stderr
    done = run_python("from rbmlib import blas\ntry:\n    blas.route_cpu_gemms()\nexcept RuntimeError as e:\n"
                      "    print('refused', e)")
    assert "refused set OPENBLAS_CORETYPE=Haswell" in done.stdout, done.stderr


def test_the_environment_alone_is_not_the_pin_but_lets_a_late_pin_route():
    from rbmlib.reproducibility import CPU_ARITHMETIC_ENV

    done = run_python("import numpy, torch, rbmlib\nfrom rbmlib.reproducibility import cpu_arithmetic_pinned\n"
                      "print(cpu_arithmetic_pinned(), rbmlib.pin_cpu_arithmetic(), cpu_arithmetic_pinned())",
                      **CPU_ARITHMETIC_ENV)
    assert done.stdout.split() == ["False", "True", "True"], done.stderr
