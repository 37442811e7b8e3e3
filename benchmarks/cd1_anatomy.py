"""Where one CD-1 update's time goes (issue 24, target 2): a 784×500 binary RBM, a batch of 100 MNIST images,
timed piece by piece in one process per setting (pinned and unpinned, 1 and 2 threads).

Pieces, each timed as a block of ``--block`` calls, the pieces interleaved round by round (median over rounds):

* ``update``: rbmlib's ``Trainer._step``, one whole CD-1 update (plain SGD, as in ``cd1_mnist.py``);
* ``lean``: the same update written as bare torch operations (``cd1_mnist.torch_cd1_loop(lean=True)``'s step);
* ``gemms``: the update's five products alone, the roofline of ``cd1_mnist.py`` for one batch;
* ``draw``: the uniforms of h₀ ~ p(h | v), 100×500 from one Mersenne Twister stream (``torch.rand``), the one
  piece of the update that runs on one thread whatever the thread count;
* ``draw, two streams``: the route target 2 suggests, measured before any change to rbmlib: the first half of the
  uniforms from the same stream, the second half from a second generator (seeded from the first by one draw), drawn
  on a second Python thread at the same time (torch releases the GIL inside ``rand``). At one thread it is drawn
  serially, the same bits, so results would not depend on the thread count;
* ``sigmoid``: one in-place logistic pass over 100×500, an element-wise operation that ATen spreads over threads.

Each run also records the top-level ATen operations of one ``update`` and one ``lean`` step (torch's profiler).

The summary gives, per setting, ``gemms ÷ update`` (the update's share of the roofline, batch by batch), the draw's
share of the update, and what ``gemms ÷ update`` would be with the two-stream draw in its place.

    RBMBOOK_DATA=/path/to/data .venv/bin/python benchmarks/cd1_anatomy.py --threads 1 2 --rounds 30
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
from benchmarks.common import default_output, run_setting, shown, write_results  # noqa: E402

N_VISIBLE, N_HIDDEN, BATCH, LEARNING_RATE, WEIGHT_STD = 784, 500, 100, 0.05, 0.01
PIECES = ("update", "lean", "gemms", "draw", "draw, two streams", "sigmoid")


def worker(threads: int, rounds: int, block: int) -> dict:
    """Time every piece in this process at ``threads`` threads; return per-round microseconds per call."""
    import rbmlib

    pinned = rbmlib.pin_cpu_arithmetic()  # a no-op under RBMBOOK_PIN_CPU=0
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from threadpoolctl import threadpool_limits

    from rbmlib.data import load_mnist
    from rbmlib.rbm import RBM
    from rbmlib.samplers import CD
    from rbmlib.train import TrainConfig, Trainer

    torch.set_num_threads(threads)
    threadpool_limits(threads)
    torch.set_grad_enabled(False)
    x, _ = load_mnist(train=True)
    v = x[:BATCH].contiguous()
    config = TrainConfig(epochs=1, batch_size=BATCH, learning_rate=LEARNING_RATE, initial_momentum=0.0,
                         final_momentum=0.0, weight_decay=0.0)
    rbm = RBM(N_VISIBLE, N_HIDDEN, weight_std=WEIGHT_STD, generator=torch.Generator().manual_seed(0))
    trainer = Trainer(rbm, config, CD(1), torch.Generator().manual_seed(0))

    W, b, c = rbm.weight.clone(), torch.zeros(N_VISIBLE), torch.zeros(N_HIDDEN)
    g, step = torch.Generator().manual_seed(1), LEARNING_RATE / BATCH

    def lean():
        ph0 = torch.addmm(c, v, W).sigmoid_()
        u = torch.rand(ph0.shape, generator=g)
        h0 = torch.lt(u, ph0, out=u)
        v1 = torch.addmm(b, h0, W.t()).sigmoid_()
        ph1 = torch.addmm(c, v1, W).sigmoid_()
        W.addmm_(v.t(), ph0, alpha=step).addmm_(v1.t(), ph1, alpha=-step)
        b.add_(v.sum(0) - v1.sum(0), alpha=step)
        c.add_(ph0.sum(0) - ph1.sum(0), alpha=step)

    Wg, h, v1 = rbm.weight.clone(), torch.rand(BATCH, N_HIDDEN), torch.rand(BATCH, N_VISIBLE)

    def gemms():
        torch.addmm(c, v, Wg)
        torch.addmm(b, h, Wg.t())
        torch.addmm(c, v1, Wg)
        Wg.addmm_(v.t(), h, alpha=1e-12).addmm_(v1.t(), h, alpha=-1e-12)

    u = torch.empty(BATCH, N_HIDDEN)
    first, second = u[:BATCH // 2], u[BATCH // 2:]
    pool = ThreadPoolExecutor(max_workers=1)
    g_draw, g_second = torch.Generator().manual_seed(2), torch.Generator()

    def draw():
        torch.rand(u.shape, generator=g_draw, out=u)

    def draw_two_streams():
        g_second.manual_seed(int(torch.randint(2 ** 62, (), generator=g_draw)))
        if threads > 1:
            later = pool.submit(torch.rand, second.shape, generator=g_second, out=second)
            torch.rand(first.shape, generator=g_draw, out=first)
            later.result()
        else:
            torch.rand(first.shape, generator=g_draw, out=first)
            torch.rand(second.shape, generator=g_second, out=second)

    p = torch.rand(BATCH, N_HIDDEN)
    pieces = {"update": lambda: trainer._step(v, LEARNING_RATE, 0.0), "lean": lean, "gemms": gemms, "draw": draw,
              "draw, two streams": draw_two_streams, "sigmoid": p.sigmoid_}
    times = {name: [] for name in PIECES}
    for fn in pieces.values():  # warm-up
        for _ in range(block):
            fn()
    for _ in range(rounds):
        for name in PIECES:
            start = time.perf_counter()
            for _ in range(block):
                pieces[name]()
            times[name].append(1e6 * (time.perf_counter() - start) / block)
    pool.shutdown()
    return {"threads": threads, "pinned": pinned, "rounds": rounds, "block": block,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(), "microseconds_per_call": times,
            "operations_per_call": {name: operations(pieces[name]) for name in ("update", "lean")}}


def operations(fn) -> dict:
    """The top-level ATen operations one call of ``fn`` runs, counted by torch's profiler: {name: count}."""
    from collections import Counter

    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return dict(Counter(e.name for e in prof.events() if e.cpu_parent is None).most_common())


def summarise(run: dict) -> dict:
    median = {name: statistics.median(t) for name, t in run["microseconds_per_call"].items()}
    update, draw, split = median["update"], median["draw"], median["draw, two streams"]
    return {"median_us": median, "roofline_share_update": median["gemms"] / update,
            "roofline_share_lean": median["gemms"] / median["lean"], "draw_share_of_update": draw / update,
            "roofline_share_update_with_two_stream_draw": median["gemms"] / (update - draw + split)}


def table(runs: list[dict]) -> str:
    from rbmlib.report import Table

    rows = []
    for run in runs:
        s = summarise(run)
        rows.append([str(run["threads"]), "yes" if run["pinned"] else "no",
                     *(f"{s['median_us'][name]:.0f}" for name in PIECES),
                     f"{100 * s['roofline_share_update']:.0f}%", f"{100 * s['roofline_share_lean']:.0f}%",
                     f"{100 * s['draw_share_of_update']:.1f}%",
                     f"{100 * s['roofline_share_update_with_two_stream_draw']:.0f}%",
                     " / ".join(str(sum(run["operations_per_call"][name].values())) for name in ("update", "lean"))])
    header = ["threads", "pinned", *(f"{name} (µs)" for name in PIECES), "gemms ÷ update", "gemms ÷ lean",
              "draw ÷ update", "gemms ÷ update, two-stream draw", "operations: update / lean"]
    return Table(header, rows).markdown()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=30, help="rounds; each times every piece once (median)")
    parser.add_argument("--block", type=int, default=50, help="calls per timing")
    parser.add_argument("--pin", choices=("on", "off", "both"), default="both")
    parser.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/cd1_anatomy-<cpu>.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.block < 1 or any(t < 1 for t in args.threads):
        parser.error("--rounds, --block and --threads must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.threads[0], args.rounds, args.block)))
        return

    start, load_before, runs = time.perf_counter(), os.getloadavg(), []
    for pinned in {"on": [True], "off": [False], "both": [True, False]}[args.pin]:
        for t in args.threads:
            print(f"running threads={t} pinned={pinned} ...", file=sys.stderr, flush=True)
            runs.append(run_setting(__file__, t, pinned, "--rounds", str(args.rounds), "--block", str(args.block)))
    text = table(runs)
    output = write_results("cd1_anatomy", argv, args.output or default_output("cd1_anatomy"), start, [0, 1, 2],
                           load_average_before=load_before, load_average_after=os.getloadavg(),
                           runs=[dict(run, summary=summarise(run)) for run in runs], table_markdown=text)
    print(text)
    print(f"\nwritten {shown(output)}")


if __name__ == "__main__":
    main()
