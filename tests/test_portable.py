"""rbmlib.portable: each function against an exact reference (Python's float64 ``math``), its edge cases, no call to
MKL's vector maths (``audit``), and bits that do not change with MKL's code branch (``MKL_CBWR``), which is what
differs between an Intel and an AMD CPU."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rbmlib import portable
from rbmlib.estimators import ais, base_rate_biases, default_betas, exact_log_partition
from rbmlib.rbm import RBM
from rbmlib.stack import DenoisingAutoencoder
from rbmlib.units import Bernoulli, NReLU

EPS = torch.finfo(torch.float32).eps
INF, NAN = math.inf, math.nan


def reference(f, x):
    return torch.tensor([f(v) for v in x.double().tolist()], dtype=torch.float64)


def relative_error(ours, exact):
    return ((ours.double() - exact).abs() / exact.abs()).max().item()


def test_sqrt_is_within_one_and_a_half_units_in_the_last_place():
    x = torch.cat([torch.rand(20_000, generator=torch.Generator().manual_seed(0)) * 100,
                   torch.logspace(-37, 38, 5_000)])
    assert relative_error(portable.sqrt(x), reference(math.sqrt, x)) <= 1.5 * EPS
    assert portable.sqrt(torch.tensor([0.0, 1.0, 4.0, INF])).tolist() == [0.0, 1.0, 2.0, INF]
    assert portable.sqrt(torch.tensor([-1.0])).isnan().all()


def test_exp_relative_error_grows_only_with_the_size_of_the_argument():
    x = torch.linspace(-87.0, 88.0, 20_001)
    exact = reference(math.exp, x)
    bound = (x.double().abs() + 2) * EPS
    assert (((portable.exp(x).double() - exact).abs() / exact) <= bound).all()
    assert portable.exp(torch.tensor([0.0, -INF, INF])).tolist() == [1.0, 0.0, INF]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_log_is_within_one_unit_in_the_last_place_also_next_to_one(dtype):
    x = torch.cat([torch.logspace(-37, 38, 20_001, dtype=torch.float64),
                   torch.linspace(0.5, 2.0, 20_001, dtype=torch.float64)]).to(dtype)
    x = x[x != 1]
    assert relative_error(portable.log(x), reference(math.log, x)) <= torch.finfo(dtype).eps
    edge = portable.log(torch.tensor([1.0, 0.0, INF, -1.0, NAN], dtype=dtype))
    assert edge[:3].tolist() == [0.0, -INF, INF] and edge[3:].isnan().all()


def test_logsumexp_matches_the_float64_sum_and_handles_infinite_slices():
    x = torch.randn(40, 300, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 30
    exact = torch.tensor([math.log(math.fsum(math.exp(v - max(row)) for v in row)) + max(row) for row in x.tolist()],
                         dtype=torch.float64)
    assert (portable.logsumexp(x, 1) - exact).abs().max() < 1e-13
    assert torch.equal(portable.logsumexp(x.t(), 0), portable.logsumexp(x, 1))
    assert portable.logsumexp(torch.tensor([[-INF, -INF], [INF, 0.0]]), 1).tolist() == [-INF, INF]


def test_ndtr_keeps_its_relative_accuracy_far_into_the_lower_tail():
    x = torch.linspace(-12.5, 13.0, 20_001)  # Φ(−12.5) ≈ 4e−36: normal floats (the suite flushes subnormals)
    exact = reference(lambda v: 0.5 * math.erfc(-v / math.sqrt(2.0)), x)
    assert relative_error(portable.ndtr(x), exact) < 1e-5  # torch.special.ndtr in float32: 100% below −9
    assert portable.ndtr(torch.tensor([-INF, 0.0, INF])).tolist() == [0.0, 0.5, 1.0]


def test_tanh_and_its_gradient():
    x = torch.linspace(-20.0, 20.0, 20_001, requires_grad=True)
    y = portable.tanh(x)
    assert (y.detach().double() - reference(math.tanh, x.detach())).abs().max() < 2 ** -22
    (gradient,) = torch.autograd.grad(y.sum(), x)
    assert (gradient - (1 - y.detach() ** 2)).abs().max() < 4 * EPS
    assert torch.equal(portable.Tanh()(x.detach()), y.detach())


def test_audit_counts_the_vector_maths_calls_and_only_those():
    x = torch.rand(10, requires_grad=True)
    with portable.audit() as calls:
        (x.sqrt() + x.pow(0.5) + torch.tanh(x) + torch.sigmoid(x) + x.pow(2)).sum().backward()
    assert calls == {"sqrt": 1, "pow": 1, "tanh": 1}


def test_audit_knows_every_operator_measured_to_reach_the_vector_maths():
    """The operators whose float32 bits were measured to change with MKL's code branch (book/benchmarks.md), each
    called once, in place where it has an in-place form; none of the portable replacements is counted."""
    x = torch.rand(64) * 0.9 + 0.05
    with portable.audit() as calls:
        for f in (torch.sqrt, torch.exp, torch.log, torch.log2, torch.log10, torch.tanh, torch.tan, torch.erf,
                  torch.erfc, torch.erfinv, torch.special.ndtr, torch.atan, torch.asin, torch.acos, torch.logit):
            f(x)
        torch.logsumexp(x, 0), x.clone().sqrt_(), x.clone().exp_(), x.pow(0.5)
    names = {"sqrt", "exp", "log", "log2", "log10", "tanh", "tan", "erf", "erfc", "erfinv", "atan", "asin", "acos",
             "logit", "logsumexp", "pow"}  # torch.special.ndtr reaches the dispatcher as erf
    assert set(calls) == names and calls["sqrt"] == calls["exp"] == calls["erf"] == 2
    assert sum(calls.values()) == len(names) + 3
    with portable.audit() as calls:
        portable.sqrt(x), portable.exp(x), portable.log(x), portable.logsumexp(x, 0), portable.tanh(x)
        portable.ndtr(x), x.pow(-0.5), x.pow(1.5), torch.sigmoid(x), torch.log1p(x), torch.expm1(x)
    assert not calls


def test_activity_collects_the_codes_of_portable_tanh_layers():
    from rbmlib.activity import forward_with_codes
    from rbmlib.stack import to_sequential

    net = to_sequential([DenoisingAutoencoder(6, 4, "tanh", generator=torch.Generator().manual_seed(0))])
    codes, out = forward_with_codes(net, torch.rand(5, 6))
    assert len(codes) == 1 and torch.equal(codes[0], out) and (codes[0].abs() < 1).all()


def test_the_book_s_computations_make_no_vector_maths_call():
    """NReLU means and draws, the estimators, a tanh DAE and PyTorch's fused Adam: none reaches MKL's vector maths."""
    g = torch.Generator().manual_seed(2)
    data = (torch.rand(30, 10, generator=g) > 0.5).float()
    small = RBM(10, 5, hidden=Bernoulli(), generator=g)
    dae = DenoisingAutoencoder(10, 4, "tanh", generator=g)
    upper = DenoisingAutoencoder(4, 3, "tanh", reconstruction="tanh", generator=g)  # reconstructs tanh codes
    w = torch.nn.Parameter(torch.randn(20, 3, generator=g))
    adam = torch.optim.Adam([w], lr=0.01, fused=True)
    with portable.audit() as calls:
        units = NReLU()
        x = torch.randn(50, 6, generator=g) * 3
        units.mean(x), units.sample(x, g), units.mean_and_sample(x, g)
        exact_log_partition(small)
        ais(small, 4, default_betas()[::500], base_rate_biases(data), generator=g)
        dae.loss(data, g).backward()
        upper.loss(dae.encode(data).detach(), g).backward(), upper(dae.encode(data))
        w.grad = torch.randn(20, 3, generator=g)
        adam.step()
    assert not calls, calls


# The same numbers computed in a fresh process under two of MKL's code branches: a vendor-dependent kernel changes
# with the branch (on an Intel CPU: torch.sqrt does, the control below), a portable one must not.
PROBE = """
import hashlib, json, torch
from rbmlib import portable
from rbmlib.units import NReLU
g = torch.Generator().manual_seed(0)
x = torch.randn(100_003, generator=g) * 4
p = torch.rand(100_003, generator=g) + 1e-3
w = torch.nn.Parameter(torch.rand(300, 100, generator=g))
adam = torch.optim.Adam([w], lr=0.03, fused=True)
for _ in range(5):
    w.grad = torch.randn(300, 100, generator=g)
    adam.step()
out = {"sqrt": portable.sqrt(p), "exp": portable.exp(x), "log": portable.log(p), "ndtr": portable.ndtr(x),
       "tanh": portable.tanh(x), "logsumexp": portable.logsumexp(x.view(-1, 1)[:100_000].view(1000, 100), 1),
       "nrelu_mean": NReLU().mean(x), "nrelu_sample": NReLU().sample(x, torch.Generator().manual_seed(1)),
       "fused_adam": w.detach(), "control: torch.sqrt": torch.sqrt(p)}
print(json.dumps({k: hashlib.sha1(v.contiguous().numpy().tobytes()).hexdigest() for k, v in out.items()}))
"""


def probe(branch):
    env = {**os.environ, "MKL_CBWR": branch, "ATEN_CPU_CAPABILITY": "avx2", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    return json.loads(run.stdout)


def test_portable_bits_do_not_depend_on_mkl_s_code_branch():
    compatible, automatic = probe("COMPATIBLE"), probe("AUTO")
    control = "control: torch.sqrt"
    assert {k: v for k, v in compatible.items() if k != control} == {k: v for k, v in automatic.items() if k != control}
    if "GenuineIntel" in Path("/proc/cpuinfo").read_text():  # where MKL's branches differ, the probe sees it
        assert compatible[control] != automatic[control]
