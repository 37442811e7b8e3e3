"""Speed of one CD-1 epoch on MNIST: rbmlib against scikit-learn, a plain PyTorch loop and the matmul roofline.

The task (../shared/research/peers.md): MNIST training set 60000×784, pixel/255 in [0, 1], a 784×500 Bernoulli RBM, mini-batches
of 100, learning rate 0.05, float32, one Gibbs step, one epoch = 600 updates. Contenders:

* ``rbmlib``: ``Trainer`` with ``CD(1)`` (momentum 0, weight decay 0: plain SGD, the same update as the plain loop);
* ``plain torch loop``: the ~15-line reference loop of ../shared/research/peers.md (``addmm`` + ``sigmoid_``,
  ``torch.bernoulli`` for h, mean-field v₁, in-place ``addmm_`` updates);
* ``lean torch loop``: the same loop with rbmlib's cheaper gather and draws (``index_select``, h₀ = [u < p]) and
  nothing else (no checks, no monitor): how close to the roofline a CD-1 epoch built from torch ops gets here;
* ``sklearn BernoulliRBM``: **PCD-1, not CD-1** (persistent hidden chains, binary v₁, batches in a fixed order);
  each epoch is a separate ``fit(n_iter=1)`` call, so its time includes the input check and weight init;
* ``roofline``: an epoch of the matrix products alone: per batch, the 5 GEMMs every CD-1 update needs, with CD-1's
  shapes and layouts (x_h = c + v₀W and c + v₁W, x_v = b + h₀Wᵀ, and the two weight-gradient products v₀ᵀh₀,
  v₁ᵀh₁ accumulated into W), timed like the contenders (one epoch per round, median);
* ``best-GEMM reference``: 600 · 5 · t_best with t_best the best observed time of one isolated (100×784)@(784×500)
  ``torch.mm`` (W hot in cache): a reference, not a bound: the epoch's other shapes (Wᵀ products, the weight
  gradients) can run faster than this one, and the GEMM-only epoch has come in under it (101–131% unpinned in the
  runs to 2026-12-03). Until 2026-12-03 it called ``torch.mm(..., out=)``, which the pin does not route, so its
  pinned rows timed MKL's ``COMPATIBLE`` branch, not the pin's OpenBLAS products.

Each thread count runs in its own process (threads fixed before any work: ``torch.set_num_threads`` and
threadpoolctl for numpy's BLAS). Epochs of the contenders are interleaved (one epoch of each in turn, ``--epochs``
rounds) so that load from other processes hits them alike. Times are medians; "% of roofline" (roofline epoch ÷
contender epoch) and the other ratios are *paired*: the median over rounds of the ratio within a round, so that the
VM's slow swings in speed cancel. Every row's roofline is the faster of the pinned and unpinned GEMM epochs at its
thread count (a ratio of medians across the two processes when it is the other setting's), so that it is a bound;
"% of own roofline" is the paired ratio to the row's own process's GEMM epoch, free of the noise between processes. ``--summarise FILE`` recomputes the summaries of a results file.
Reconstruction error: ``rbmlib.estimators.reconstruction_error`` on the 10000 test images after one epoch,
mean of (v − E[v | E[h | v]])², computed the same way for every model so that speed is not bought with wrong maths.

The library's default is the unpinned CPU path (``--pin off``: MKL and ATen pick their fastest kernels). The
notebooks call ``rbmlib.pin_cpu_arithmetic()`` (ATen/oneDNN capped at AVX2, torch's matrix products on numpy's
OpenBLAS with its Haswell kernels, ``rbmlib.blas``) so that their outputs are bit-identical on every x86-64 CPU;
``--pin on`` measures that path, ``--pin both`` does both. The pin setting applies to every contender of a run
(scikit-learn's products are numpy's OpenBLAS either way, with the Haswell kernels under the pin).

    RBMBOOK_DATA=/work/shared/data .venv/bin/python benchmarks/cd1_mnist.py --threads 1 2 --epochs 9
    RBMBOOK_DATA=/work/shared/data .venv/bin/python benchmarks/cd1_mnist.py --device cuda --epochs 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import default_output, paired_ratio, run_setting, shown, write_results  # noqa: E402

N_VISIBLE, N_HIDDEN, BATCH, LEARNING_RATE, WEIGHT_STD = 784, 500, 100, 0.05, 0.01
GEMMS_PER_BATCH = 5


# the contenders (run inside a worker process) ---------------------------------------------------------------------
def torch_cd1_loop(x, generator, params=None, epochs: int = 1, lean: bool = False):
    """A hand-written CD-1 loop; continues from ``params`` = (W, b, c) if given.

    ``lean=False``: the reference loop of ../shared/research/peers.md (advanced-index gather, ``torch.bernoulli`` for h₀).
    ``lean=True``: the fastest loop we could write with torch ops: ``index_select`` gather, h₀ = [u < p] drawn into
    a uniform buffer, no checks and no monitor; the ceiling of what a CD-1 epoch built from torch ops reaches here.
    """
    import torch

    n = x.shape[0]
    W, b, c = params if params is not None else (
        WEIGHT_STD * torch.randn(N_VISIBLE, N_HIDDEN, generator=generator, device=x.device),
        torch.zeros(N_VISIBLE, device=x.device), torch.zeros(N_HIDDEN, device=x.device))
    step = LEARNING_RATE / BATCH
    with torch.no_grad():
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator, device=x.device)
            for first in range(0, n, BATCH):
                v0 = x.index_select(0, order[first:first + BATCH]) if lean else x[order[first:first + BATCH]]
                ph0 = torch.addmm(c, v0, W).sigmoid_()
                if lean:
                    u = torch.rand(ph0.shape, generator=generator, device=x.device)
                    h0 = torch.lt(u, ph0, out=u)
                else:
                    h0 = torch.bernoulli(ph0, generator=generator)
                v1 = torch.addmm(b, h0, W.t()).sigmoid_()
                ph1 = torch.addmm(c, v1, W).sigmoid_()
                W.addmm_(v0.t(), ph0, alpha=step).addmm_(v1.t(), ph1, alpha=-step)
                b.add_(v0.sum(0) - v1.sum(0), alpha=step)
                c.add_(ph0.sum(0) - ph1.sum(0), alpha=step)
    return W, b, c


def cuda_graph_cd1_loop(x, params, epochs: int = 1):
    """The lean loop's batch step captured once as a CUDA graph and replayed per batch (GPU only): the floor of a
    CD-1 epoch when no kernel launch goes through Python. Draws from the default CUDA generator (graph-safe), so
    its samples differ from the other contenders'; the maths is the same."""
    import torch

    W, b, c = params
    n, step = x.shape[0], LEARNING_RATE / BATCH
    index = torch.zeros(BATCH, dtype=torch.long, device=x.device)

    def batch_update(W, b, c):
        v0 = x.index_select(0, index)
        ph0 = torch.addmm(c, v0, W).sigmoid_()
        h0 = torch.lt(torch.rand_like(ph0), ph0).float()
        v1 = torch.addmm(b, h0, W.t()).sigmoid_()
        ph1 = torch.addmm(c, v1, W).sigmoid_()
        W.addmm_(v0.t(), ph0, alpha=step).addmm_(v1.t(), ph1, alpha=-step)
        b.add_(v0.sum(0) - v1.sum(0), alpha=step)
        c.add_(ph0.sum(0) - ph1.sum(0), alpha=step)

    with torch.no_grad():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up on copies: cuBLAS sets up its workspace before capture
            for _ in range(3):
                batch_update(W.clone(), b.clone(), c.clone())
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            batch_update(W, b, c)
        torch.cuda.synchronize(x.device)
        start = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(n, device=x.device)
            for first in range(0, n, BATCH):
                index.copy_(order[first:first + BATCH])
                graph.replay()
        torch.cuda.synchronize(x.device)
    return time.perf_counter() - start


def _rbm_from(W, b, c, device):
    """An ``rbmlib.rbm.RBM`` holding the given parameters, to score every model with the same estimator."""
    import torch
    from rbmlib.rbm import RBM

    rbm = RBM(N_VISIBLE, N_HIDDEN).to(device)
    with torch.no_grad():
        for p, value in zip((rbm.weight, rbm.visible_bias, rbm.hidden_bias), (W, b, c)):
            p.copy_(torch.as_tensor(value, dtype=torch.float32))
    return rbm


def _synchronize(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def roofline_gemm_seconds(device, repeats: int = 20, block: int = 10) -> float:
    """Best observed seconds of one float32 (100×784)@(784×500) product (best block of ``block`` products)."""
    import torch

    g = torch.Generator(device).manual_seed(1)
    v = torch.rand(BATCH, N_VISIBLE, generator=g, device=device)
    W = torch.rand(N_VISIBLE, N_HIDDEN, generator=g, device=device)
    torch.mm(v, W)  # not the out= form: the pin routes torch.mm to OpenBLAS (rbmlib.blas), but not its out= form
    best = float("inf")
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        for _ in range(block):
            torch.mm(v, W)
        _synchronize(device)
        best = min(best, (time.perf_counter() - start) / block)
    return best


def gemm_only_epoch(x, W, n_batches: int) -> float:
    """Seconds of one epoch of CD-1's 5 GEMMs per batch alone (no sampling, sigmoids or updates of the biases).

    The products are the operators a CD-1 step calls (``addmm``, ``addmm_``), which the pin routes to OpenBLAS
    (``rbmlib.blas``); ``addmm``'s ``out=`` form is not routed, and under the pin it timed MKL's ``COMPATIBLE`` branch
    (4.2 s against 2.4 s per epoch), so it is not used."""
    import torch

    g = torch.Generator(x.device).manual_seed(2)
    h, v1 = torch.rand(BATCH, N_HIDDEN, generator=g, device=x.device), torch.rand(BATCH, N_VISIBLE, generator=g,
                                                                                  device=x.device)
    b, c = torch.zeros(N_VISIBLE, device=x.device), torch.zeros(N_HIDDEN, device=x.device)
    W, tiny = W.clone(), 1e-12
    _synchronize(x.device)
    start = time.perf_counter()
    for k in range(n_batches):
        v0 = x[k * BATCH:(k + 1) * BATCH]
        torch.addmm(c, v0, W)
        torch.addmm(b, h, W.t())
        torch.addmm(c, v1, W)
        W.addmm_(v0.t(), h, alpha=tiny).addmm_(v1.t(), h, alpha=-tiny)
    _synchronize(x.device)
    return time.perf_counter() - start


def worker(threads: int, epochs: int, device_name: str) -> dict:
    """Time every contender in this process at ``threads`` threads; return the raw measurements."""
    import rbmlib

    pinned = rbmlib.pin_cpu_arithmetic()  # before torch loads; a no-op under RBMBOOK_PIN_CPU=0 (--pin off)
    import dataclasses

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    from rbmlib.data import load_mnist
    from rbmlib.estimators import reconstruction_error
    from rbmlib.rbm import RBM
    from rbmlib.report import provenance
    from rbmlib.reproducibility import CPU_ARITHMETIC_ENV
    from rbmlib.samplers import CD
    from rbmlib.train import TrainConfig, Trainer

    load_at_start = os.getloadavg()
    device = torch.device(device_name)
    torch.set_num_threads(threads)
    threadpool_limits(threads)
    x_train, _ = load_mnist(train=True)
    x_test, _ = load_mnist(train=False)
    x_train, x_test = x_train.to(device), x_test.to(device)
    n_batches = x_train.shape[0] // BATCH
    times = {"roofline": [], "rbmlib": [], "rbmlib_graphs": [], "plain": [], "lean": [], "graph": [], "sklearn": []}
    recon, gemm, errors = {}, [], {}

    # rbmlib: one Trainer, advanced one epoch per round; its own per-epoch timing (history_ "seconds")
    config = TrainConfig(epochs=0, batch_size=BATCH, learning_rate=LEARNING_RATE, initial_momentum=0.0,
                         final_momentum=0.0, weight_decay=0.0)
    generator = torch.Generator(device).manual_seed(0)
    rbm = RBM(N_VISIBLE, N_HIDDEN, weight_std=WEIGHT_STD, generator=torch.Generator().manual_seed(0)).to(device)
    trainer = Trainer(rbm, config, CD(1), generator)
    if device.type == "cuda":  # the same model and draws' seed, every update replayed from a captured CUDA graph
        rbm_graphed = RBM(N_VISIBLE, N_HIDDEN, weight_std=WEIGHT_STD, generator=torch.Generator().manual_seed(0))
        trainer_graphed = Trainer(rbm_graphed.to(device), config, CD(1), torch.Generator(device).manual_seed(0),
                                  cuda_graphs=True)

    # hand-written loops: one state each, carried across rounds
    loop_generators = {key: torch.Generator(device).manual_seed(0) for key in ("plain", "lean")}
    loops = {"plain": None, "lean": None}

    if device.type == "cpu":
        from sklearn.neural_network import BernoulliRBM
        x_np = x_train.numpy()

    gemm.append(roofline_gemm_seconds(device))
    for round_ in range(epochs):
        times["roofline"].append(gemm_only_epoch(x_train, rbm.weight.detach(), n_batches))
        trainer.config = dataclasses.replace(config, epochs=round_ + 1)
        trainer.fit(x_train, progress=False)
        times["rbmlib"].append(trainer.history_[-1]["seconds"])
        if round_ == 0:
            recon["rbmlib"] = reconstruction_error(rbm, x_test)
        if device.type == "cuda" and "rbmlib_graphs" not in errors:
            try:
                trainer_graphed.config = trainer.config
                trainer_graphed.fit(x_train, progress=False)
                times["rbmlib_graphs"].append(trainer_graphed.history_[-1]["seconds"])
                if round_ == 0:
                    recon["rbmlib_graphs"] = reconstruction_error(trainer_graphed.rbm, x_test)
            except RuntimeError as error:
                errors["rbmlib_graphs"] = str(error)[:500]

        for key, lean in (("plain", False), ("lean", True)):
            _synchronize(device)
            start = time.perf_counter()
            loops[key] = torch_cd1_loop(x_train, loop_generators[key], loops[key], lean=lean)
            _synchronize(device)
            times[key].append(time.perf_counter() - start)
            if round_ == 0:
                recon[key] = reconstruction_error(_rbm_from(*loops[key], device), x_test)

        if device.type == "cuda" and "graph" not in errors:
            torch.cuda.manual_seed(round_)
            if "graph" not in loops:
                graph_params = tuple(p.clone() for p in torch_cd1_loop(x_train, torch.Generator(device).manual_seed(0),
                                                                       epochs=0))
                loops["graph"] = graph_params
            try:  # a contender, not rbmlib: a failure to capture is recorded, not fatal
                times["graph"].append(cuda_graph_cd1_loop(x_train, loops["graph"]))
                if round_ == 0:
                    recon["graph"] = reconstruction_error(_rbm_from(*loops["graph"], device), x_test)
            except RuntimeError as error:
                errors["graph"] = str(error)[:500]

        if device.type == "cpu":
            model = BernoulliRBM(n_components=N_HIDDEN, learning_rate=LEARNING_RATE, batch_size=BATCH, n_iter=1,
                                 random_state=round_)
            start = time.perf_counter()
            model.fit(x_np)
            times["sklearn"].append(time.perf_counter() - start)
            if round_ == 0:
                recon["sklearn"] = reconstruction_error(
                    _rbm_from(model.components_.T, model.intercept_visible_, model.intercept_hidden_, device),
                    x_test)
        gemm.append(roofline_gemm_seconds(device))

    return {
        "threads": threads, "epochs": epochs, "device": device_name, "n_batches": n_batches,
        "pinned": pinned,
        "cpu_env": {k: os.environ.get(k) for k in CPU_ARITHMETIC_ENV},
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "gemm_best_s": min(gemm), "gemm_best_per_round_s": gemm,
        "seconds_per_epoch": {k: v for k, v in times.items() if v},
        "reconstruction_error_1_epoch": recon,
        "errors": errors,
        "blas": [{k: info.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                 for info in threadpool_info()],
        "sklearn": __import__("sklearn").__version__ if device.type == "cpu" else None,
        "load_average_start_end": [load_at_start, os.getloadavg()],
        "provenance": provenance(seeds=[0]),
    }


# the driver: one process per thread count and pin setting ------------------------------------------------------
LABELS = {"roofline": f"roofline: the {GEMMS_PER_BATCH} GEMMs/batch alone", "rbmlib": "rbmlib Trainer + CD(1)",
          "rbmlib_graphs": "rbmlib Trainer + CD(1), cuda_graphs=True (GPU only)",
          "plain": "plain torch CD-1 loop", "lean": "lean torch CD-1 loop",
          "graph": "lean loop replayed as one CUDA graph per batch (GPU only)", "sklearn": "sklearn BernoulliRBM (PCD-1)"}


def faster_roofline(run: dict, runs: list[dict]) -> float | None:
    """The median GEMM-only epoch of another run at ``run``'s thread count and device (the other pin setting) where
    it is faster than ``run``'s own: the fastest these 5 GEMMs go on this machine bounds every row. None when
    ``run``'s own GEMM epoch is the fastest (its rows then use paired ratios)."""
    own = statistics.median(run["seconds_per_epoch"]["roofline"])
    twins = [statistics.median(r["seconds_per_epoch"]["roofline"]) for r in runs
             if r is not run and r["threads"] == run["threads"] and r["device"] == run["device"]]
    return min(twins) if twins and min(twins) < own else None


def summarise(run: dict, runs: list[dict] | None = None) -> list[dict]:
    """One row per contender, the roofline epoch first, then the best-GEMM reference: median s/epoch (min, max), % of
    roofline (and of the run's own roofline, paired), speed-up over sklearn and time ÷ plain loop, each a paired ratio (median over rounds), and the
    reconstruction error.

    % of roofline is roofline epoch ÷ contender epoch, against the faster of the pinned and unpinned GEMM epochs at
    that thread count: paired (the same round) when it is the run's own, else a ratio of medians (the two settings
    run in separate processes). A bound must be the fastest GEMMs on the machine: under the MKL ``COMPATIBLE`` pin
    the pinned GEMM epoch was slower than numpy's OpenBLAS, and scikit-learn's pinned row read 192% against it."""
    times = run["seconds_per_epoch"]
    faster = faster_roofline(run, runs or [run])
    rows = []
    for key, seconds in times.items():
        rows.append({
            "implementation": LABELS[key], "key": key, "seconds": statistics.median(seconds),
            "range": (min(seconds), max(seconds)),
            "roofline": (paired_ratio(times["roofline"], seconds) if faster is None
                         else faster / statistics.median(seconds)),
            "roofline_basis": "paired" if faster is None else "the other pin setting's roofline, ratio of medians",
            "roofline_own_paired": paired_ratio(times["roofline"], seconds),
            "speedup_vs_sklearn": paired_ratio(times["sklearn"], seconds) if "sklearn" in times and key != "roofline"
            else None,
            "time_vs_plain": paired_ratio(seconds, times["plain"]) if key != "roofline" else None,
            "reconstruction_error": run["reconstruction_error_1_epoch"].get(key),
        })
    bound = run["n_batches"] * GEMMS_PER_BATCH * run["gemm_best_s"]
    rows.append({"implementation": f"best-GEMM reference (600 × {GEMMS_PER_BATCH} × best isolated GEMM)",
                 "key": "best_gemm_bound", "seconds": bound, "range": None,
                 "roofline": (faster if faster is not None else statistics.median(times["roofline"])) / bound,
                 "gflops": 2 * BATCH * N_VISIBLE * N_HIDDEN / run["gemm_best_s"] / 1e9})
    return rows


def table(runs: list[dict]) -> str:
    from rbmlib.report import Table, fmt

    lines = []
    for run in runs:
        for row in summarise(run, runs):
            spread = "" if row["range"] is None else f" ({fmt(row['range'][0])}–{fmt(row['range'][1])})"
            lines.append([
                row["implementation"], run["device"] if run["device"] != "cpu" else run["threads"],
                "yes" if run["pinned"] else "no", fmt(row["seconds"], 2) + spread, fmt(row["roofline"], 0, percent=True),
                fmt(row.get("roofline_own_paired"), 0, percent=True),
                fmt(row.get("speedup_vs_sklearn"), 2), fmt(row.get("time_vs_plain"), 2),
                fmt(row.get("reconstruction_error"), 4),
            ])
    header = ["implementation", "threads", "pinned (notebook path)", "s/epoch median (min–max)", "% of roofline",
              "% of own roofline (paired)", "speed-up vs sklearn", "time ÷ plain loop", "recon error, 1 epoch (test)"]
    return Table(header, lines).markdown()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per contender (median reported)")
    parser.add_argument("--pin", choices=("on", "off", "both"), default="both")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (a GPU run ignores --threads and sklearn)")
    parser.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/cd1_mnist-<device>.json)")
    parser.add_argument("--summarise", type=Path, metavar="JSON",
                        help="recompute the summaries and table of an existing results file from its epoch times")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.summarise:
        payload = json.loads(args.summarise.read_text())
        payload["runs"] = [dict(run, summary=summarise(run, payload["runs"])) for run in payload["runs"]]
        payload["table_markdown"] = table(payload["runs"])
        args.summarise.write_text(json.dumps(payload, indent=2) + "\n")
        print(payload["table_markdown"])
        return
    if args.epochs < 1 or any(t < 1 for t in args.threads):
        parser.error("--epochs and --threads must be >= 1")
    if args.device not in ("cpu", "cuda") and not args.device.startswith("cuda:"):
        parser.error(f"--device must be cpu or cuda[:n], got {args.device!r}")
    if args.worker:
        print(json.dumps(worker(args.threads[0], args.epochs, args.device)))
        return

    import torch
    from rbmlib.report import cpu_name

    if args.device != "cpu" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    pins = {"on": [True], "off": [False], "both": [True, False]}[args.pin]
    threads = args.threads if args.device == "cpu" else [1]
    device = torch.cuda.get_device_name(torch.device(args.device)) if args.device != "cpu" else cpu_name()
    output = args.output or default_output("cd1_mnist", device)
    start, load_before, runs = time.perf_counter(), os.getloadavg(), []
    for pinned in pins:
        for t in threads:
            print(f"running threads={t} pinned={pinned} ...", file=sys.stderr, flush=True)
            runs.append(run_setting(__file__, t, pinned, "--epochs", str(args.epochs), "--device", args.device))
            text = table(runs)  # written after every worker, so that a run cut short keeps what it measured
            write_results("cd1_mnist", argv, output, start, [0], device=device, load_average_before=load_before,
                          load_average_after=os.getloadavg(),
                          runs=[dict(run, summary=summarise(run, runs)) for run in runs], table_markdown=text)
    print(f"CD-1, MNIST 60000×784, 784×500, batch {BATCH}, lr {LEARNING_RATE}, float32, median of {args.epochs} "
          f"epochs; {device}; torch {torch.__version__}; load average before/after "
          f"{load_before[0]:.2f}/{os.getloadavg()[0]:.2f}\n")
    print(text)
    print(f"\nwritten {shown(output)}")


if __name__ == "__main__":
    main()
