"""rbmlib.checkpoint: atomic writes under concurrent writers and kill -9, checksummed checkpoints that refuse damage."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import rbmlib.checkpoint as checkpoint
from rbmlib.checkpoint import CheckpointError, atomic_write_bytes, atomic_write_text, load_checkpoint, save_checkpoint

REPO = Path(__file__).resolve().parents[1]


def run_python(code: str, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_atomic_write_replaces_the_whole_file_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    atomic_write_text(path, '{"a": 1}')
    assert path.read_text() == '{"a": 1}'

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"new")
    assert path.read_text() == '{"a": 1}' and os.listdir(tmp_path) == ["results.json"]


WRITER = """
    import sys
    from rbmlib.checkpoint import atomic_write_bytes
    path, mark = sys.argv[1], sys.argv[2].encode()
    for i in range(150):
        atomic_write_bytes(path, mark * (1000 + 4000 * (i % 5)))
"""


def test_concurrent_writers_never_fail_and_readers_never_see_partial_content(tmp_path):
    path = tmp_path / "results.json"
    atomic_write_bytes(path, b"0" * 1000)
    writers = [run_python(WRITER, path, mark) for mark in "ab"]
    reads = 0
    while any(writer.poll() is None for writer in writers):
        data = path.read_bytes()  # never FileNotFoundError: the name always holds a complete file
        assert len(set(data)) == 1 and len(data) in {1000 + 4000 * k for k in range(5)}, len(data)
        reads += 1
    for writer in writers:
        assert writer.wait() == 0, writer.stderr.read()
    assert reads > 10 and path.read_bytes()[:1] in (b"a", b"b")
    assert os.listdir(tmp_path) == ["results.json"]


def trainer_like_state():
    generator = torch.Generator().manual_seed(5)
    return {"rbm": {"weight": torch.randn(20, 10, generator=generator)}, "generator": generator.get_state(),
            "epoch": 3, "history": [{"epoch": 1, "reconstruction_error": 0.25}], "config": {"batch_size": 10}}


def test_a_checkpoint_round_trips(tmp_path):
    state = trainer_like_state()
    save_checkpoint(state, tmp_path / "run.ckpt")
    loaded = load_checkpoint(tmp_path / "run.ckpt")
    assert torch.equal(loaded["rbm"]["weight"], state["rbm"]["weight"])
    assert torch.equal(loaded["generator"], state["generator"]) and loaded["history"] == state["history"]


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "empty", "plain torch.save"])
def test_a_damaged_checkpoint_is_refused_naming_the_file(tmp_path, damage):
    path = tmp_path / "run.ckpt"
    save_checkpoint(trainer_like_state(), path)
    raw = bytearray(path.read_bytes())
    if damage == "flipped byte":
        raw[len(raw) // 2] ^= 0x01
    elif damage == "truncated":
        raw = raw[: len(raw) * 2 // 3]
    elif damage == "empty":
        raw = b""
    else:
        torch.save(trainer_like_state(), path)
        raw = path.read_bytes()
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"
    save_checkpoint({"epoch": 1}, path)
    with pytest.raises(Exception):
        save_checkpoint({"epoch": 2, "callback": lambda: None}, path)  # cannot be pickled
    assert load_checkpoint(path) == {"epoch": 1} and os.listdir(tmp_path) == ["run.ckpt"]


SAVER = """
    import sys, torch
    from rbmlib.checkpoint import save_checkpoint
    weight = torch.zeros(1_000_000)
    for i in range(1_000_000):
        save_checkpoint({"i": i, "weight": weight.fill_(i)}, sys.argv[1])
        print(i, flush=True)
"""


def test_kill_9_while_saving_leaves_a_complete_checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"
    saver = run_python(SAVER, path)
    assert saver.stdout.readline().strip() == "0", saver.stderr.read()
    time.sleep(0.3)  # a 4 MB checkpoint is being rewritten in a loop
    os.kill(saver.pid, signal.SIGKILL)
    saver.wait(timeout=10)
    state = load_checkpoint(path)
    assert torch.equal(state["weight"], torch.full((1_000_000,), float(state["i"])))
