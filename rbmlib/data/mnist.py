"""MNIST (LeCun et al. 1998): the four canonical idx files under ``<root>/mnist/``, md5-checked, then decoded.

The ``.gz`` files are decompressed in memory on every load (a fraction of a second), so no decoded copy exists that
could go stale or be altered; the idx header (magic number, dimensions, size) is checked before the data are read.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import torch
from torchvision.datasets import MNIST as _TorchvisionMNIST
from torchvision.datasets import VisionDataset

from .files import CorruptDataError, checked_file, data_root

DATASET = "mnist"
MD5 = dict(_TorchvisionMNIST.resources)  # canonical file name -> md5 (the values published with MNIST)
MIRRORS = _TorchvisionMNIST.mirrors
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049  # idx: 0x08 (uint8) << 8 | number of dimensions
IMAGE_SHAPE = (28, 28)


def read_idx(path: str | os.PathLike, magic: int, item_shape: tuple[int, ...]) -> torch.Tensor:
    """Decode a uint8 idx file (``.gz`` or not) whose items have ``item_shape``, after checking its header.

    Header: big-endian int32 magic, then one int32 per dimension (count first); the data follow, one byte each.
    """
    path = Path(path)
    compressed = path.suffix == ".gz"
    try:
        with (gzip.open if compressed else open)(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise CorruptDataError(f"{path} cannot be {'decompressed' if compressed else 'read'}: {error}") from error
    n_dims = 1 + len(item_shape)
    header_size = 4 * (1 + n_dims)
    if len(raw) < header_size:
        raise CorruptDataError(f"{path} is truncated: {len(raw)} bytes, shorter than its idx header")
    found_magic, count, *shape = struct.unpack_from(f">{1 + n_dims}I", raw)
    if found_magic != magic:
        raise CorruptDataError(f"{path} is not the idx file expected: magic {found_magic}, expected {magic}")
    if tuple(shape) != item_shape:
        raise CorruptDataError(f"{path}: items of shape {tuple(shape)}, expected {item_shape}")
    expected_size = header_size + count * math.prod(item_shape)
    if len(raw) != expected_size:
        raise CorruptDataError(
            f"{path} is truncated or padded: {len(raw)} bytes, its header ({count} items of shape "
            f"{item_shape}) needs {expected_size}"
        )
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8, offset=header_size).view(count, *item_shape)


def _source(root: Path, name: str, download: bool) -> Path:
    """The md5-checked canonical ``name`` (.gz), downloaded first if absent and allowed."""
    return checked_file(root, DATASET, name, MD5[name], [mirror + name for mirror in MIRRORS], download)


class MNIST(VisionDataset):
    """MNIST in torchvision's style: ``.data`` uint8 (N, 28, 28), ``.targets`` int64 (N,), items (PIL image, int).

    Reads ``<root>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`` (root: see ``rbmlib.data.files``).
    """

    classes = _TorchvisionMNIST.classes
    __getitem__ = _TorchvisionMNIST.__getitem__

    def __init__(self, root=None, train: bool = True, download: bool = True, transform=None, target_transform=None):
        root = data_root(root)
        super().__init__(str(root), transform=transform, target_transform=target_transform)
        self.train = train
        prefix = "train" if train else "t10k"
        self.data = read_idx(_source(root, f"{prefix}-images-idx3-ubyte.gz", download), IMAGE_MAGIC, IMAGE_SHAPE)
        self.targets = read_idx(_source(root, f"{prefix}-labels-idx1-ubyte.gz", download), LABEL_MAGIC, ()).long()
        if len(self.data) != len(self.targets):
            raise CorruptDataError(f"MNIST {prefix}: {len(self.data)} images but {len(self.targets)} labels")

    def __len__(self) -> int:
        return len(self.data)


def load_mnist(train: bool = True, root=None, download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(X, y)``: X float32 (N, 784) = pixel / 255 in [0, 1], y int64 (N,).

    Parameters
    ----------
    train : bool
        The 60,000 training images (True) or the 10,000 test images.
    root : str or path, optional
        Data root; default ``$RBMBOOK_DATA``, else ``~/.cache/rbmbook`` (see ``rbmlib.data.files``).
    download : bool
        Fetch missing files from the canonical mirrors.

    Returns
    -------
    tuple of torch.Tensor
        X of shape (N, 784), float32 in [0, 1], and the labels y of shape (N,), int64.
    """
    dataset = MNIST(root, train=train, download=download)
    return dataset.data.reshape(len(dataset), -1).float() / 255, dataset.targets
