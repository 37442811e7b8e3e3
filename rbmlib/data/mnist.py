"""MNIST (LeCun et al. 1998): the four canonical idx files under ``<root>/mnist/``, md5-checked, decoded by torchvision.

The ``.gz`` files are decompressed once into the cache (keyed by their md5); the idx header of the result is checked
(magic number, dimensions, file size) before torchvision's idx parser reads it.
"""
from __future__ import annotations

import gzip
import math
import os
import shutil
import struct
import zlib
from pathlib import Path

import torch
from torchvision.datasets import MNIST as _TorchvisionMNIST
from torchvision.datasets import VisionDataset
from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

from .files import CorruptDataError, atomic_path, cache_dir, checked_file, data_root

DATASET = "mnist"
MD5 = dict(_TorchvisionMNIST.resources)  # canonical file name -> md5 (the values published with MNIST)
MIRRORS = _TorchvisionMNIST.mirrors
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049  # idx: 0x08 (uint8) << 8 | number of dimensions
IMAGE_SHAPE = (28, 28)


def read_idx(path: str | os.PathLike, magic: int, item_shape: tuple[int, ...]) -> torch.Tensor:
    """Decode an uncompressed uint8 idx file whose items have ``item_shape``, after checking its header.

    Header: big-endian int32 magic, then one int32 per dimension (count first); the data follow, one byte each.
    """
    path = Path(path)
    n_dims = 1 + len(item_shape)
    header_size = 4 * (1 + n_dims)
    with open(path, "rb") as f:
        header = f.read(header_size)
    if len(header) < header_size:
        raise CorruptDataError(f"{path} is truncated: {len(header)} bytes, shorter than its idx header")
    found_magic, count, *shape = struct.unpack(f">{1 + n_dims}I", header)
    if found_magic != magic:
        raise CorruptDataError(f"{path} is not the idx file expected: magic {found_magic}, expected {magic}")
    if tuple(shape) != item_shape:
        raise CorruptDataError(f"{path}: items of shape {tuple(shape)}, expected {item_shape}")
    expected_size = header_size + count * math.prod(item_shape)
    if path.stat().st_size != expected_size:
        raise CorruptDataError(
            f"{path} is truncated or padded: {path.stat().st_size} bytes, its header ({count} items of shape "
            f"{item_shape}) needs {expected_size}"
        )
    return read_sn3_pascalvincent_tensor(str(path))


def _decompressed(root: Path, name: str, download: bool) -> Path:
    """The decompressed copy of the canonical ``name`` (.gz) in the cache, keyed by the .gz's md5."""
    md5 = MD5[name]
    source = checked_file(root, DATASET, name, md5, [mirror + name for mirror in MIRRORS], download)
    dest = cache_dir(DATASET) / f"{name.removesuffix('.gz')}-{md5}"
    if not dest.exists():
        with atomic_path(dest) as tmp:
            try:
                with gzip.open(source) as compressed, open(tmp, "wb") as out:
                    shutil.copyfileobj(compressed, out)
            except (OSError, EOFError, zlib.error) as error:
                raise CorruptDataError(f"{source} cannot be decompressed: {error}") from error
    return dest


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
        self.data = read_idx(_decompressed(root, f"{prefix}-images-idx3-ubyte.gz", download), IMAGE_MAGIC, IMAGE_SHAPE)
        self.targets = read_idx(_decompressed(root, f"{prefix}-labels-idx1-ubyte.gz", download), LABEL_MAGIC, ()).long()
        if len(self.data) != len(self.targets):
            raise CorruptDataError(f"MNIST {prefix}: {len(self.data)} images but {len(self.targets)} labels")

    def __len__(self) -> int:
        return len(self.data)


def load_mnist(train: bool = True, root=None, download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(X, y)``: X float32 (N, 784) = pixel / 255 in [0, 1], y int64 (N,)."""
    dataset = MNIST(root, train=train, download=download)
    return dataset.data.reshape(len(dataset), -1).float() / 255, dataset.targets
