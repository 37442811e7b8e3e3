"""NORB (LeCun, Huang & Bottou 2004): small NORB and jittered-cluttered NORB, and a named stand-in when absent.

Binary matrix format (the NORB readme, cs.nyu.edu/~ylclab/data/norb-v1.0-small/readme): little-endian int32 magic
(0x1E3D4C55 uint8, 0x1E3D4C54 int32, 0x1E3D4C51 float32, 0x1E3D4C53 float64, 0x1E3D4C56 int16), int32 ndim, then
max(ndim, 3) int32 dimensions (unused ones are 1), then the data, little-endian, row-major. Files as published
(optionally ``.gz``), under ``<root>/norb/``:

* small NORB: ``smallnorb-5x46789x9x18x6x2x96x96-training-{dat,cat,info}.mat`` and
  ``smallnorb-5x01235x9x18x6x2x96x96-testing-...``: 24,300 stereo pairs (2, 96, 96) per split, 5 classes;
* jittered-cluttered NORB: ``norb-5x46789x9x18x6x2x108x108-training-{01..10}-{dat,cat,info}.mat`` and
  ``norb-5x01235x9x18x6x2x108x108-testing-{01,02}-...``: 29,160 pairs (2, 108, 108) per file, 6 classes (5: none).

No md5 of the NORB files is known here, so the header and size of each file are validated instead. Images are
downsampled to 2×32×32 (bilinear, antialiased) as Nair & Hinton (2010) did; standardisation is left to the caller
(``Standardiser(per_pixel_std=False)`` is their recipe). Downsampled arrays are cached (checksummed ``.npz``), keyed
by the files' sizes and modification times.
"""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.functional as TF

from .cifar10 import load_cifar10
from .files import CorruptDataError, MissingDataError, cache_dir, cached_arrays, data_root, missing_message

DATASET = "norb"
MAGIC_DTYPES = {0x1E3D4C55: "<u1", 0x1E3D4C54: "<i4", 0x1E3D4C51: "<f4", 0x1E3D4C53: "<f8", 0x1E3D4C56: "<i2"}
CLASSES = ("animal", "human", "airplane", "truck", "car", "none")
SMALL = {"train": ["smallnorb-5x46789x9x18x6x2x96x96-training"], "test": ["smallnorb-5x01235x9x18x6x2x96x96-testing"]}
JITTERED = {
    "train": [f"norb-5x46789x9x18x6x2x108x108-training-{i:02d}" for i in range(1, 11)],
    "test": [f"norb-5x01235x9x18x6x2x108x108-testing-{i:02d}" for i in range(1, 3)],
}
KINDS = {"small": ("small NORB", SMALL), "jittered-cluttered": ("Jittered-Cluttered NORB", JITTERED)}


def read_norb_matrix(path: str | Path) -> np.ndarray:
    """Decode one NORB binary matrix file (``.mat`` or ``.mat.gz``) after checking its magic and size."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise CorruptDataError(f"{path} cannot be read: {error}") from error
    if len(raw) < 20:
        raise CorruptDataError(f"{path} is truncated: {len(raw)} bytes, shorter than a NORB header")
    magic, ndim = np.frombuffer(raw, "<i4", 2).tolist()
    if magic not in MAGIC_DTYPES or not 1 <= ndim <= 16:
        raise CorruptDataError(f"{path} is not a NORB binary matrix: magic {magic:#x}, ndim {ndim}")
    header_size = 4 * (2 + max(ndim, 3))
    if len(raw) < header_size:
        raise CorruptDataError(f"{path} is truncated: {len(raw)} bytes, its header needs {header_size}")
    shape = tuple(np.frombuffer(raw, "<i4", ndim, offset=8).tolist())
    dtype = np.dtype(MAGIC_DTYPES[magic])
    expected = header_size + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise CorruptDataError(f"{path} is truncated or padded: {len(raw)} bytes, its header (shape {shape}, "
                               f"{dtype}) needs {expected}")
    return np.frombuffer(raw, dtype, offset=header_size).reshape(shape)


def read_norb_chunk(dat: Path, cat: Path, size: int = 32, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Stereo pairs of ``dat`` downsampled to uint8 (N, 2, size, size) and the labels of ``cat`` as int64 (N,)."""
    pairs, labels = read_norb_matrix(dat), read_norb_matrix(cat)
    if pairs.ndim != 4 or pairs.shape[1] != 2 or pairs.dtype != np.uint8:
        raise CorruptDataError(f"{dat}: expected uint8 stereo pairs (N, 2, H, W), got {pairs.dtype} {pairs.shape}")
    if labels.ndim != 1 or len(labels) != len(pairs):
        raise CorruptDataError(f"{cat}: {labels.shape} labels for the {len(pairs)} pairs of {dat.name}")
    small = np.empty((len(pairs), 2, size, size), dtype=np.uint8)
    for start in range(0, len(pairs), batch):
        chunk = torch.from_numpy(pairs[start:start + batch].astype(np.float32))
        small[start:start + batch] = TF.resize(chunk, [size, size], antialias=True).round_().clamp_(0, 255).numpy()
    return small, labels.astype(np.int64)


def _find(folder: Path, name: str) -> Path | None:
    return next((folder / f"{name}.mat{gz}" for gz in ("", ".gz") if (folder / f"{name}.mat{gz}").exists()), None)


def load_norb(kind: str = "jittered-cluttered", train: bool = True, root=None, size: int = 32):
    """NORB as ``(X, y, variant)``: X float32 (N, 2, size, size) = pixel / 255 in [0, 1], y int64 (N,).

    ``kind``: ``"jittered-cluttered"`` (6 classes, Nair & Hinton's data) or ``"small"`` (5 classes).
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {sorted(KINDS)}")
    root = data_root(root)
    title, layout = KINDS[kind]
    chunks = []
    for stem in layout["train" if train else "test"]:
        files = [_find(root / DATASET, f"{stem}-{part}") for part in ("dat", "cat")]
        for part, path in zip(("dat", "cat"), files):
            if path is None:
                raise MissingDataError(missing_message(
                    root, DATASET, f"{stem}-{part}.mat", "NORB cannot be downloaded automatically: copy the "
                    "published files (cs.nyu.edu/~ylclab/data/norb-v1.0 or norb-v1.0-small) there."))
        stamp = hashlib.md5(" ".join(f"{p.name} {p.stat().st_size} {p.stat().st_mtime_ns}" for p in files).encode())
        arrays = cached_arrays(cache_dir(DATASET) / f"{stem}-{size}-{stamp.hexdigest()}.npz",
                               lambda: dict(zip(("images", "labels"), read_norb_chunk(*files, size=size))))
        chunks.append((arrays["images"], arrays["labels"]))
    X = torch.from_numpy(np.concatenate([images for images, _ in chunks])).float().div_(255)
    y = torch.from_numpy(np.concatenate([labels for _, labels in chunks]))
    return X, y, f"{title}, stereo 2×{size}×{size}"


def norb_or_standin(root=None, train: bool = True) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Jittered-cluttered NORB (2×32×32, 6 classes) if present, else a stand-in of real images, named in ``variant``.

    Stand-in: CIFAR-10 (as ``load_cifar10`` finds it) converted to grey-scale (ITU-R 601 luma), (N, 1, 32, 32),
    10 classes. Grey-scale because NORB is; one channel, not a copied "stereo" pair, because a duplicated channel
    adds no information and only doubles perfectly correlated visible units; all 10 classes because CIFAR-10 has
    no counterpart of NORB's "human" and "none" classes. Models must take their input size from ``X.shape``.
    """
    root = data_root(root)
    if _find(root / DATASET, JITTERED["train" if train else "test"][0] + "-dat") is not None:
        return load_norb("jittered-cluttered", train=train, root=root)
    X, y, variant = load_cifar10(train=train, root=root)
    return (TF.rgb_to_grayscale(X), y,
            f"stand-in for NORB: {variant}, grey-scale 32×32, 10 classes — NORB not found under {root / DATASET}")
