"""MNIST loader: idx decoding, md5 checks, clear errors, atomic downloads, and the real files when present."""
import gzip
import hashlib
import os
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

import rbmlib.data.files as files
import rbmlib.data.mnist as mnist
from rbmlib.data import MNIST, CorruptDataError, MissingDataError, load_mnist

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    return struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_gz(path: Path, payload: bytes, monkeypatch=None) -> None:
    """Write ``payload`` gzipped to ``path``; with ``monkeypatch``, make its md5 the expected one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload))
    if monkeypatch is not None:
        monkeypatch.setitem(mnist.MD5, path.name, hashlib.md5(path.read_bytes()).hexdigest())


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A data root holding a 3-image MNIST training set whose md5s are declared canonical; a private cache."""
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RBMBOOK_DATA", raising=False)
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    labels = np.array([7, 0, 9])
    write_gz(tmp_path / "root/mnist" / TRAIN_IMAGES, idx_bytes(2051, images), monkeypatch)
    write_gz(tmp_path / "root/mnist" / TRAIN_LABELS, idx_bytes(2049, labels), monkeypatch)
    return tmp_path / "root", images, labels


def test_small_idx_file_loads_exactly(tiny):
    root, images, labels = tiny
    dataset = MNIST(root, train=True, download=False)
    assert dataset.data.dtype == torch.uint8 and dataset.targets.dtype == torch.int64
    assert torch.equal(dataset.data, torch.from_numpy(images.astype(np.uint8)))
    assert dataset.targets.tolist() == [7, 0, 9] and len(dataset) == 3
    image, target = dataset[2]
    assert np.array_equal(np.asarray(image), images[2]) and target == 9
    X, y = load_mnist(train=True, root=root, download=False)
    assert X.shape == (3, 784) and X.dtype == torch.float32
    assert torch.equal(X, torch.from_numpy(images.reshape(3, -1) / 255).float()) and torch.equal(y, dataset.targets)


def test_wrong_md5_names_both_and_file_is_not_used(tiny, monkeypatch):
    root, images, _ = tiny
    path = root / "mnist" / TRAIN_IMAGES
    monkeypatch.setitem(mnist.MD5, TRAIN_IMAGES, "0" * 32)
    actual = hashlib.md5(path.read_bytes()).hexdigest()
    with pytest.raises(CorruptDataError, match=f"md5 {actual}, expected {'0' * 32}"):
        MNIST(root, download=True)
    assert path.exists()  # left in place
    assert not any(name.startswith("train-images") for name in os.listdir(files.cache_dir("mnist")))


def test_truncated_or_malformed_idx_is_a_clear_error(tiny, monkeypatch):
    root, images, _ = tiny
    path = root / "mnist" / TRAIN_IMAGES
    write_gz(path, idx_bytes(2051, images)[:-100], monkeypatch)
    with pytest.raises(CorruptDataError, match="truncated or padded"):
        MNIST(root, download=False)
    write_gz(path, idx_bytes(2049, images), monkeypatch)
    with pytest.raises(CorruptDataError, match="magic 2049, expected 2051"):
        MNIST(root, download=False)
    write_gz(path, idx_bytes(2051, images[:, :14]), monkeypatch)
    with pytest.raises(CorruptDataError, match=r"items of shape \(14, 28\)"):
        MNIST(root, download=False)
    path.write_bytes(gzip.compress(idx_bytes(2051, images))[:-50])  # a cut gzip stream
    monkeypatch.setitem(mnist.MD5, TRAIN_IMAGES, hashlib.md5(path.read_bytes()).hexdigest())
    with pytest.raises(CorruptDataError, match="cannot be decompressed"):
        MNIST(root, download=False)


def test_missing_file_with_failing_download_leaves_nothing_partial(tiny, monkeypatch):
    root, _, _ = tiny
    (root / "mnist" / TRAIN_LABELS).unlink()

    def half_then_offline(url, folder, filename):
        Path(folder, filename).write_bytes(b"\x1f\x8b half a file")
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(files, "download_url", half_then_offline)
    with pytest.raises(MissingDataError) as error:
        MNIST(root, download=True)
    message = str(error.value)
    assert TRAIN_LABELS in message and str(root / "mnist") in message and "RBMBOOK_DATA" in message
    assert "network unreachable" in message and mnist.MD5[TRAIN_LABELS] in message
    assert os.listdir(root / "mnist") == [TRAIN_IMAGES]  # no partial file under any name
    with pytest.raises(MissingDataError, match="Pass download=True"):
        MNIST(root, download=False)


def test_download_lands_atomically_and_never_in_the_shared_root(tiny, monkeypatch):
    root, _, labels = tiny
    payload = (root / "mnist" / TRAIN_LABELS).read_bytes()
    (root / "mnist" / TRAIN_LABELS).unlink()
    monkeypatch.setenv("RBMBOOK_DATA", str(root))  # the shared, read-only root
    monkeypatch.setattr(files, "download_url", lambda url, folder, name: Path(folder, name).write_bytes(payload))
    assert MNIST(download=True).targets.tolist() == labels.tolist()
    assert os.listdir(root / "mnist") == [TRAIN_IMAGES]
    assert os.listdir(files.cache_dir("downloads", "mnist")) == [TRAIN_LABELS]


def corrupt_labels(root: Path) -> bytes:
    """Flip one bit of the labels file under ``root``; return its good bytes."""
    path = root / "mnist" / TRAIN_LABELS
    good = path.read_bytes()
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    return good


def test_a_corrupt_shared_copy_is_replaced_by_a_fresh_download_in_the_cache_or_reported_corrupt(tiny, monkeypatch):
    """The shared root is read-only: a corrupt copy there is answered by a download into the cache; when that
    download fails too, the error says the file is corrupt (with its md5s and the download's reason), not missing."""
    root, _, labels = tiny
    path = root / "mnist" / TRAIN_LABELS
    good = corrupt_labels(root)
    bad_md5 = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setenv("RBMBOOK_DATA", str(root))

    def offline(url, folder, filename):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(files, "download_url", offline)
    with pytest.raises(CorruptDataError) as error:
        MNIST(download=True)
    message = str(error.value)
    assert f"md5 {bad_md5}, expected {mnist.MD5[TRAIN_LABELS]}" in message and "network unreachable" in message
    assert str(files.cache_dir("downloads", "mnist")) in message
    monkeypatch.setattr(files, "download_url", lambda url, folder, name: Path(folder, name).write_bytes(good))
    assert MNIST(download=True).targets.tolist() == labels.tolist()
    assert path.read_bytes() != good  # the shared copy was left as it was
    assert os.listdir(files.cache_dir("downloads", "mnist")) == [TRAIN_LABELS]


def test_a_corrupt_copy_in_the_users_own_root_is_reported_never_replaced_by_a_download(tiny, monkeypatch):
    """Outside the shared root a corrupt copy may be the user's own file: it is reported (CorruptDataError) and left
    as it is, even where a download would work."""
    root, _, _ = tiny
    path = root / "mnist" / TRAIN_LABELS
    good = corrupt_labels(root)
    bad = path.read_bytes()
    monkeypatch.setattr(files, "download_url", lambda url, folder, name: Path(folder, name).write_bytes(good))
    with pytest.raises(CorruptDataError, match="Delete it and pass download=True"):
        MNIST(root, download=True)
    assert path.read_bytes() == bad
    assert not os.path.exists(files.cache_dir("downloads", "mnist") / TRAIN_LABELS)


REAL_ROOT = os.environ.get("RBMBOOK_DATA")


@pytest.mark.skipif(
    not REAL_ROOT or not Path(REAL_ROOT, "mnist", TRAIN_IMAGES).exists(),
    reason="real MNIST absent: set RBMBOOK_DATA to a root holding mnist/ (e.g. ../shared/data)",
)
def test_real_mnist_shapes_and_class_counts():
    train, test = MNIST(train=True, download=False), MNIST(train=False, download=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.targets.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert test.targets.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    X, _ = load_mnist(train=False, download=False)
    assert X.shape == (10000, 784) and X.min() == 0 and X.max() == 1
