"""Labeled Faces in the Wild face verification: View 2 as Nair & Hinton (2010) used it, View 1 for development.

Under ``<root>/lfw/``: the protocol files (View 2: ``pairs.txt``, header ``<folds>\\t<n>``, then per fold n matched
lines ``name i j`` and n mismatched lines ``name_a i name_b j``; View 1: ``pairsDevTrain.txt`` and
``pairsDevTest.txt``, one fold each; md5s from torchvision's LFW table) and the images of one
release, ``<folder>/<Name>/<Name>_<NNNN>.jpg``, either unpacked there or as the canonical archive (``lfw.tgz``,
``lfw-funneled.tgz``, ``lfw-deepfunneled.tgz``), which is then unpacked into the cache, never beside the data.

Preprocessing (Nair & Hinton 2010, §5): central 144×144 crop of the 250×250 image, downsampled to size×size colour
(bilinear with antialiasing). The paper also rotates and scales each face so that the eyes coincide; that step is
**not** done here. The deep-funneled (and funneled) releases are already aligned by congealing, which stands in for
it; with ``image_set="original"`` the faces are unaligned. Standardisation is left to ``Standardiser``, fitted on a
fold's training faces only.
"""
from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image, UnidentifiedImageError
from torchvision.datasets.lfw import _LFW
from torchvision.datasets.utils import extract_archive

from .files import (
    CorruptDataError, MissingDataError, build_once, cache_dir, cached_arrays, checked_file, data_root, find_file,
    missing_message,
)

DATASET = "lfw"
IMAGE_SETS = dict(_LFW.file_dict)  # image_set -> (folder, archive, archive md5)
CHECKSUMS = dict(_LFW.checksums)  # protocol file -> md5
URL_PREFIX = _LFW.download_url_prefix
RELEASE_NAMES = {
    "original": "LFW (original, unaligned)", "funneled": "LFW funneled", "deepfunneled": "LFW deep-funneled",
}
IMAGE_SIZE, CROP = 250, 144
# The LFW protocol: choose models and hyper-parameters on View 1, report on View 2 only.
VIEWS = {1: ("pairsDevTrain.txt", "pairsDevTest.txt"), 2: ("pairs.txt",)}

Pair = tuple[str, int, str, int]  # name_a, image number a, name_b, image number b


def read_pairs(path: Path) -> list[tuple[list[Pair], list[Pair]]]:
    """Parse a pairs file into folds of (matched pairs, mismatched pairs); a one-number header means one fold."""
    lines = path.read_text().splitlines()
    try:
        header = [int(field) for field in lines[0].split()]
        n_folds, n = header if len(header) == 2 else (1, header[0])
    except (IndexError, ValueError) as error:
        raise CorruptDataError(f"{path}: header {lines[:1]} is not '<folds>\\t<pairs per class>'") from error
    body = [line.split("\t") for line in lines[1:] if line.strip()]
    if len(body) != 2 * n * n_folds:
        raise CorruptDataError(f"{path}: {len(body)} pairs, header announces {n_folds} folds × 2 × {n}")
    folds = []
    for start in range(0, len(body), 2 * n):
        matched, mismatched = [], []
        for number, fields in enumerate(body[start:start + 2 * n], start=start + 2):
            try:
                if len(matched) < n and len(fields) == 3:
                    matched.append((fields[0], int(fields[1]), fields[0], int(fields[2])))
                elif len(matched) == n and len(fields) == 4:
                    mismatched.append((fields[0], int(fields[1]), fields[2], int(fields[3])))
                else:
                    raise ValueError("wrong number of fields")
            except ValueError as error:
                raise CorruptDataError(f"{path}, line {number}: {fields} is not the expected "
                                       f"{'matched' if len(matched) < n else 'mismatched'} pair ({error})") from error
        folds.append((matched, mismatched))
    return folds


def image_name(person: str, number: int) -> str:
    return f"{person}/{person}_{number:04d}.jpg"


def image_folder(root: Path, image_set: str, download: bool) -> Path:
    """The folder of one release's images: unpacked under ``<root>/lfw``, else its archive unpacked into the cache."""
    if image_set not in IMAGE_SETS:
        raise ValueError(f"image_set {image_set!r}: expected one of {sorted(IMAGE_SETS)}")
    folder, archive_name, md5 = IMAGE_SETS[image_set]
    if (root / DATASET / folder).is_dir():
        return root / DATASET / folder
    if find_file(root, DATASET, archive_name) is None and not download:
        raise MissingDataError(missing_message(
            root, DATASET, f"{folder}/ (or {archive_name})",
            f"Copy the unpacked folder or {archive_name} (md5 {md5}) there, or pass download=True.",
        ))
    archive = checked_file(root, DATASET, archive_name, md5, [URL_PREFIX + archive_name], download)
    unpacked = cache_dir(DATASET) / f"{image_set}-{md5}"
    return build_once(unpacked, lambda tmp: extract_archive(str(archive), str(tmp))) / folder


def preprocess(path: Path, size: int) -> np.ndarray:
    """Central 144×144 crop of a 250×250 colour image, downsampled to size×size: uint8 (3, size, size)."""
    try:
        image = Image.open(path).convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise CorruptDataError(f"{path} is not a readable image ({error})") from error
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        raise CorruptDataError(f"{path} is {image.size[0]}×{image.size[1]}, expected {IMAGE_SIZE}×{IMAGE_SIZE}")
    small = TF.resize(TF.center_crop(image, [CROP, CROP]), [size, size], antialias=True)
    return np.asarray(small).transpose(2, 0, 1)


class LFWVerification:
    """LFW verification pairs with the images they use, preprocessed.

    ``view=2`` (default): View 2, 10 person-disjoint folds × (300 matched + 300 mismatched pairs), for reporting.
    ``view=1``: View 1, the development view: fold 0 is its training set (``pairsDevTrain.txt``, 1100 + 1100 pairs),
    fold 1 its test set (``pairsDevTest.txt``, 500 + 500 pairs), for choosing hyper-parameters.
    ``.images`` float32 (N, 3, size, size) in [0, 1], one row per distinct image (``.image_names[i]``);
    ``pairs(fold)`` indexes into it; ``training_faces(fold)`` are the single faces of the other folds' pairs.
    The preprocessed images are cached (keyed by the protocol files' md5s, the release, the size and the image files'
    sizes and modification times).
    """

    def __init__(self, root=None, image_set: str = "deepfunneled", size: int = 32, download: bool = False,
                 view: int = 2):
        if view not in VIEWS:
            raise ValueError(f"view must be 1 (development) or 2 (reporting), got {view!r}")
        root = data_root(root)
        folder = image_folder(root, image_set, download)
        protocol_md5 = "-".join(CHECKSUMS[name] for name in VIEWS[view])
        self.view = view
        self.variant = f"{RELEASE_NAMES[image_set]}, central {CROP}×{CROP} crop, {size}×{size} colour"
        self._folds = []
        for name in VIEWS[view]:  # View 1: DevTrain then DevTest, one fold each
            self._folds += read_pairs(checked_file(root, DATASET, name, CHECKSUMS[name], [URL_PREFIX + name], download))
        self.n_folds = len(self._folds)
        self.image_names = sorted({image_name(person, number) for fold in self._folds for pairs in fold
                                   for a, i, b, j in pairs for person, number in ((a, i), (b, j))})
        self._index = {name: row for row, name in enumerate(self.image_names)}
        stamp = hashlib.md5()
        for name in self.image_names:
            try:
                info = (folder / name).stat()
            except FileNotFoundError:
                raise MissingDataError(f"LFW image {name} used by the View {view} pairs is missing from {folder}"
                                       ) from None
            stamp.update(f"{name} {info.st_size} {info.st_mtime_ns}\n".encode())
        cached = cache_dir(DATASET) / f"{image_set}-{protocol_md5}-{size}-{stamp.hexdigest()}.npz"
        pixels = cached_arrays(cached, lambda: {"images": np.stack([preprocess(folder / name, size)
                                                                   for name in self.image_names])})["images"]
        self.images = torch.from_numpy(pixels).float().div_(255)

    def _check(self, fold: int) -> None:
        if not 0 <= fold < self.n_folds:
            raise IndexError(f"fold {fold}: LFW has folds 0 to {self.n_folds - 1}")

    def first_pairs(self, n: int | None, keep=()) -> "LFWVerification":
        """A copy that keeps only the first ``n`` matched and the first ``n`` mismatched pairs of every fold but
        those in ``keep`` (the training faces shrink with them; the images are shared), or this object itself for
        ``n=None``: a smoke run of a protocol on a few training pairs (``keep``: its test folds, whole)."""
        if n is None:
            return self
        if int(n) != n or n < 1:
            raise ValueError(f"first_pairs needs a whole number of pairs per fold, at least 1; got {n!r}")
        subset = copy.copy(self)
        subset._folds = [fold if i in set(keep) else (fold[0][:n], fold[1][:n]) for i, fold in enumerate(self._folds)]
        return subset

    def pairs(self, fold: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Test pairs of ``fold``: (index_a, index_b) into ``.images`` and ``same`` (bool), matched pairs first."""
        self._check(fold)
        matched, mismatched = self._folds[fold]
        index_a = [self._index[image_name(a, i)] for a, i, _, _ in matched + mismatched]
        index_b = [self._index[image_name(b, j)] for _, _, b, j in matched + mismatched]
        same = [True] * len(matched) + [False] * len(mismatched)
        return torch.tensor(index_a), torch.tensor(index_b), torch.tensor(same)

    def people(self, fold: int) -> set[str]:
        """Everyone who appears in ``fold``'s pairs."""
        self._check(fold)
        return {person for pairs in self._folds[fold] for a, _, b, _ in pairs for person in (a, b)}

    def training_faces(self, fold: int, unique: bool = False) -> torch.Tensor:
        """Indices of the single faces of the other folds' pairs, leaving out everyone in ``fold``'s test pairs.

        One entry per face slot of a pair (2 per pair, so an image used by several pairs repeats): 9 × 1,200 =
        10,800 for View 2, the count Nair & Hinton give; View 1's test fold 1 gets DevTrain's 4,400. ``unique=True``
        keeps each distinct image once (sorted).
        """
        excluded = self.people(fold)
        faces = [self._index[image_name(person, number)]
                 for other in range(self.n_folds) if other != fold
                 for pairs in self._folds[other] for a, i, b, j in pairs
                 for person, number in ((a, i), (b, j)) if person not in excluded]
        faces = torch.tensor(faces, dtype=torch.int64)
        return faces.unique() if unique else faces
