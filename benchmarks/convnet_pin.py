"""What the notebooks' arithmetic pin costs a small conv net: one epoch of SGD on CIFAR-sized inputs, pinned
(``rbmlib.pin_cpu_arithmetic()``: ATen/oneDNN capped at AVX2, torch's matrix products on numpy's OpenBLAS with its
Haswell kernels; MKL ``COMPATIBLE`` before 2026-12-02) against unpinned, at each thread count.

The net is the He chapter's `ci` net with channel-wise PReLU: conv1 (5×5, 8 channels) - max-pool - two 3×3 convs
of 16 channels - max-pool - two 3×3 convs of 32 channels - max-pool - a hidden fully connected layer of 64 units -
10-way output, PReLU after every conv and hidden layer; 5,000 random 3×32×32 images (the time does not depend on
the pixel values), mini-batches of 64, SGD with momentum 0.9, as the chapter's `ci` training. Each (pin, threads) setting runs in its own process
(threads fixed before any work); the settings alternate for ``--rounds`` rounds, so that the VM's drift hits them
alike, and the table shows median seconds per epoch and the paired ratio pinned ÷ unpinned at each thread count.

    .venv/bin/python benchmarks/convnet_pin.py --threads 1 2 --rounds 3
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
from benchmarks.common import default_output, paired_ratio, run_setting, shown  # noqa: E402
N_IMAGES, BATCH = 5_000, 64


def epoch_seconds(threads: int) -> float:
    """Seconds of one training epoch of the net, in this process."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)

    def conv(c_in, c_out, k=3):
        return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.PReLU(c_out, 0.25)]

    net = nn.Sequential(*conv(3, 8, 5), nn.MaxPool2d(2), *conv(8, 16), *conv(16, 16), nn.MaxPool2d(2),
                        *conv(16, 32), *conv(32, 32), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 64),
                        nn.PReLU(64, 0.25), nn.Linear(64, 10))
    x, y = torch.rand(N_IMAGES, 3, 32, 32), torch.randint(0, 10, (N_IMAGES,))
    optimiser = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    start = time.perf_counter()
    for k in range(0, N_IMAGES, BATCH):
        optimiser.zero_grad()
        nn.functional.cross_entropy(net(x[k:k + BATCH]), y[k:k + BATCH]).backward()
        optimiser.step()
    return time.perf_counter() - start


def worker(threads: int) -> dict:
    import rbmlib

    pinned = rbmlib.pin_cpu_arithmetic()  # before torch loads; a no-op under RBMBOOK_PIN_CPU=0
    import torch

    return {"threads": threads, "pinned": pinned, "seconds": epoch_seconds(threads),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/convnet_pin-<cpu>-<isa>.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or any(t < 1 for t in args.threads):
        parser.error("--rounds and --threads must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.threads[0])))
        return

    from rbmlib.report import Table, cpu_name, fmt, provenance

    start, load_before = time.perf_counter(), os.getloadavg()
    seconds = {(t, p): [] for t in args.threads for p in (True, False)}
    for _ in range(args.rounds):
        for threads, pinned in seconds:
            result = run_setting(__file__, threads, pinned)
            seconds[threads, pinned].append(result["seconds"])
    rows = [[str(t), fmt(statistics.median(seconds[t, True]), 2), fmt(statistics.median(seconds[t, False]), 2),
             fmt(paired_ratio(seconds[t, True], seconds[t, False]), 2)] for t in args.threads]
    text = Table(["threads", "pinned s/epoch (median)", "unpinned s/epoch (median)", "pinned ÷ unpinned (paired)"],
                 rows).markdown()
    output = args.output or default_output("convnet_pin")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "convnet_pin", "command": " ".join(["benchmarks/convnet_pin.py"] + (argv or sys.argv[1:])),
        "device": cpu_name(), "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "seconds": {f"threads={t} pinned={p}": v for (t, p), v in seconds.items()}, "table_markdown": text,
        "provenance": provenance(seeds=[0], wall_time_s=time.perf_counter() - start)}, indent=2) + "\n")
    print(text)
    print(f"\nwritten {shown(output)}")


if __name__ == "__main__":
    main()
