"""The benchmarks' summary arithmetic. benchmarks/cd1_mnist.py: % of roofline is a bound for every row (each is
held to the faster of the pinned and unpinned rooflines at its thread count), and the ratios are paired over rounds.
benchmarks/cd1_anatomy.py: shares of one update from the medians of its pieces."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.cd1_anatomy import summarise as summarise_anatomy  # noqa: E402
from benchmarks.cd1_mnist import summarise  # noqa: E402


def _run(pinned: bool, roofline, rbmlib, sklearn, threads=1):
    return {"pinned": pinned, "threads": threads, "device": "cpu", "n_batches": 600, "gemm_best_s": 1e-3,
            "seconds_per_epoch": {"roofline": roofline, "rbmlib": rbmlib, "plain": rbmlib, "sklearn": sklearn},
            "reconstruction_error_1_epoch": {}}


def test_unpinned_rows_are_paired_with_their_own_roofline():
    run = _run(False, roofline=[1.0, 2.0, 1.0], rbmlib=[2.0, 2.0, 1.25], sklearn=[4.0, 4.0, 4.0])
    rows = {r["key"]: r for r in summarise(run, [run])}
    assert rows["rbmlib"]["roofline"] == 0.8  # median of 0.5, 1.0, 0.8 (a ratio of medians would say 0.5)
    assert rows["roofline"]["roofline"] == 1.0 and rows["rbmlib"]["roofline_basis"] == "paired"
    assert rows["rbmlib"]["speedup_vs_sklearn"] == 2.0


def test_rows_are_held_to_the_faster_roofline_at_their_thread_count():
    unpinned = _run(False, roofline=[1.0, 1.0, 1.0], rbmlib=[1.2] * 3, sklearn=[2.0] * 3)
    other_threads = _run(False, roofline=[0.1] * 3, rbmlib=[0.2] * 3, sklearn=[0.3] * 3, threads=2)
    pinned = _run(True, roofline=[3.0, 3.0, 3.0], rbmlib=[4.0] * 3, sklearn=[2.0] * 3)
    rows = {r["key"]: r for r in summarise(pinned, [pinned, other_threads, unpinned])}
    assert rows["sklearn"]["roofline"] == 0.5 and rows["rbmlib"]["roofline"] == 0.25  # 1.0 / median epoch
    assert rows["roofline"]["roofline"] == 1 / 3  # the pinned GEMMs themselves, at a third of the bound
    assert rows["rbmlib"]["roofline_own_paired"] == 0.75  # and against its own process's GEMM epoch, paired
    assert all(r["roofline"] <= 1 for key, r in rows.items() if key != "best_gemm_bound")
    alone = {r["key"]: r for r in summarise(pinned, [pinned])}  # no unpinned run: its own roofline, paired
    assert alone["sklearn"]["roofline"] == 1.5 and alone["sklearn"]["roofline_basis"] == "paired"
    unpinned_rows = {r["key"]: r for r in summarise(unpinned, [pinned, other_threads, unpinned])}
    assert unpinned_rows["rbmlib"]["roofline_basis"] == "paired"  # its own GEMMs are the faster: paired


def test_unpinned_rows_are_held_to_a_faster_pinned_roofline():
    unpinned = _run(False, roofline=[1.0] * 3, rbmlib=[1.25] * 3, sklearn=[2.0] * 3)
    pinned = _run(True, roofline=[0.8] * 3, rbmlib=[1.0] * 3, sklearn=[2.0] * 3)  # the pin's OpenBLAS GEMMs faster
    rows = {r["key"]: r for r in summarise(unpinned, [pinned, unpinned])}
    assert rows["rbmlib"]["roofline"] == 0.8 / 1.25 and rows["roofline"]["roofline"] == 0.8
    assert all(r["roofline"] <= 1 for key, r in rows.items() if key != "best_gemm_bound")


def test_the_roofline_compared_is_the_median_epoch_and_the_bound_row_uses_the_faster_one():
    unpinned = _run(False, roofline=[0.7, 1.0, 1.0], rbmlib=[1.25] * 3, sklearn=[2.0] * 3)  # median 1.0, best 0.7
    pinned = _run(True, roofline=[0.8] * 3, rbmlib=[1.0] * 3, sklearn=[2.0] * 3)  # faster than 1.0, slower than 0.7
    rows = {r["key"]: r for r in summarise(unpinned, [pinned, unpinned])}
    assert rows["rbmlib"]["roofline"] == 0.8 / 1.25
    assert rows["best_gemm_bound"]["roofline"] == 0.8 / (600 * 5 * 1e-3)


def test_the_anatomy_shares_come_from_the_median_of_each_piece():
    times = {"update": [1000.0, 2000.0, 1000.0], "lean": [800.0, 900.0, 1000.0], "gemms": [500.0, 800.0, 800.0],
             "draw": [100.0, 100.0, 900.0], "draw, two streams": [60.0, 50.0, 70.0], "sigmoid": [1.0, 1.0, 1.0]}
    s = summarise_anatomy({"microseconds_per_call": times})
    assert s["median_us"]["update"] == 1000 and s["median_us"]["gemms"] == 800
    assert s["roofline_share_update"] == 0.8 and s["roofline_share_lean"] == 800 / 900
    assert s["draw_share_of_update"] == 0.1
    assert s["roofline_share_update_with_two_stream_draw"] == 800 / (1000 - 100 + 60)
