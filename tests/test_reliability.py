"""Nothing lost, nothing silently wrong (issue 23): concurrent processes, stalled mirrors, altered or truncated caches,
leftovers of killed runs, errors that name what the user controls, saved models and trainers, non-finite inputs."""
import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from test_data_cifar10 import jpeg, write_zip
from test_data_lfw import fake_lfw  # noqa: F401 (fixture)
from test_data_mnist import TRAIN_IMAGES, TRAIN_LABELS, tiny  # noqa: F401 (fixture)
from test_data_norb import write_set

import rbmlib.data.cifar10 as cifar10
import rbmlib.data.files as files
import rbmlib.data.mnist as mnist
import rbmlib.data.norb as norb
from rbmlib.data import CIFAR10, MNIST, CorruptDataError, DataError, LFWVerification, MissingDataError, load_norb
from rbmlib.estimators import (ais, average_log_probability, exact_log_partition, pseudo_log_likelihood,
                               reverse_ais)
from rbmlib.rbm import RBM
from rbmlib.samplers import CD, PCD
from rbmlib.train import TrainConfig, Trainer
from rbmlib.units import Bernoulli, Gaussian, NReLU, SteppedSigmoid

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------------ real processes
def fake_cifar_archive(tmp_path: Path) -> tuple[Path, str]:
    """A data root holding a small cifar-10-python.tar.gz; returns the root and the archive's md5."""
    source = tmp_path / "src" / "cifar-10-batches-py"
    source.mkdir(parents=True)
    for i in range(20):
        (source / f"data_batch_{i}").write_bytes(os.urandom(20_000))
    archive = tmp_path / "root" / "cifar10" / "cifar-10-python.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="cifar-10-batches-py")
    return tmp_path / "root", hashlib.md5(archive.read_bytes()).hexdigest()


# A child process: unpack the archive once a start file appears; extraction is followed by a pause, so that a second
# process sees the same empty cache (the window `make notebooks` hits with two workers and the real 170 MB archive).
UNPACKER = textwrap.dedent("""
    import sys, tarfile, time
    from pathlib import Path
    import rbmlib.data.cifar10 as cifar10
    root, md5, start, pause = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
    cifar10.ARCHIVE_MD5 = md5
    extractall = tarfile.TarFile.extractall
    def slow_extractall(self, *args, **kwargs):
        extractall(self, *args, **kwargs)
        print("unpacked", flush=True)
        time.sleep(pause)
    tarfile.TarFile.extractall = slow_extractall
    while not start.exists():
        time.sleep(0.01)
    print(cifar10._canonical_root(Path(root), False), flush=True)
""")


def unpacker(root, md5, start, pause, cache):
    env = dict(os.environ, RBMBOOK_CACHE=str(cache))
    env.pop("RBMBOOK_DATA", None)
    return subprocess.Popen([sys.executable, "-c", UNPACKER, str(root), md5, str(start), str(pause)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def leftovers(cache: Path) -> list[str]:
    return [str(p.relative_to(cache)) for p in cache.rglob("*") if p.name.endswith(".part")]


def test_two_processes_unpacking_the_same_archive_both_succeed(tmp_path):
    root, md5 = fake_cifar_archive(tmp_path)
    start, cache = tmp_path / "start", tmp_path / "cache"
    workers = [unpacker(root, md5, start, 1.0, cache) for _ in range(2)]
    time.sleep(0.2)
    start.touch()
    results = [worker.communicate(timeout=120) for worker in workers]
    for worker, (out, err) in zip(workers, results):
        assert worker.returncode == 0, err
    unpacked = cache / "cifar10" / f"python-{md5}"
    assert {out.splitlines()[-1] for out, _ in results} == {str(unpacked)}
    assert sorted(os.listdir(unpacked / "cifar-10-batches-py")) == sorted(f"data_batch_{i}" for i in range(20))
    assert leftovers(cache) == []


def test_leftovers_of_a_killed_unpack_are_removed_on_the_next_run(tmp_path, monkeypatch):
    root, md5 = fake_cifar_archive(tmp_path)
    start, cache = tmp_path / "start", tmp_path / "cache"
    start.touch()
    worker = unpacker(root, md5, start, 60.0, cache)
    assert worker.stdout.readline().strip() == "unpacked", worker.stderr.read()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert leftovers(cache) != []  # what kill -9 leaves behind
    monkeypatch.setenv("RBMBOOK_CACHE", str(cache))
    monkeypatch.setattr(cifar10, "ARCHIVE_MD5", md5)
    assert cifar10._canonical_root(root, False) == cache / "cifar10" / f"python-{md5}"
    assert leftovers(cache) == []


# ------------------------------------------------------------------------------------------------ stalled mirror
@pytest.fixture
def stalled_mirror():
    """A server on 127.0.0.1 that accepts connections and never answers; yields (address, connection count)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    held, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}", held
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_a_download_from_a_stalled_mirror_times_out_naming_the_address(tiny, stalled_mirror, monkeypatch):
    root, _, _ = tiny
    address, connections = stalled_mirror
    (root / "mnist" / TRAIN_LABELS).unlink()
    monkeypatch.setattr(mnist, "MIRRORS", [f"http://{address}/mnist/"])
    monkeypatch.setattr(files, "DOWNLOAD_TIMEOUT", 1.0, raising=False)
    monkeypatch.setattr(files, "DOWNLOAD_ATTEMPTS", 2, raising=False)
    monkeypatch.setattr(files, "RETRY_PAUSE", 0.0, raising=False)
    outcome = {}

    def load():
        try:
            MNIST(root, download=True)
        except Exception as error:  # noqa: BLE001 (reported below)
            outcome["error"] = error

    started = time.monotonic()
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the download hung on a mirror that never answers"
    assert time.monotonic() - started < 6
    error = outcome.get("error")
    assert isinstance(error, MissingDataError), error
    message = str(error)
    assert f"http://{address}/mnist/{TRAIN_LABELS}" in message and "timed out" in message
    assert "2 attempts" in message and str(root / "mnist") in message and mnist.MD5[TRAIN_LABELS] in message
    assert len(connections) == 2  # one retry, then the error
    assert os.listdir(root / "mnist") == [TRAIN_IMAGES]
    assert leftovers(root) == []


# ------------------------------------------------------------------------------------------------ decoded caches
def tamper(cache: Path, how: str) -> list[Path]:
    """Alter (valid files with other content) or truncate every decoded cache file; returns the files touched."""
    touched = []
    for path in sorted(cache.rglob("*")):
        if not path.is_file() or path.name.endswith(".lock") or "downloads" in path.parts:
            continue
        if how == "truncated":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        elif path.suffix == ".npz":
            with np.load(path) as arrays:
                planted = {k: v[:1] * 0 if v.dtype.kind in "iuf" else v for k, v in arrays.items()}
            np.savez(path, **planted)
        elif path.suffix == ".npy":
            np.save(path, np.zeros_like(np.load(path)))
        else:  # raw bytes, e.g. a decompressed idx file: the last item changed (an MNIST label 9 → 8)
            raw = bytearray(path.read_bytes())
            raw[-1] = (raw[-1] + 255) % 256
            path.write_bytes(bytes(raw))
        touched.append(path)
    return touched


def mnist_data(root):
    dataset = MNIST(root, download=False)
    return dataset.data, dataset.targets


def cifar_jpeg_data(root):
    dataset = CIFAR10(root)
    return torch.from_numpy(dataset.data), torch.tensor(dataset.targets)


def lfw_data(root):
    return (LFWVerification(root, size=8).images,)


def norb_data(root):
    return load_norb("small", root=root)[:2]


@pytest.fixture(params=["mnist", "cifar10-jpeg", "lfw", "norb"])
def decoded(request, tmp_path, monkeypatch):
    """(root, loader) of a small data set whose loader writes a decoded cache under $RBMBOOK_CACHE."""
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RBMBOOK_DATA", raising=False)
    if request.param == "mnist":
        return request.getfixturevalue("tiny")[0], mnist_data
    if request.param == "lfw":
        return request.getfixturevalue("fake_lfw"), lfw_data
    root = tmp_path / "root"
    if request.param == "norb":
        images = np.random.default_rng(0).integers(0, 256, (3, 2, 96, 96), dtype=np.uint8)
        write_set(root / "norb", norb.SMALL["train"][0], images, np.array([4, 0, 2]))
        return root, norb_data
    write_zip(root / "cifar10" / "cifar-10-images.zip",
              {f"train/{name}/{i}.jpg": jpeg(i) for i, name in enumerate(["cat", "truck", "ship"])}, monkeypatch)
    return root, cifar_jpeg_data


@pytest.mark.parametrize("how", ["altered", "truncated"])
def test_an_altered_or_truncated_decoded_cache_is_rebuilt_never_used(decoded, how, tmp_path):
    root, load = decoded
    expected = load(root)
    touched = tamper(tmp_path / "cache", how)
    with pytest.warns(UserWarning, match="rebuilding") if touched else contextlib.nullcontext():
        got = load(root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # healed: read back without a warning
        again = load(root)
    for want, first, second in zip(expected, got, again):
        assert torch.equal(first, want) and torch.equal(second, want)


# ------------------------------------------------------------------------------------------------ errors and remedies
def test_a_good_copy_in_the_cache_is_used_when_the_read_only_root_holds_a_corrupt_one(tiny, monkeypatch):
    root, _, labels = tiny
    good = (root / "mnist" / TRAIN_LABELS).read_bytes()
    (root / "mnist" / TRAIN_LABELS).write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    monkeypatch.setenv("RBMBOOK_DATA", str(root))  # shared, read-only
    with pytest.raises(CorruptDataError) as error:
        MNIST(download=False)
    message = str(error.value)
    downloads = files.cache_dir("downloads", "mnist")
    assert "RBMBOOK_DATA" in message and "read-only" in message and str(downloads) in message
    assert "RBMBOOK_CACHE" in message and "delete it" not in message
    (downloads / TRAIN_LABELS).write_bytes(good)
    assert MNIST(download=False).targets.tolist() == labels.tolist()


def test_a_corrupt_file_that_cannot_be_downloaded_asks_for_a_good_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "root"
    write_zip(root / "cifar10" / "cifar-10-images.zip", {"train/cat/0.jpg": jpeg(0)}, monkeypatch)
    monkeypatch.setattr(cifar10, "ZIP_MD5", "f" * 32)
    with pytest.raises(CorruptDataError) as error:
        CIFAR10(root)
    message = str(error.value)
    assert "cannot be downloaded" in message and "download=True" not in message and "f" * 32 in message
    assert "good copy" in message


@pytest.mark.parametrize("cache", ["a file", "under a file", "read-only"])
def test_an_unwritable_cache_names_rbmbook_cache_and_the_remedy(tmp_path, monkeypatch, cache):
    if cache == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    root = tmp_path / "root"
    write_zip(root / "cifar10" / "cifar-10-images.zip", {"train/cat/0.jpg": jpeg(0)}, monkeypatch)
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    path = {"a file": blocker, "under a file": blocker / "cache", "read-only": tmp_path / "ro"}[cache]
    if cache == "read-only":
        path.mkdir()
        path.chmod(0o555)
    monkeypatch.setenv("RBMBOOK_CACHE", str(path))
    with pytest.raises(DataError) as error:
        CIFAR10(root)
    message = str(error.value)
    assert "RBMBOOK_CACHE" in message and str(path) in message and "writable" in message


# ------------------------------------------------------------------------------------------------ saved RBMs
def rbm(**kwargs):
    kwargs.setdefault("generator", torch.Generator().manual_seed(0))
    return RBM(6, 4, weight_std=0.1, **kwargs)


@pytest.mark.parametrize("saved, target, difference", [
    (dict(visible=Gaussian()), dict(), "visible units: Gaussian"),
    (dict(hidden=SteppedSigmoid(100)), dict(hidden=SteppedSigmoid(3)), "n_copies"),
    (dict(hidden=NReLU("unit")), dict(hidden=NReLU("sigmoid")), "noise_variance"),
    (dict(hidden=NReLU()), dict(hidden=Bernoulli()), "hidden units: NReLU"),
    (dict(hidden_bias=False), dict(), "hidden bias: fixed at 0"),
    (dict(), dict(hidden_bias=False), "hidden bias: learned"),
])
def test_a_state_dict_of_another_rbm_is_refused_naming_the_difference(saved, target, difference):
    source, model = rbm(**saved), rbm(generator=torch.Generator().manual_seed(1), **target)
    with torch.no_grad():
        source.visible_bias.fill_(0.7)
        source.hidden_bias.fill_(0.7)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError, match=difference):
        model.load_state_dict(source.state_dict())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_state_dict_of_another_shape_loads_nothing():
    model = RBM(6, 4, generator=torch.Generator().manual_seed(1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"hidden_bias.*\(5,\).*\(4,\)"):
        model.load_state_dict({"weight": torch.ones(6, 4), "visible_bias": torch.ones(6),
                               "hidden_bias": torch.ones(5)})
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_unit_types_and_their_settings_survive_a_checkpoint(tmp_path):
    from rbmlib.checkpoint import load_checkpoint, save_checkpoint
    source = rbm(visible=Gaussian(), hidden=SteppedSigmoid(7), hidden_bias=False)
    save_checkpoint(source.state_dict(), tmp_path / "rbm.pt")
    state = load_checkpoint(tmp_path / "rbm.pt")
    with pytest.raises(RuntimeError, match="n_copies"):
        rbm(visible=Gaussian(), hidden=SteppedSigmoid(100), hidden_bias=False).load_state_dict(state)
    model = rbm(visible=Gaussian(), hidden=SteppedSigmoid(7), hidden_bias=False,
                generator=torch.Generator().manual_seed(1))
    model.load_state_dict(state)
    assert torch.equal(model.weight, source.weight)


# ------------------------------------------------------------------------------------------------ trainers
PATTERNS = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0]], dtype=torch.float32)


def trained(sampler, **config):
    trainer = Trainer(rbm(), TrainConfig(epochs=2, batch_size=3, **config), sampler, torch.Generator().manual_seed(3))
    return trainer.fit(PATTERNS, progress=False)


def snapshot(trainer):
    return ({k: v.clone() for k, v in trainer.rbm.state_dict().items()},
            {k: v.clone() for k, v in trainer.velocity.items()},
            {k: v.clone() for k, v in trainer.sampler.state_dict().items()},
            trainer.generator.get_state(), trainer.epoch_, list(trainer.history_))


def assert_unchanged(trainer, before):
    after = snapshot(trainer)
    for old, new in zip(before[:3], after[:3]):
        assert old.keys() == new.keys() and all(torch.equal(old[k], new[k]) for k in old)
    assert torch.equal(before[3], after[3]) and before[4:] == after[4:]


def test_a_trainer_saved_with_another_config_warns_naming_the_difference():
    state = trained(CD(1), learning_rate=0.05).state_dict()
    trainer = Trainer(rbm(), TrainConfig(epochs=4, batch_size=3, learning_rate=0.1), CD(1))
    with pytest.warns(UserWarning, match=r"learning_rate.*0\.05.*0\.1"):
        trainer.load_state_dict(state)
    assert trainer.epoch_ == 2 and trainer.config.learning_rate == 0.1


def test_resuming_with_more_epochs_does_not_warn(recwarn):
    state = trained(CD(1)).state_dict()
    Trainer(rbm(), TrainConfig(epochs=5, batch_size=3), CD(1)).load_state_dict(state)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("change", ["sampler", "rbm", "velocity", "missing velocity"])
def test_a_trainer_that_fails_to_load_is_left_untouched(change):
    """Every part is checked before any is loaded: the RBM, the sampler (its persistent chains included), the
    velocities, the generator and the history stay as they were."""
    state = trained(PCD(1, n_chains=3)).state_dict()
    model = rbm(generator=torch.Generator().manual_seed(9), **({"hidden_bias": False} if change == "rbm" else {}))
    trainer = Trainer(model, TrainConfig(epochs=2, batch_size=3), CD(1) if change == "sampler" else PCD(1))
    if change == "velocity":
        state["velocity"]["weight"] = torch.zeros(2, 2)
    if change == "missing velocity":
        del state["velocity"]["hidden_bias"]
    before = snapshot(trainer)
    with pytest.raises((RuntimeError, ValueError)):
        trainer.load_state_dict(state)
    assert_unchanged(trainer, before)


# ------------------------------------------------------------------------------------------------ estimators
def nan_weights():
    model = rbm()
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    return model


@pytest.mark.parametrize("estimate", [
    lambda: ais(rbm(), n_runs=4, betas=torch.tensor([0.0, float("nan"), 1.0])),
    lambda: ais(nan_weights(), n_runs=4, betas=torch.linspace(0, 1, 5)),
    lambda: ais(rbm(), n_runs=4, betas=torch.linspace(0, 1, 5), base_visible_bias=torch.full((6,), float("inf"))),
    lambda: reverse_ais(rbm(), torch.full((4, 6), float("nan")), betas=torch.linspace(0, 1, 5)),
    lambda: reverse_ais(nan_weights(), PATTERNS, betas=torch.linspace(0, 1, 5)),
    lambda: exact_log_partition(nan_weights()),
    lambda: average_log_probability(rbm(), PATTERNS, float("nan")),
    lambda: average_log_probability(nan_weights(), PATTERNS, 1.0),
    lambda: pseudo_log_likelihood(rbm(), torch.full((2, 6), float("nan"))),
], ids=["ais-beta", "ais-weights", "ais-base", "reverse-ais-samples", "reverse-ais-weights", "exact-log-z",
        "log-prob-log-z", "log-prob-weights", "pseudo-likelihood-data"])
def test_estimators_refuse_non_finite_inputs(estimate):
    with pytest.raises(ValueError, match="non-finite|NaN"):
        estimate()


def test_a_gpu_epoch_defers_the_divergence_test_to_its_end_and_still_raises():
    """On a GPU the per-batch finiteness test is summed on the device and read once per epoch (no stall per batch);
    forced here on the CPU, a diverging run still raises a clear error, at the end of the epoch it diverged in."""
    from rbmlib.rbm import RBM
    from rbmlib.train import DivergenceError, TrainConfig, Trainer
    from rbmlib.units import Gaussian, NReLU

    data = torch.randn(200, 20, generator=torch.Generator().manual_seed(0)) * 3
    rbm = RBM(20, 10, visible=Gaussian(), hidden=NReLU(), generator=torch.Generator().manual_seed(0))
    trainer = Trainer(rbm, TrainConfig(epochs=50, batch_size=20, learning_rate=100.0))
    trainer._defer_finite_test = True
    with pytest.raises(DivergenceError, match=r"diverged in epoch \d+: non-finite .* in at least one batch"):
        trainer.fit(data, progress=False)
    healthy = Trainer(RBM(20, 10, generator=torch.Generator().manual_seed(0)), TrainConfig(epochs=2, batch_size=20))
    healthy._defer_finite_test = True
    reference = Trainer(RBM(20, 10, generator=torch.Generator().manual_seed(0)), TrainConfig(epochs=2, batch_size=20))
    binary = (torch.rand(200, 20, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    healthy.fit(binary, progress=False)
    reference.fit(binary, progress=False)
    assert torch.equal(healthy.rbm.weight, reference.rbm.weight)  # the deferral changes no arithmetic


def test_cuda_graphs_are_refused_off_the_gpu_and_for_persistent_chains():
    from rbmlib.rbm import RBM
    from rbmlib.samplers import PCD
    from rbmlib.train import TrainConfig, Trainer

    with pytest.raises(ValueError, match="CUDA device and a CD\\(k\\) sampler"):
        Trainer(RBM(6, 4), TrainConfig(epochs=1), cuda_graphs=True)
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="PCD"):
            Trainer(RBM(6, 4).cuda(), TrainConfig(epochs=1), PCD(1), torch.Generator("cuda"), cuda_graphs=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graph_training_follows_the_eager_trainer():
    """Replayed updates do exactly what eager ones do, draws included: a schedule change (momentum switch) and a
    short last batch in the run (bit-identical weights on an H200, torch 2.11, 2026-11-30)."""
    from rbmlib.rbm import RBM
    from rbmlib.train import TrainConfig, Trainer

    x = (torch.rand(1050, 30, generator=torch.Generator().manual_seed(0)) < 0.3).float().cuda()
    config = TrainConfig(epochs=4, batch_size=100, learning_rate=0.1, momentum_switch_epoch=2)
    trainers = [Trainer(RBM(30, 20, generator=torch.Generator().manual_seed(0)).cuda(), config,
                        generator=torch.Generator("cuda").manual_seed(0), cuda_graphs=graphs) for graphs in (0, 1)]
    for t in trainers:
        t.fit(x, progress=False)
    eager, graphed = trainers
    assert [r["momentum"] for r in graphed.history_] == [r["momentum"] for r in eager.history_]
    for name, p in eager.rbm.named_parameters():
        assert torch.equal(dict(graphed.rbm.named_parameters())[name], p), name
