"""LFW verification: pairs parsing, folds, training faces without test people, preprocessing, errors, Standardiser."""
import hashlib
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import rbmlib.data.lfw as lfw
from rbmlib.data import CorruptDataError, LFWVerification, MissingDataError, Standardiser

CENTRE, BORDER = (40, 200, 90), (250, 10, 10)
# Two folds of 1 matched + 1 mismatched pair; Ann is in both folds, so fold 1's training faces must drop her.
PAIRS = "2\t1\nAnn\t1\t2\nBob\t1\tCy\t1\nDee\t1\t2\nAnn\t3\tEve\t1\n"
IMAGES = {"Ann": 3, "Bob": 1, "Cy": 1, "Dee": 2, "Eve": 1, "Fay": 1}
# View 1: a training file of 2 + 2 pairs and a test file of 1 + 1 pair (one-number headers), person-disjoint.
DEV_TRAIN = "2\nAnn\t1\t2\nDee\t1\t2\nAnn\t3\tBob\t1\nDee\t2\tEve\t1\n"
DEV_TEST = "1\nCy\t1\t1\nCy\t1\tFay\t1\n"


def face(shade: int) -> Image.Image:
    """250×250: a uniform central 144×144 square (CENTRE shifted by ``shade``) inside a BORDER frame."""
    pixels = np.empty((250, 250, 3), dtype=np.uint8)
    pixels[:] = BORDER
    pixels[53:197, 53:197] = np.add(CENTRE, shade)
    return Image.fromarray(pixels)


@pytest.fixture
def fake_lfw(tmp_path, monkeypatch):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "root"
    for shade, (person, count) in enumerate(IMAGES.items()):
        (root / "lfw/lfw-deepfunneled" / person).mkdir(parents=True)
        for number in range(1, count + 1):
            face(shade).save(root / "lfw/lfw-deepfunneled" / lfw.image_name(person, number), quality=95, subsampling=0)
    write_pairs(root, PAIRS, monkeypatch)
    write_pairs(root, DEV_TRAIN, monkeypatch, "pairsDevTrain.txt")
    write_pairs(root, DEV_TEST, monkeypatch, "pairsDevTest.txt")
    return root


def write_pairs(root: Path, text: str, monkeypatch, name: str = "pairs.txt") -> None:
    (root / "lfw" / name).write_text(text)
    monkeypatch.setitem(lfw.CHECKSUMS, name, hashlib.md5(text.encode()).hexdigest())


def names(data, indices):
    return [data.image_names[i] for i in indices.tolist()]


def test_folds_pairs_and_training_faces(fake_lfw):
    data = LFWVerification(fake_lfw, size=8)
    assert data.n_folds == 2 and data.variant == "LFW deep-funneled, central 144×144 crop, 8×8 colour"
    assert len(data.image_names) == 8 and data.images.shape == (8, 3, 8, 8)  # Fay is in no pair
    index_a, index_b, same = data.pairs(1)
    assert names(data, index_a) == ["Dee/Dee_0001.jpg", "Ann/Ann_0003.jpg"]
    assert names(data, index_b) == ["Dee/Dee_0002.jpg", "Eve/Eve_0001.jpg"] and same.tolist() == [True, False]
    assert names(data, data.training_faces(0)) == ["Dee/Dee_0001.jpg", "Dee/Dee_0002.jpg", "Eve/Eve_0001.jpg"]
    assert names(data, data.training_faces(1)) == ["Bob/Bob_0001.jpg", "Cy/Cy_0001.jpg"]  # Ann is in fold 1
    assert data.people(1) == {"Dee", "Ann", "Eve"}
    with pytest.raises(IndexError, match="folds 0 to 1"):
        data.pairs(2)


def test_first_pairs_keeps_the_first_pairs_of_every_fold(fake_lfw):
    data = LFWVerification(fake_lfw, size=8, view=1)  # DevTrain: 2 + 2 pairs, DevTest: 1 + 1
    assert data.first_pairs(None) is data
    few = data.first_pairs(1)
    assert few.images is data.images and len(data.pairs(0)[2]) == 4  # the original keeps every pair
    index_a, index_b, same = few.pairs(0)
    assert names(few, index_a) == ["Ann/Ann_0001.jpg", "Ann/Ann_0003.jpg"] and same.tolist() == [True, False]
    assert names(few, index_b) == ["Ann/Ann_0002.jpg", "Bob/Bob_0001.jpg"]
    assert names(few, few.training_faces(1)) == names(few, torch.cat([index_a, index_b])[[0, 2, 1, 3]])
    assert [p.tolist() for p in few.pairs(1)] == [p.tolist() for p in data.pairs(1)]  # it had one pair of each
    kept = data.first_pairs(1, keep=[0])
    assert len(kept.pairs(0)[2]) == 4 and len(kept.training_faces(1)) == 8
    with pytest.raises(ValueError, match="at least 1"):
        data.first_pairs(0)


def test_view_1_is_a_training_and_a_test_fold(fake_lfw):
    data = LFWVerification(fake_lfw, size=8, view=1)
    assert data.view == 1 and data.n_folds == 2
    assert len(data.image_names) == 9  # View 1 uses Fay and Cy_0001 (twice), View 2 leaves Fay out
    index_a, index_b, same = data.pairs(0)
    assert names(data, index_a) == ["Ann/Ann_0001.jpg", "Dee/Dee_0001.jpg", "Ann/Ann_0003.jpg", "Dee/Dee_0002.jpg"]
    assert same.tolist() == [True, True, False, False]
    assert names(data, data.pairs(1)[1]) == ["Cy/Cy_0001.jpg", "Fay/Fay_0001.jpg"]
    assert data.people(1) == {"Cy", "Fay"}
    assert len(data.training_faces(1)) == 8  # every face slot of the 4 training pairs: nobody is in the test fold
    view_2 = LFWVerification(fake_lfw, size=8)  # cached apart: a different protocol, different rows
    assert view_2.n_folds == 2 and len(view_2.image_names) == 8
    with pytest.raises(ValueError, match="view must be 1 .* or 2"):
        LFWVerification(fake_lfw, view=3)


def test_preprocessing_keeps_the_central_crop_only_and_is_cached(fake_lfw, monkeypatch):
    data = LFWVerification(fake_lfw, size=8)
    bob = data.images[data.image_names.index("Bob/Bob_0001.jpg")]  # shade 1
    expected = (torch.tensor(CENTRE, dtype=torch.float32) + 1) / 255
    assert (bob - expected[:, None, None]).abs().max() < 4 / 255  # JPEG error only: no border leaks in
    monkeypatch.setattr(lfw, "preprocess", lambda *args: pytest.fail("the cache was not used"))
    assert torch.equal(LFWVerification(fake_lfw, size=8).images, data.images)


def test_archive_is_unpacked_into_the_cache_not_beside_the_data(fake_lfw, monkeypatch):
    expected = LFWVerification(fake_lfw, size=8).images
    archive = fake_lfw / "lfw/lfw-deepfunneled.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fake_lfw / "lfw/lfw-deepfunneled", arcname="lfw-deepfunneled")
    shutil.rmtree(fake_lfw / "lfw/lfw-deepfunneled")
    monkeypatch.setitem(lfw.IMAGE_SETS, "deepfunneled",
                        ("lfw-deepfunneled", archive.name, hashlib.md5(archive.read_bytes()).hexdigest()))
    assert torch.allclose(LFWVerification(fake_lfw, size=8).images, expected)
    assert sorted(os.listdir(fake_lfw / "lfw")) == ["lfw-deepfunneled.tgz", "pairs.txt", "pairsDevTest.txt",
                                                    "pairsDevTrain.txt"]


def test_missing_image_and_bad_pairs_file_are_named(fake_lfw, monkeypatch):
    os.remove(fake_lfw / "lfw/lfw-deepfunneled/Cy/Cy_0001.jpg")
    with pytest.raises(MissingDataError, match="Cy/Cy_0001.jpg"):
        LFWVerification(fake_lfw)
    write_pairs(fake_lfw, "2\t1\nAnn\t1\t2\n", monkeypatch)
    with pytest.raises(CorruptDataError, match="1 pairs, header announces 2 folds"):
        LFWVerification(fake_lfw)
    write_pairs(fake_lfw, "1\t1\nAnn\t1\tBob\t1\nBob\t1\tCy\t1\n", monkeypatch)
    with pytest.raises(CorruptDataError, match="line 2: .* not the expected matched pair"):
        LFWVerification(fake_lfw)
    monkeypatch.setitem(lfw.CHECKSUMS, "pairs.txt", "a" * 32)
    with pytest.raises(CorruptDataError, match="expected a{32}"):
        LFWVerification(fake_lfw)
    os.remove(fake_lfw / "lfw/pairsDevTest.txt")
    with pytest.raises(MissingDataError, match="pairsDevTest.txt"):
        LFWVerification(fake_lfw, view=1)
    with pytest.raises(MissingDataError, match="lfw-funneled.tgz"):
        LFWVerification(fake_lfw, image_set="funneled")


def test_standardiser_per_pixel_and_average_std():
    x = torch.tensor([[0.0, 2.0, 5.0], [2.0, 6.0, 5.0]])
    scaler = Standardiser().fit(x)
    assert torch.equal(scaler.mean_, torch.tensor([1.0, 4.0, 5.0]))
    assert torch.allclose(scaler.transform(x), torch.tensor([[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]))
    assert torch.allclose(scaler.transform(torch.tensor([[3.0, 4.0, 5.0]])), torch.tensor([[2.0, 0.0, 0.0]]))
    average = Standardiser(per_pixel_std=False).fit(x)  # σ = (1 + 2 + 0) / 3 = 1 for every pixel
    assert torch.allclose(average.transform(x), x - torch.tensor([1.0, 4.0, 5.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\), got \(2,\)"):
        scaler.transform(torch.zeros(1, 2))
    with pytest.raises(RuntimeError, match="before fit"):
        Standardiser().transform(x)


REAL_ROOT = os.environ.get("RBMBOOK_DATA")


@pytest.mark.skipif(
    not REAL_ROOT or not Path(REAL_ROOT, "lfw", "pairs.txt").exists(),
    reason="real LFW absent: set RBMBOOK_DATA to a root holding lfw/ (e.g. ../shared/data)",
)
def test_real_lfw_view2_folds():
    data = LFWVerification()
    assert data.n_folds == 10 and data.images.shape == (7701, 3, 32, 32)
    for fold in range(10):
        index_a, index_b, same = data.pairs(fold)
        assert len(index_a) == len(index_b) == 600 and int(same.sum()) == 300 and not same[300:].any()
        training = data.training_faces(fold)
        assert len(training) == 10800
        assert not {data.image_names[i].split("/")[0] for i in training.tolist()} & data.people(fold)


@pytest.mark.skipif(
    not REAL_ROOT or not Path(REAL_ROOT, "lfw", "pairsDevTrain.txt").exists(),
    reason="real LFW absent: set RBMBOOK_DATA to a root holding lfw/ (e.g. ../shared/data)",
)
def test_real_lfw_view1_is_person_disjoint_development_data():
    data = LFWVerification(view=1)
    train, test = data.pairs(0), data.pairs(1)
    assert len(train[0]) == 2200 and int(train[2].sum()) == 1100
    assert len(test[0]) == 1000 and int(test[2].sum()) == 500
    assert not data.people(0) & data.people(1)
    assert len(data.training_faces(1)) == 4400


def test_lfw_chapter_chooses_learning_rates_on_view_1_only(fake_lfw):
    """The LFW chapter's learning-rate selection sees View 1 only: its development split is DevTrain (pairs and
    faces) against DevTest, and no function the notebook's selection cell reaches names the View 2 data."""
    import ast
    import json

    from rbmlib import verification

    dev = LFWVerification(fake_lfw, size=8, view=1)
    split = verification.split(dev, test_fold=1)
    for got, want in zip(split.train, dev.pairs(0)):
        assert torch.equal(got, want)
    for got, want in zip(split.test, dev.pairs(1)):
        assert torch.equal(got, want)
    assert torch.equal(split.faces, dev.training_faces(1))  # DevTrain's faces; nobody from DevTest

    notebook = Path(__file__).resolve().parent.parent / "notebooks" / "nair_hinton2010_lfw.ipynb"
    cells = json.loads(notebook.read_text())["cells"]
    tree = ast.parse("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"))
    views = {}  # variable -> view of each LFWVerification(...) the notebook opens
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, "id", None) == "LFWVerification":
            view = next((k.value.value for k in node.value.keywords if k.arg == "view"), 2)
            views.update({t.id: view for t in node.targets})
    assert sorted(views.values()) == [1, 2]
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    derived = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
               if isinstance(t, ast.Name)}  # e.g. development = verification.split(dev, test_fold=1)
    reached, todo = set(), ["selection_cell"]
    while todo:  # every global name the selection cell reaches, through functions and derived variables
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        node = functions.get(name) or derived.get(name)
        if node is not None:  # the global names it reads: a function's own arguments and variables are not
            local = {a.arg for n in ast.walk(node) if isinstance(n, ast.arguments) for a in n.args} | \
                {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            todo += [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                     and (node is derived.get(name) or n.id not in local)]
    view_2 = {name for name, view in views.items() if view != 1}
    assert not reached & view_2, f"the learning-rate selection reaches the View 2 data {reached & view_2}"
    assert reached & {name for name, view in views.items() if view == 1}
