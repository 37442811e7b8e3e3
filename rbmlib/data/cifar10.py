"""CIFAR-10 (Krizhevsky 2009): the canonical python batches when present, else the JPEG q75 copy read from its zip.

Looked for under ``<root>/cifar10/``, in this order:

1. ``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz`` (md5-checked, unpacked into the cache, never beside the
   data), read by ``torchvision.datasets.CIFAR10``: variant ``"CIFAR-10"``. With ``download=True`` the archive is
   fetched when neither is there.
2. ``cifar-10-images.zip`` (``{train,test}/<class>/NNNN.jpg``, 32×32 RGB JPEG at quality 75): decoded straight from
   the zip with PIL, in a fixed order (class in canonical order, then file name), and cached as a checksummed
   ``.npz`` keyed by the zip's md5: variant ``"CIFAR-10 (JPEG q75 copy)"``. Its pixels differ from the originals by
   the JPEG error, and the order within a split is not the batches' order.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.datasets import CIFAR10 as _TorchvisionCIFAR10
from torchvision.datasets import VisionDataset
from torchvision.datasets.utils import extract_archive

from .files import (
    CorruptDataError, MissingDataError, build_once, cache_dir, cached_arrays, checked_file, data_root, find_file,
    missing_message,
)

DATASET = "cifar10"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CANONICAL_VARIANT = "CIFAR-10"
JPEG_VARIANT = "CIFAR-10 (JPEG q75 copy)"
ZIP_NAME, ZIP_MD5 = "cifar-10-images.zip", "649a721f144b44405e62ed433227ce29"  # md5: see shared/data/SOURCES.md
ARCHIVE_NAME, ARCHIVE_MD5 = _TorchvisionCIFAR10.filename, _TorchvisionCIFAR10.tgz_md5
BATCHES_FOLDER = _TorchvisionCIFAR10.base_folder


def _canonical_root(root: Path, download: bool) -> Path | None:
    """A folder holding ``cifar-10-batches-py`` (the data root's, or one unpacked in the cache), else None."""
    if (root / DATASET / BATCHES_FOLDER).is_dir():
        return root / DATASET
    if find_file(root, DATASET, ARCHIVE_NAME) is None and not download:
        return None
    archive = checked_file(root, DATASET, ARCHIVE_NAME, ARCHIVE_MD5, [_TorchvisionCIFAR10.url], download)
    unpacked = cache_dir(DATASET) / f"python-{ARCHIVE_MD5}"
    return build_once(unpacked, lambda tmp: extract_archive(str(archive), str(tmp)))


def decode_jpeg_zip(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode the zip's ``<split>/<class>/*.jpg``: uint8 images (N, 32, 32, 3), int64 labels; class, then name order."""
    with zipfile.ZipFile(path) as archive:
        entries = []
        for name in archive.namelist():
            parts = name.split("/")
            if len(parts) == 3 and parts[0] == split and parts[2]:
                if parts[1] not in CLASSES:
                    raise CorruptDataError(f"{path}: entry {name!r} is in an unknown class folder {parts[1]!r}")
                entries.append((CLASSES.index(parts[1]), parts[2], name))
        if not entries:
            raise CorruptDataError(f"{path} holds no {split}/<class>/*.jpg images")
        entries.sort()
        images = np.empty((len(entries), 32, 32, 3), dtype=np.uint8)
        for i, (_, _, name) in enumerate(entries):
            try:
                image = Image.open(io.BytesIO(archive.read(name))).convert("RGB")
            except (UnidentifiedImageError, OSError, zipfile.BadZipFile) as error:
                raise CorruptDataError(f"{path}: entry {name!r} is not a readable image ({error})") from error
            if image.size != (32, 32):
                raise CorruptDataError(f"{path}: entry {name!r} is {image.size[0]}×{image.size[1]}, expected 32×32")
            images[i] = np.asarray(image)
    return images, np.array([label for label, _, _ in entries], dtype=np.int64)


def _jpeg_copy(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The JPEG copy's split, decoded once and then read from the cache (keyed by the zip's md5)."""
    path = checked_file(root, DATASET, ZIP_NAME, ZIP_MD5)
    arrays = cached_arrays(cache_dir(DATASET) / f"jpeg-{ZIP_MD5}-{split}.npz",
                           lambda: dict(zip(("images", "labels"), decode_jpeg_zip(path, split))))
    return arrays["images"], arrays["labels"]


class CIFAR10(VisionDataset):
    """CIFAR-10 in torchvision's style: ``.data`` uint8 (N, 32, 32, 3), ``.targets`` list, ``.classes``, ``.variant``.

    ``.variant`` names the data actually read: ``"CIFAR-10"`` or ``"CIFAR-10 (JPEG q75 copy)"`` (see the module).
    """

    classes = list(CLASSES)
    __getitem__ = _TorchvisionCIFAR10.__getitem__

    def __init__(self, root=None, train: bool = True, download: bool = False, transform=None, target_transform=None):
        root = data_root(root)
        super().__init__(str(root), transform=transform, target_transform=target_transform)
        self.train = train
        canonical = _canonical_root(root, download)
        if canonical is not None:
            try:
                batches = _TorchvisionCIFAR10(str(canonical), train=train)
            except RuntimeError as error:
                remedy = "" if canonical.is_relative_to(root) else (
                    f" It was unpacked into the cache from the md5-checked archive: delete {canonical} and it is "
                    "unpacked again.")
                raise CorruptDataError(f"{canonical / BATCHES_FOLDER}: {error}{remedy}") from error
            self.data, self.targets, self.variant = batches.data, list(batches.targets), CANONICAL_VARIANT
        elif find_file(root, DATASET, ZIP_NAME) is not None:
            images, labels = _jpeg_copy(root, "train" if train else "test")
            self.data, self.targets, self.variant = images, labels.tolist(), JPEG_VARIANT
        else:
            raise MissingDataError(missing_message(
                root, DATASET, f"{ARCHIVE_NAME} (or {BATCHES_FOLDER}/, or {ZIP_NAME})",
                f"Pass download=True to fetch {ARCHIVE_NAME} (md5 {ARCHIVE_MD5}), or copy one of them there.",
            ))

    def __len__(self) -> int:
        return len(self.data)


def load_cifar10(train: bool = True, root=None, download: bool = False) -> tuple[torch.Tensor, torch.Tensor, str]:
    """CIFAR-10 as ``(X, y, variant)``: X float32 (N, 3, 32, 32) = pixel / 255 in [0, 1], y int64 (N,)."""
    dataset = CIFAR10(root, train=train, download=download)
    X = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).to(torch.float32, memory_format=torch.contiguous_format)
    return X.div_(255), torch.tensor(dataset.targets, dtype=torch.int64), dataset.variant
