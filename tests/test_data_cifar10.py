"""CIFAR-10 loader: the JPEG copy read from its zip, the canonical batches via torchvision, errors, the real copy."""
import hashlib
import io
import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import CIFAR10 as TorchvisionCIFAR10

import rbmlib.data.cifar10 as cifar10
from rbmlib.data import CIFAR10, CorruptDataError, MissingDataError, load_cifar10


def jpeg(seed: int, size: int = 32) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=75)
    return buffer.getvalue()


def write_zip(path: Path, entries: dict, monkeypatch) -> None:
    """A stored zip of ``entries`` (name -> bytes) whose md5 is declared canonical."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    monkeypatch.setattr(cifar10, "ZIP_MD5", hashlib.md5(path.read_bytes()).hexdigest())


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "root"


def test_jpeg_zip_decodes_in_class_then_name_order_and_is_cached(private_cache, monkeypatch):
    root = private_cache
    entries = {"train/": b"", "train/truck/": b"", "train/truck/0001.jpg": jpeg(1), "train/cat/0007.jpg": jpeg(2),
               "train/cat/0003.jpg": jpeg(3), "test/ship/0000.jpg": jpeg(4)}
    write_zip(root / "cifar10" / "cifar-10-images.zip", entries, monkeypatch)
    dataset = CIFAR10(root, train=True)
    assert dataset.variant == "CIFAR-10 (JPEG q75 copy)" and dataset.classes[3] == "cat"
    assert dataset.targets == [3, 3, 9] and dataset.data.shape == (3, 32, 32, 3) and dataset.data.dtype == np.uint8
    for image, name in zip(dataset.data, ["train/cat/0003.jpg", "train/cat/0007.jpg", "train/truck/0001.jpg"]):
        assert np.array_equal(image, np.asarray(Image.open(io.BytesIO(entries[name])).convert("RGB")))
    assert np.array_equal(np.asarray(dataset[2][0]), dataset.data[2]) and dataset[2][1] == 9

    monkeypatch.setattr(cifar10, "decode_jpeg_zip", lambda *args: pytest.fail("the cache was not used"))
    X, y, variant = load_cifar10(train=True, root=root)
    assert X.shape == (3, 3, 32, 32) and X.dtype == torch.float32 and y.tolist() == [3, 3, 9]
    assert torch.equal(X[0], torch.from_numpy(dataset.data[0]).permute(2, 0, 1).float() / 255)
    assert variant == dataset.variant
    with pytest.raises(pytest.fail.Exception, match="cache was not used"):
        CIFAR10(root, train=False)  # the test split was never decoded: not cached yet


@pytest.mark.parametrize("name, payload, message", [
    ("train/cat/0000.jpg", jpeg(5, size=31), "is 31×31, expected 32×32"),
    ("train/cat/0000.jpg", b"not a jpeg", "not a readable image"),
    ("train/cats/0000.jpg", jpeg(5), "unknown class folder 'cats'"),
])
def test_malformed_zip_entries_are_named(private_cache, monkeypatch, name, payload, message):
    write_zip(private_cache / "cifar10" / "cifar-10-images.zip", {name: payload}, monkeypatch)
    with pytest.raises(CorruptDataError, match=message):
        CIFAR10(private_cache)


def test_wrong_md5_zip_and_missing_data_are_clear_errors(private_cache, monkeypatch):
    with pytest.raises(MissingDataError, match="cifar-10-python.tar.gz .*download=True"):
        CIFAR10(private_cache)
    write_zip(private_cache / "cifar10" / "cifar-10-images.zip", {"train/cat/0.jpg": jpeg(0)}, monkeypatch)
    monkeypatch.setattr(cifar10, "ZIP_MD5", "f" * 32)
    with pytest.raises(CorruptDataError, match="expected f{32}"):
        CIFAR10(private_cache)


def write_batches(folder: Path, monkeypatch) -> np.ndarray:
    """A one-batch ``cifar-10-batches-py`` whose md5s torchvision is told to expect; returns its pixels."""
    folder.mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 3072), dtype=np.uint8)
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": pixels, "labels": [4, 1]}))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(cifar10.CLASSES)}))
    md5 = {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in os.listdir(folder)}
    for split_list in ("train_list", "test_list"):  # torchvision checks both before reading either
        monkeypatch.setattr(TorchvisionCIFAR10, split_list, [["data_batch_1", md5["data_batch_1"]]])
    monkeypatch.setattr(TorchvisionCIFAR10, "meta", {"filename": "batches.meta", "key": "label_names",
                                                     "md5": md5["batches.meta"]})
    return pixels


def test_canonical_batches_are_preferred_and_read_by_torchvision(private_cache, monkeypatch):
    folder = private_cache / "cifar10" / "cifar-10-batches-py"
    pixels = write_batches(folder, monkeypatch)
    write_zip(private_cache / "cifar10" / "cifar-10-images.zip", {"train/cat/0.jpg": jpeg(0)}, monkeypatch)
    dataset = CIFAR10(private_cache)
    assert dataset.variant == "CIFAR-10" and dataset.targets == [4, 1]
    assert np.array_equal(dataset.data[1], pixels[1].reshape(3, 32, 32).transpose(1, 2, 0))
    (folder / "data_batch_1").write_bytes(b"garbage")
    with pytest.raises(CorruptDataError, match="cifar-10-batches-py.*corrupted"):
        CIFAR10(private_cache)


def test_canonical_archive_is_unpacked_into_the_cache_only(private_cache, tmp_path, monkeypatch):
    pixels = write_batches(tmp_path / "src" / "cifar-10-batches-py", monkeypatch)
    archive = private_cache / "cifar10" / "cifar-10-python.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setattr(cifar10, "ARCHIVE_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    X, y, variant = load_cifar10(root=private_cache)
    assert variant == "CIFAR-10" and y.tolist() == [4, 1]
    assert torch.equal(X[0].flatten() * 255, torch.from_numpy(pixels[0]).float())
    assert os.listdir(private_cache / "cifar10") == ["cifar-10-python.tar.gz"]


REAL_ROOT = os.environ.get("RBMBOOK_DATA")


@pytest.mark.skipif(
    not REAL_ROOT or not Path(REAL_ROOT, "cifar10", "cifar-10-images.zip").exists(),
    reason="real CIFAR-10 absent: set RBMBOOK_DATA to a root holding cifar10/ (e.g. ../shared/data)",
)
def test_real_cifar10_jpeg_copy():
    test = CIFAR10(train=False)
    assert test.variant == "CIFAR-10 (JPEG q75 copy)" and test.data.shape == (10000, 32, 32, 3)
    assert np.bincount(test.targets).tolist() == [1000] * 10
    assert len(CIFAR10(train=True)) == 50000
