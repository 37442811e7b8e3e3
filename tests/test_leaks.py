"""Leak tests: every chapter's protocol, run as written, must fit nothing on test data.

Each chapter notebook runs in this process (``.ci/execute_without_jupyter.py``) at the ``ci`` profile with
``RBMBOOK_SMOKE=1`` (every stage, a few examples; ``ci`` keeps ``grid.run`` uncached, so every cell really runs here).
Before the first cell, :class:`Tracker` instruments ``rbmlib``:

* **Test rows carry a signature.** The data loaders the chapters import (``rbmlib.data.load_mnist``,
  ``load_cifar10``, ``norb_or_standin``, ``LFWVerification``) return the real data with the first ``K`` pixels of
  every image overwritten: 0 in every training image, the alternating pattern 1, 0, 1, 0, ... in every test image
  (LFW: every image of a person of the held-out View 2 fold). A row is a test row when those ``K`` values are not
  all equal. The signature survives what the chapters do to their pixels: binarisation ``rand < x`` (0 and 1 stay
  0 and 1), any per-pixel affine map fitted on training rows (standardisation: a column that is 0 in every training
  row maps to one value; a leak into the fit breaks the equality for every row, which is reported too), masking
  noise (zeros stay zero), reshaping to images and indexing. It is looked for only in tensors shaped like a loaded
  data set (same features; same channels for images), never in hidden codes.
* **Derived tensors carry the mark of their rows**: the outputs of modules (a global forward hook),
  ``stack.stack_features`` / ``layer_features`` and ``verification.pair_scores`` computed from test rows are
  registered as tainted row by row (features of test faces, their pair scores, RBM features of test digits).
* **Every fitted component checks what it is given**: ``Standardiser.fit``; ``Trainer.fit`` (RBM training);
  ``stack.pretrain_rbms``, ``stack.pretrain_daes``, ``DenoisingAutoencoder.loss`` and ``.reconstruction_cost``;
  ``estimators.base_rate_biases`` (the AIS base model); ``verification.best_threshold`` (thresholds, also inside ``SiameseHead.init``);
  ``supervised.fit`` (the tensors its mini-batches are drawn from: those of its loss's closure with ``n`` rows) and,
  while it runs, everything its loss and its ``after_epoch`` callback evaluate (early stopping and ``keep_best``);
  ``supervised.select_learning_rate`` and everything its score callback trains or evaluates. Where a chapter computes
  its validation scores in grid cells before calling ``select_learning_rate`` on them, those cells run as selection
  too (``SELECTION``). While any of these runs, a module fed test rows or ``error_rate`` on test rows is a leak.

A clean run must record no leak, must have exercised every component the chapter uses (``USES``), and must still
see the signature on the chapter's own test tensors and not on its training tensors after all of its transforms
(``SIGNATURE``). Each chapter's leak test runs a copy of the notebook with one deliberate leak written into its
source, or one injected into the library by the ``before`` hook (``LEAKS``), and requires :func:`assert_no_leaks`
to name the component that must catch it; the run stops once that component has reported.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
K = 8  # signature pixels: the first K of each image
PATTERN = torch.tensor([1.0, 0.0] * (K // 2))
LFW_TEST_FOLD = 0  # the View 2 fold a smoke run holds out (its P["folds"] == [0]; checked)


def load_executor():
    path = ROOT / ".ci" / "execute_without_jupyter.py"
    spec = importlib.util.spec_from_file_location("execute_without_jupyter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


executor = load_executor()


class LeakFound(AssertionError):
    """Test examples reached a fitted component."""


class _Stop(BaseException):  # not an Exception: no cell's ``except`` may swallow it
    """Raised once the leak a run waits for is recorded (the rest of the run would only repeat it)."""


class Tracker:
    """Marks test rows, follows them into derived tensors, and records every fitted component that receives them."""

    def __init__(self, stop_at: str | None = None):
        self.stop_at = stop_at  # a regular expression: stop the run once a leak it matches is recorded
        self.shapes: set[tuple[int, int]] = set()  # (features per example, channels) of every loaded data set
        self.tainted: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # id → (tensor, its test-row mask)
        self.phases: list[str] = []  # the fitted components running now, innermost last
        self.leaks: Counter = Counter()  # description → test rows seen (summed over calls)
        self.calls: Counter = Counter()  # component → calls checked
        self._hook_handle = None  # the global forward hook, while installed

    # --- the signature -------------------------------------------------------------------------------------------
    def mark(self, x: torch.Tensor, test) -> torch.Tensor:
        """A copy of x (N, ...) with the signature: 0 in the first K pixels of every row, the pattern in test rows."""
        x = x.clone().contiguous()
        flat = x.view(len(x), -1)
        flat[:, :K] = 0.0
        flat[test, :K] = PATTERN.to(flat.dtype)
        self.shapes.add((flat.shape[1], x.shape[1] if x.ndim > 2 else 1))
        return x

    def test_rows(self, t) -> torch.Tensor | None:
        """Boolean mask of t's test rows, or None when t is not data (hidden codes, labels, scalars)."""
        if not isinstance(t, torch.Tensor) or t.ndim == 0 or len(t) == 0:
            return None
        entry = self.tainted.get(id(t))
        if entry is not None and entry[0] is t:
            return entry[1]
        if t.ndim < 2 or not t.is_floating_point():
            return None
        features, channels = t[0].numel(), t.shape[1] if t.ndim > 2 else 1
        if not any(features == f and (t.ndim == 2 or channels == c) for f, c in self.shapes):
            return None
        cols = t.detach().reshape(len(t), -1)[:, :K].float().cpu()
        return (cols.amax(1) - cols.amin(1)) > 1e-4

    def taint(self, out, mask) -> None:
        if isinstance(out, torch.Tensor) and mask is not None and out.ndim > 0 and len(out) == len(mask) and mask.any():
            self.tainted[id(out)] = (out, mask)

    # --- recording -----------------------------------------------------------------------------------------------
    def check(self, component: str, t) -> None:
        self.calls[component] += 1
        mask = self.test_rows(t)
        if mask is not None and bool(mask.any()):
            self.leak(component, mask)

    def leak(self, what: str, mask: torch.Tensor) -> None:
        self.leaks[what] += int(mask.sum())
        if self.stop_at is not None and re.search(self.stop_at, what):
            raise _Stop(what)

    @contextlib.contextmanager
    def phase(self, name: str):
        self.calls[name] += 1
        self.phases.append(name)
        try:
            yield
        finally:
            self.phases.pop()

    def _forward_hook(self, module, args, output):
        if not args:
            return
        mask = self.test_rows(args[0])
        if mask is None or not mask.any():
            return
        if self.phases:
            self.leak(f"{type(module).__name__}.forward on test rows during {self.phases[-1]}", mask)
        self.taint(output, mask)

    # --- instrumentation -----------------------------------------------------------------------------------------
    def install(self, monkeypatch) -> None:
        """Wrap the loaders and the fitted components for the rest of the test (undone by ``monkeypatch``)."""
        import rbmlib.data
        import rbmlib.estimators as estimators
        import rbmlib.stack as stack
        import rbmlib.supervised as supervised
        import rbmlib.train as train
        import rbmlib.verification as verification

        tracker = self

        def wrap(owner, name, make):
            monkeypatch.setattr(owner, name, functools.wraps(getattr(owner, name))(make(getattr(owner, name))))

        # loaders: the real data with the signature
        def mnist(load):
            def loader(train=True, *args, **kwargs):
                x, y = load(train, *args, **kwargs)
                return tracker.mark(x, slice(None) if not train else slice(0, 0)), y
            return loader

        def with_variant(load):
            def loader(*args, train=True, **kwargs):
                x, y, variant = load(*args, train=train, **kwargs)
                return tracker.mark(x, slice(None) if not train else slice(0, 0)), y, variant
            return loader

        wrap(rbmlib.data, "load_mnist", mnist)
        wrap(rbmlib.data, "load_cifar10", with_variant)
        wrap(rbmlib.data, "norb_or_standin", with_variant)

        class MarkedLFW(rbmlib.data.LFWVerification):
            """View 2: every image of a person of the held-out fold carries the test pattern (View 1: none)."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                test = torch.zeros(len(self.images), dtype=torch.bool)
                if self.view == 2:
                    people = self.people(LFW_TEST_FOLD)
                    test = torch.tensor([name.split("/")[0] in people for name in self.image_names])
                self.images = tracker.mark(self.images, test)

        monkeypatch.setattr(rbmlib.data, "LFWVerification", MarkedLFW)

        # fitted components: check their data, and run as a phase
        def sink(label, position=0, method=False):
            def make(original):
                def wrapper(*args, **kwargs):
                    tracker.check(label, args[position + method])
                    with tracker.phase(label):
                        return original(*args, **kwargs)
                return wrapper
            return make

        wrap(rbmlib.data.Standardiser, "fit", sink("Standardiser.fit", method=True))
        wrap(train.Trainer, "fit", sink("Trainer.fit (RBM training)", method=True))
        wrap(stack, "pretrain_rbms", sink("stack.pretrain_rbms"))
        wrap(stack, "pretrain_daes", sink("stack.pretrain_daes"))
        wrap(stack.DenoisingAutoencoder, "loss", sink("DenoisingAutoencoder.loss", method=True))
        wrap(stack.DenoisingAutoencoder, "reconstruction_cost",
             sink("DenoisingAutoencoder.reconstruction_cost", method=True))
        wrap(estimators, "base_rate_biases", sink("estimators.base_rate_biases"))
        wrap(verification, "best_threshold", sink("verification.best_threshold"))

        def fit(original):
            def wrapper(loss_of_batch, optimizer, n, *args, **kwargs):
                for t in closure_tensors(loss_of_batch):
                    if isinstance(t, torch.Tensor) and t.ndim > 0 and len(t) == n:
                        tracker.check("supervised.fit (its training rows)", t)
                with tracker.phase("supervised.fit (training, early stopping, keep_best)"):
                    return original(loss_of_batch, optimizer, n, *args, **kwargs)
            return wrapper

        def phase_only(label):
            def make(original):
                def wrapper(*args, **kwargs):
                    with tracker.phase(label):
                        return original(*args, **kwargs)
                return wrapper
            return make

        def error_rate(original):
            def wrapper(model, x, y, *args, **kwargs):
                if tracker.phases:
                    tracker.check(f"supervised.error_rate during {tracker.phases[-1]}", x)
                return original(model, x, y, *args, **kwargs)
            return wrapper

        wrap(supervised, "fit", fit)
        wrap(supervised, "select_learning_rate", phase_only("supervised.select_learning_rate"))
        wrap(supervised, "error_rate", error_rate)

        # derived tensors keep the mark of their rows
        def features(original):
            def wrapper(layers, x, *args, **kwargs):
                out = original(layers, x, *args, **kwargs)
                tracker.taint(out, tracker.test_rows(x))
                return out
            return wrapper

        def pair_scores(original):
            def wrapper(a, b, *args, **kwargs):
                out = original(a, b, *args, **kwargs)
                masks = [m for m in (tracker.test_rows(a), tracker.test_rows(b)) if m is not None]
                tracker.taint(out, functools.reduce(torch.logical_or, masks) if masks else None)
                return out
            return wrapper

        wrap(stack, "stack_features", features)
        wrap(stack, "layer_features", features)
        wrap(verification, "pair_scores", pair_scores)
        self._hook_handle = torch.nn.modules.module.register_module_forward_hook(self._forward_hook)

    def wrap_selection(self, namespace: dict, names) -> None:
        """Run the chapter's own selection cells (defined in the notebook) as model selection."""
        for name in names:
            f = namespace.get(name)
            if callable(f) and not getattr(f, "_leak_phase", False):
                label = f"the notebook's {name} (model selection)"

                @functools.wraps(f)
                def wrapper(*args, _f=f, _label=label, **kwargs):
                    with self.phase(_label):
                        return _f(*args, **kwargs)

                wrapper._leak_phase = True
                namespace[name] = wrapper


def closure_tensors(fn, depth: int = 3) -> list:
    """Tensors reachable from a function's closure (nested closures too, ``depth`` levels)."""
    found = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            found += [v for v in value if isinstance(v, torch.Tensor)]
        elif callable(value) and depth > 0:
            found += closure_tensors(value, depth - 1)
    return found


def assert_no_leaks(tracker: Tracker) -> None:
    """Raise :class:`LeakFound` naming every fitted component that was given test rows."""
    if tracker.leaks:
        raise LeakFound("test examples reached fitted components:\n" + "\n".join(
            f"  {what}: {rows} test rows" for what, rows in sorted(tracker.leaks.items())))


# --- the chapters --------------------------------------------------------------------------------------------------
SELECTION = {  # notebook functions that compute validation scores before select_learning_rate ranks them
    "he2015_delving_deep": ("validation_error",),
    "glorot2011_sparse_rectifiers": ("dae_cell",),
}
USES = {  # the components each chapter must have been seen to use (so a renamed call cannot hide a leak)
    "rbm_mnist": ("Trainer.fit (RBM training)", "stack.pretrain_rbms", "estimators.base_rate_biases",
                  "supervised.fit (its training rows)", "supervised.select_learning_rate"),
    "glorot2011_sparse_rectifiers": ("stack.pretrain_daes", "DenoisingAutoencoder.loss",
                                     "DenoisingAutoencoder.reconstruction_cost",
                                     "supervised.fit (its training rows)", "supervised.select_learning_rate",
                                     "the notebook's dae_cell (model selection)"),
    "he2015_delving_deep": ("Standardiser.fit", "supervised.fit (its training rows)",
                            "supervised.select_learning_rate", "the notebook's validation_error (model selection)"),
    "nair_hinton2010_lfw": ("Standardiser.fit", "Trainer.fit (RBM training)", "verification.best_threshold",
                            "supervised.fit (training, early stopping, keep_best)", "supervised.select_learning_rate"),
    "nair_hinton2010_norb": ("Standardiser.fit", "stack.pretrain_rbms", "supervised.fit (its training rows)",
                             "supervised.select_learning_rate"),
}


def _lfw_tensors(ns):
    split = ns["verification"].split(ns["lfw"], LFW_TEST_FOLD)
    images = ns["standardised"](ns["lfw"], split)
    test_faces = torch.cat(split.test[:2]).unique()
    return {"test": [images[test_faces]], "train": [images[split.faces]]}


SIGNATURE = {  # after the run: the chapter's final test tensors (all rows marked) and training tensors (none)
    "rbm_mnist": lambda ns: {"test": [ns["x_test"]], "train": [ns["x_train"], ns["x_valid"]]},
    "glorot2011_sparse_rectifiers": lambda ns: {
        "test": [ns["DATA"][d]["test"][0] for d in ns["DATASETS"]],
        "train": [ns["DATA"][d][k][0] for d in ns["DATASETS"] for k in ("train", "valid")]},
    "he2015_delving_deep": lambda ns: {"test": [ns["X_test"], ns["X_deep_test"]],
                                       "train": [ns["X_train"], ns["X_valid"], ns["X_deep"]]},
    "nair_hinton2010_lfw": _lfw_tensors,
    "nair_hinton2010_norb": lambda ns: {"test": [ns["x_test"]], "train": [ns["x_train"]]},
}
def _half_of_training_is_test(monkeypatch):
    """A leaking loader: ``norb_or_standin(train=True)`` returns test images in place of every other image."""
    import rbmlib.data

    load = rbmlib.data.norb_or_standin  # already the marking loader

    def leaking(*args, train=True, **kwargs):
        x, y, variant = load(*args, train=train, **kwargs)
        if train:
            x_test, y_test, _ = load(*args, train=False, **kwargs)
            n = min(len(x), 2 * len(x_test))
            x, y = x.clone(), y.clone()
            x[:n:2], y[:n:2] = x_test[:(n + 1) // 2], y_test[:(n + 1) // 2]
        return x, y, variant

    monkeypatch.setattr(rbmlib.data, "norb_or_standin", leaking)


LEAKS = [  # (chapter, what the leaking copy does, the leak: (source, leaking source) or a before-hook, who sees it)
    ("rbm_mnist", "the training set is extended with 50 test images",
     ('x_train, y_train = x_all[:P["n_train"]], y_all[:P["n_train"]]',
      'x_train, y_train = torch.cat([x_all[:P["n_train"]], x_test[:50]]), '
      'torch.cat([y_all[:P["n_train"]], y_test[:50]])'),
     r"Trainer\.fit \(RBM training\)"),  # after AIS's base model (estimators.base_rate_biases), which comes first
    ("rbm_mnist", "the density RBMs are trained on the training and test images",
     (".fit(x_train, progress=False)", ".fit(torch.cat([x_train, x_test]), progress=False)"),
     r"Trainer\.fit \(RBM training\)"),
    ("rbm_mnist", "the softmax on the blog RBM's features is early-stopped on test features",
     ("for t in (x_train, x_valid, x_test))", "for t in (x_train, x_test, x_test))"),
     r"error_rate during supervised\.fit"),
    ("rbm_mnist", "the DBN is pre-trained on the training and test images",
     ("stack.pretrain_rbms(x_train, P", "stack.pretrain_rbms(torch.cat([x_train, x_test]), P"),
     r"stack\.pretrain_rbms"),
    ("glorot2011_sparse_rectifiers", "early stopping (keep_best) on the test images",
     ('after_epoch=lambda epoch: {"valid_error": supervised.error_rate(net, x_valid, y_valid)}',
      'after_epoch=lambda epoch: {"valid_error": supervised.error_rate(net, x_test, y_test)}'),
     r"error_rate during supervised\.fit"),
    ("glorot2011_sparse_rectifiers", "pre-training rates are chosen on the test images' denoising cost",
     ('x, x_valid = DATA[dataset]["train"][0], DATA[dataset]["valid"][0]',
      'x, x_valid = DATA[dataset]["train"][0], DATA[dataset]["test"][0]'),
     r"DenoisingAutoencoder\.reconstruction_cost"),
    ("he2015_delving_deep", "the standardiser is fitted on training and test images",
     ('scaler = Standardiser(per_pixel_std=False).fit(X_cifar[train_idx])',
      'scaler = Standardiser(per_pixel_std=False).fit(torch.cat([X_cifar[train_idx], X_cifar_test[test_idx]]))'),
     r"Standardiser\.fit"),
    ("he2015_delving_deep", "learning rates are chosen on the test images",
     ('P["select_epochs"], "valid")["error"]', 'P["select_epochs"], "test")["error"]'),
     r"error_rate during the notebook's validation_error"),
    ("nair_hinton2010_lfw", "the standardiser is fitted on every image, the test fold's people included",
     (".fit(x[split.faces])", ".fit(x)"), r"Standardiser\.fit"),
    ("nair_hinton2010_lfw", "the verification threshold is chosen on the test fold's pairs",
     ("verification.verification_accuracy(scores(net, images, split.train, score), split.train[2],",
      "verification.verification_accuracy(scores(net, images, split.test, score), split.test[2],"),
     r"verification\.best_threshold"),
    ("nair_hinton2010_lfw", "the siamese nets are fine-tuned on the test fold's pairs",
     ("images, split.train, score,\n                            rate[key]",
      "images, split.test, score,\n                            rate[key]"),
     r"forward on test rows during supervised\.fit"),  # after SiameseHead.init's threshold on those pairs
    ("nair_hinton2010_norb", "learning rates are chosen on the test images",
     ('x_fit, y_fit, x_val, y_val = x_train[:n_fit], y_train[:n_fit], x_train[n_fit:], y_train[n_fit:]',
      'x_fit, y_fit, x_val, y_val = x_train[:n_fit], y_train[:n_fit], x_test, y_test'),
     r"error_rate during supervised\.select_learning_rate"),
    ("nair_hinton2010_norb", "the RBMs are pre-trained on the training and test images",
     ("pretrain_rbms(x_train, P", "pretrain_rbms(torch.cat([x_train, x_test]), P"), r"stack\.pretrain_rbms"),
    ("nair_hinton2010_norb", "the training loader returns test images in place of every other image",
     _half_of_training_is_test, r"Standardiser\.fit"),
]


@pytest.fixture(scope="module")
def leak_cache(tmp_path_factory):
    """One decoded-data cache for the module's runs (``RBMBOOK_CACHE`` if set: the data are decoded once)."""
    return os.environ.get("RBMBOOK_CACHE") or str(tmp_path_factory.mktemp("leak-cache"))


def run_chapter(notebook: str, tmp_path, cache, monkeypatch, *, leak=None, stop_at=None):
    """Run the chapter instrumented, or a leaking version: ``leak`` is (source, leaking source), written into a copy
    of the notebook, or a function of ``monkeypatch`` called after the instrumentation is installed. Returns
    (tracker, the cells' namespace, or None if the run stopped at ``stop_at``)."""
    path = ROOT / "notebooks" / f"{notebook}.ipynb"
    if isinstance(leak, tuple):  # a leaking copy of the notebook
        nb = json.loads(path.read_text())
        old, new = leak
        sources = ["".join(c["source"]) for c in nb["cells"]]
        assert sum(s.count(old) for s in sources) == 1, f"the leak's target is not once in {notebook}: {old}"
        for cell, source in zip(nb["cells"], sources):
            cell["source"] = source.replace(old, new)
        path = tmp_path / f"{notebook}_leaking.ipynb"
        path.write_text(json.dumps(nb))
    tracker = Tracker(stop_at=stop_at)
    env = {"RBMBOOK_PROFILE": "ci", "RBMBOOK_SMOKE": "1", "RBMBOOK_RESULTS": str(tmp_path / "results"),
           "RBMBOOK_CACHE": str(cache), "RBMBOOK_JOBS": "1", "MPLBACKEND": "Agg"}
    threads = torch.get_num_threads()

    def before(namespace):
        tracker.install(monkeypatch)
        if callable(leak):  # a leak injected into the library for this run
            leak(monkeypatch)

    def after_cell(index, source, namespace):
        tracker.wrap_selection(namespace, SELECTION.get(notebook, ()))

    namespace = None
    try:
        namespace = executor.execute(path, env=env, before=before, after_cell=after_cell)
    except _Stop:
        pass
    finally:
        if tracker._hook_handle is not None:
            tracker._hook_handle.remove()
        import matplotlib.pyplot as plt

        plt.close("all")
        torch.set_num_threads(threads)
    return tracker, namespace


@pytest.mark.parametrize("notebook", list(USES))
def test_no_test_example_reaches_a_fitted_component(notebook, tmp_path, leak_cache, monkeypatch):
    tracker, ns = run_chapter(notebook, tmp_path, leak_cache, monkeypatch)
    assert_no_leaks(tracker)
    assert not [u for u in USES[notebook] if not tracker.calls[u]], f"components never called: {tracker.calls}"
    if notebook == "nair_hinton2010_lfw":
        assert list(ns["P"]["folds"]) == [LFW_TEST_FOLD]  # the held-out fold that was marked
    tensors = SIGNATURE[notebook](ns)
    for t in tensors["test"]:  # the signature survives the chapter's transforms ...
        mask = tracker.test_rows(t)
        assert mask is not None and bool(mask.all()), f"{notebook}: a test tensor {tuple(t.shape)} lost its signature"
    for t in tensors["train"]:  # ... and no training row looks like a test row
        mask = tracker.test_rows(t)
        assert mask is not None and not bool(mask.any()), f"{notebook}: training tensor {tuple(t.shape)} marked"


@pytest.mark.parametrize("notebook, what, leak, component", LEAKS,
                         ids=[f"{n}-{'-'.join(w.split()[:4])}" for n, w, _, _ in LEAKS])
def test_a_deliberately_leaking_copy_fails(notebook, what, leak, component, tmp_path, leak_cache, monkeypatch):
    tracker, _ = run_chapter(notebook, tmp_path, leak_cache, monkeypatch, leak=leak, stop_at=component)
    with pytest.raises(LeakFound, match=component) as raised:
        assert_no_leaks(tracker)
    print(f"{notebook} ({what}):\n{raised.value}")


def test_the_signature_survives_binarisation_and_standardisation():
    """The rule itself, on a toy data set: test rows found after each transform; a leak into the fit marks all."""
    from rbmlib.data import Standardiser

    tracker = Tracker()
    train = tracker.mark(torch.rand(50, 1, 6, 6), slice(0, 0))
    test = tracker.mark(torch.rand(20, 1, 6, 6), slice(None))
    g = torch.Generator().manual_seed(0)
    for transform in (lambda x: x, lambda x: x.flatten(1), lambda x: (torch.rand(x.shape, generator=g) < x).float(),
                      Standardiser(per_pixel_std=False).fit(train).transform, Standardiser().fit(train).transform):
        assert not tracker.test_rows(transform(train)).any() and tracker.test_rows(transform(test)).all()
    mixed = torch.cat([train, test[:3]])
    assert tracker.test_rows(mixed).sum() == 3
    leaked = Standardiser().fit(mixed).transform(train)
    assert tracker.test_rows(leaked).all()  # a standardiser fitted on test rows marks every row it transforms
    assert tracker.test_rows(torch.rand(50, 16)) is None and tracker.test_rows(torch.arange(5)) is None
