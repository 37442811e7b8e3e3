"""NORB readers on small files written in NORB's exact binary matrix format, and the stand-in when NORB is absent."""
import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from test_data_cifar10 import jpeg, write_zip

import rbmlib.data.norb as norb
from rbmlib.data import CorruptDataError, MissingDataError, load_norb, norb_or_standin, read_norb_matrix

MAGIC = {np.dtype(np.uint8): 0x1E3D4C55, np.dtype(np.int32): 0x1E3D4C54, np.dtype(np.float32): 0x1E3D4C51}


def norb_bytes(array: np.ndarray) -> bytes:
    """NORB binary matrix: int32 magic, int32 ndim, max(ndim, 3) int32 dims (padded with 1), little-endian data."""
    dims = list(array.shape) + [1] * (3 - array.ndim)
    header = np.array([MAGIC[array.dtype], array.ndim, *dims], dtype="<i4").tobytes()
    return header + array.astype(array.dtype.newbyteorder("<")).tobytes()


def write_set(folder: Path, stem: str, images: np.ndarray, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}-dat.mat").write_bytes(norb_bytes(images))
    (folder / f"{stem}-cat.mat.gz").write_bytes(gzip.compress(norb_bytes(labels.astype(np.int32))))


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RBMBOOK_DATA", raising=False)
    return tmp_path / "root"


@pytest.mark.parametrize("array", [
    np.arange(2 * 2 * 3 * 4, dtype=np.uint8).reshape(2, 2, 3, 4),  # ndim 4: four dims in the header
    np.array([4, 0, 5], dtype=np.int32),  # ndim 1: header padded to three dims
    np.linspace(-1, 1, 10, dtype=np.float32).reshape(5, 2),
])
def test_binary_matrix_round_trip(tmp_path, array):
    (tmp_path / "m.mat").write_bytes(norb_bytes(array))
    decoded = read_norb_matrix(tmp_path / "m.mat")
    assert decoded.dtype == array.dtype and np.array_equal(decoded, array)
    (tmp_path / "m.mat.gz").write_bytes(gzip.compress(norb_bytes(array)))
    assert np.array_equal(read_norb_matrix(tmp_path / "m.mat.gz"), array)


def test_wrong_magic_and_truncation_are_clear_errors(tmp_path):
    payload = norb_bytes(np.zeros((3, 2, 4, 4), dtype=np.uint8))
    (tmp_path / "bad.mat").write_bytes(b"\x00\x00\x00\x00" + payload[4:])
    with pytest.raises(CorruptDataError, match="not a NORB binary matrix: magic 0x0"):
        read_norb_matrix(tmp_path / "bad.mat")
    (tmp_path / "cut.mat").write_bytes(payload[:-1])
    with pytest.raises(CorruptDataError, match=r"truncated or padded: 119 bytes.*needs 120"):
        read_norb_matrix(tmp_path / "cut.mat")
    (tmp_path / "stub.mat").write_bytes(payload[:10])
    with pytest.raises(CorruptDataError, match="shorter than a NORB header"):
        read_norb_matrix(tmp_path / "stub.mat")


def test_small_norb_downsampled_to_2x32x32_and_cached(root, monkeypatch):
    images = np.empty((3, 2, 96, 96), dtype=np.uint8)
    images[:] = np.array([10, 200, 77])[:, None, None, None]  # uniform images survive downsampling exactly
    images[:, 1] //= 2  # the right camera differs from the left
    write_set(root / "norb", norb.SMALL["train"][0], images, np.array([4, 0, 2]))
    X, y, variant = load_norb("small", train=True, root=root)
    assert X.shape == (3, 2, 32, 32) and X.dtype == torch.float32 and y.tolist() == [4, 0, 2]
    assert torch.equal(X[:, :, 0, 0] * 255, torch.tensor([[10.0, 5], [200, 100], [77, 38]]))
    assert variant == "small NORB, stereo 2×32×32"
    monkeypatch.setattr(norb, "read_norb_chunk", lambda *args, **kwargs: pytest.fail("the cache was not used"))
    assert torch.equal(load_norb("small", train=True, root=root)[0], X)


def test_mismatched_dat_and_cat_lengths_and_missing_files(root):
    stem = norb.SMALL["test"][0]
    with pytest.raises(MissingDataError, match=f"{stem}-dat.mat.*cannot be downloaded"):
        load_norb("small", train=False, root=root)
    write_set(root / "norb", stem, np.zeros((3, 2, 96, 96), dtype=np.uint8), np.array([0, 1]))
    with pytest.raises(CorruptDataError, match=r"\(2,\) labels for the 3 pairs"):
        load_norb("small", train=False, root=root)


def test_jittered_cluttered_norb_is_used_when_present(root):
    for i, stem in enumerate(norb.JITTERED["test"]):
        write_set(root / "norb", stem, np.full((2, 2, 108, 108), 60 * i, dtype=np.uint8), np.array([5, i]))
    X, y, variant = norb_or_standin(root, train=False)
    assert X.shape == (4, 2, 32, 32) and y.tolist() == [5, 0, 5, 1]
    assert variant == "Jittered-Cluttered NORB, stereo 2×32×32" and float(X[2].mean()) == pytest.approx(60 / 255)


def test_standin_is_named_grey_scale_cifar10(root, monkeypatch):
    write_zip(root / "cifar10" / "cifar-10-images.zip", {"test/ship/0.jpg": jpeg(0), "test/cat/1.jpg": jpeg(1)},
              monkeypatch)
    X, y, variant = norb_or_standin(root, train=False)
    assert X.shape == (2, 1, 32, 32) and y.tolist() == [3, 8]
    assert variant == ("stand-in for NORB: CIFAR-10 (JPEG q75 copy), grey-scale 32×32, 10 classes — "
                       f"NORB not found under {root / 'norb'}")
