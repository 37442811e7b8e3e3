"""Files that are whole or absent: atomic writes and checksummed checkpoints (as pip installs and Lightning saves).

* ``atomic_path(dest)``: build a file or folder under a unique temporary name beside ``dest``, then ``os.replace`` it
  into place; on failure the temporary is deleted. Readers see the old or the new ``dest``, never a partial one, and
  concurrent writers never collide (each has its own temporary).
* ``atomic_write_bytes`` / ``atomic_write_text``: a whole file written that way, flushed to disk first.
* ``save_checkpoint(obj, path)`` / ``load_checkpoint(path)``: ``torch.save`` bytes behind a one-line header with
  their size and SHA-256, written atomically; loading refuses a truncated or altered file, naming it (torch checks
  no checksum: one flipped byte would load as other weights).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

MAGIC = b"rbmlib-checkpoint"


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, altered or not a checkpoint; it was not loaded."""


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest`` (a file or a folder): renamed to ``dest`` on success, else deleted."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically (unique temporary beside it, fsync, ``os.replace``)."""
    with atomic_path(Path(path)) as tmp, open(tmp, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Replace ``path`` by ``text`` (UTF-8) atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_checkpoint(obj, path: str | os.PathLike) -> None:
    """``torch.save(obj)`` to ``path`` atomically, behind a header ``rbmlib-checkpoint <size> <sha256>``."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    payload = buffer.getvalue()
    header = b"%s %d %s\n" % (MAGIC, len(payload), hashlib.sha256(payload).hexdigest().encode())
    atomic_write_bytes(path, header + payload)


def load_checkpoint(path: str | os.PathLike, map_location=None):
    """The object saved by ``save_checkpoint``, after checking its size and SHA-256 (``torch.load``, weights only)."""
    import torch

    raw = Path(path).read_bytes()
    header, _, payload = raw.partition(b"\n")
    fields = header.split(b" ")
    if len(fields) != 3 or fields[0] != MAGIC or not fields[1].isdigit():
        raise CheckpointError(f"{path} is not an rbmlib checkpoint (no '{MAGIC.decode()}' header): write it with "
                              "rbmlib.checkpoint.save_checkpoint; a plain torch.save file loads with torch.load")
    if len(payload) != int(fields[1]):
        raise CheckpointError(f"{path} is truncated or padded: {len(payload)} bytes after its header, which says "
                              f"{int(fields[1])}. It was not loaded: use an earlier checkpoint or start again")
    if hashlib.sha256(payload).hexdigest().encode() != fields[2]:
        raise CheckpointError(f"{path} is corrupt: its SHA-256 differs from the one saved in its header. It was not "
                              "loaded: use an earlier checkpoint or start again")
    return torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
