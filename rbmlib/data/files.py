"""Where data files live and how they are checked, fetched and cached.

* Data root: ``RBMBOOK_DATA`` if set, else ``~/.cache/rbmbook`` (or an explicit ``root=``). Each data set has a
  folder of its own under it (``<root>/mnist``, ``<root>/lfw``, ...). The root named by ``RBMBOOK_DATA`` is shared
  and **never written**: downloads meant for it go to ``<cache>/downloads/<data set>/`` instead, and a good copy
  there is used when the shared one is absent or corrupt. Any other root receives downloads in
  ``<root>/<data set>/``, as torchvision does.
* Cache: ``RBMBOOK_CACHE`` if set, else ``~/.cache/rbmbook/decoded``. Decoded arrays and unpacked archives are stored
  there under names that carry the md5 of the md5-checked source they came from or, for sources without a known md5
  (NORB's files, LFW's image folder), an md5 of their files' names, sizes and modification times, so that a changed
  source is not served from a stale cache; each ``.npz`` also holds the SHA-256 of its arrays, and one that is
  altered or truncated is rebuilt (with a warning).
* Every file read through ``checked_file`` is md5-checked before use; an unpacked folder already under the root
  (CIFAR-10's batches, LFW's images) and NORB's files are used unchecked. Downloads time out (``DOWNLOAD_TIMEOUT``
  seconds per connect or read), are tried up to ``DOWNLOAD_ATTEMPTS`` times per address, ``RETRY_PAUSE`` seconds
  apart, on a timeout, a dropped connection or a server error (5xx), then the next address is tried; each is
  written to a temporary file renamed (``os.replace``) only once its md5 is right.
* One process at a time builds a given unpacked folder or decoded cache (``build_once``, ``cached_arrays``: a lock
  file beside it; other processes wait, then use it); what a killed build left behind is removed by the next one.
  Downloads take no lock: processes fetching one file at once each download it (the last rename wins), and a killed
  download's temporary file is left in place.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from filelock import FileLock
from torchvision.datasets.utils import calculate_md5

from ..checkpoint import atomic_path

DATA_ENV = "RBMBOOK_DATA"
CACHE_ENV = "RBMBOOK_CACHE"
DEFAULT_ROOT = Path("~/.cache/rbmbook")


class DataError(RuntimeError):
    """A data file is missing, corrupt or malformed."""


class MissingDataError(DataError):
    """A data file is absent and was not downloaded: downloading was off, impossible, or failed."""


class CorruptDataError(DataError):
    """A data file is present but has the wrong md5 or a malformed content; it is never used."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$RBMBOOK_DATA``, else ``~/.cache/rbmbook``."""
    if root is None:
        root = os.environ.get(DATA_ENV) or DEFAULT_ROOT
    return Path(root).expanduser()


def _cache_base() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_ROOT / "decoded").expanduser()


def writable_dir(folder: Path) -> Path:
    """``folder``, created if absent; a DataError naming ``RBMBOOK_CACHE`` and the remedy if it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        problem = None if os.access(folder, os.W_OK | os.X_OK) else "not writable"
    except OSError as error:
        problem = str(error)
    if problem is not None:
        raise DataError(
            f"cannot write to {folder} ({problem}). Decoded caches, and downloads for the read-only ${DATA_ENV} "
            f"root, go under ${CACHE_ENV} (now {os.environ.get(CACHE_ENV) or 'unset'}; default "
            f"{DEFAULT_ROOT / 'decoded'}); downloads for a root passed as an argument go into that root. Set "
            f"{CACHE_ENV} to a writable folder, or pass a writable root."
        )
    return folder


def cache_dir(*parts: str) -> Path:
    """A folder of the writable cache (``$RBMBOOK_CACHE``, else ``~/.cache/rbmbook/decoded``), created if absent."""
    return writable_dir(_cache_base().joinpath(*parts))


def _is_shared_root(root: Path) -> bool:
    shared = os.environ.get(DATA_ENV)
    return bool(shared) and Path(shared).expanduser().resolve() == root.resolve()


def download_dir(root: Path, dataset: str) -> Path:
    """Where downloads go: ``<cache>/downloads/<dataset>`` for the shared root, else ``<root>/<dataset>``."""
    return _cache_base() / "downloads" / dataset if _is_shared_root(root) else root / dataset


def _candidates(root: Path, dataset: str, name: str) -> list[Path]:
    """The existing ones of ``<root>/<dataset>/<name>`` and ``<download dir>/<name>``, in that order."""
    folders = dict.fromkeys((root / dataset, download_dir(root, dataset)))
    return [folder / name for folder in folders if (folder / name).exists()]


def find_file(root: Path, dataset: str, name: str) -> Path | None:
    """The first existing ``<root>/<dataset>/<name>`` or ``<download dir>/<name>``, else None."""
    return next(iter(_candidates(root, dataset, name)), None)


def missing_message(root: Path, dataset: str, name: str, remedy: str) -> str:
    """The message of a MissingDataError: which file, the folder ``<root>/<dataset>`` (not the download folder,
    also searched for a shared root), how the data root is chosen, then ``remedy``."""
    return (
        f"{dataset} file {name!r} not found in {root / dataset} (data root {root}: set by the root argument, "
        f"else ${DATA_ENV}, else {DEFAULT_ROOT}). {remedy}"
    )


def good_copy_remedy(root: Path, dataset: str, name: str, md5: str) -> str:
    """Where a good copy of ``name`` can be put: ``<root>/<dataset>/<name>``, or, for the shared ``$RBMBOOK_DATA``
    root (treated as read-only), its download folder under the cache."""
    if _is_shared_root(root):
        return (f"${DATA_ENV} ({root}) is treated as read-only: put a good copy (md5 {md5}) in "
                f"{download_dir(root, dataset)} (under ${CACHE_ENV}), where it is looked for too")
    return f"put a good copy (md5 {md5}) at {root / dataset / name}"


def check_md5(path: Path, md5: str) -> None:
    """Raise CorruptDataError (expected and actual md5) unless ``path`` has the given md5; the file is left in place."""
    actual = calculate_md5(path)
    if actual != md5:
        raise CorruptDataError(f"{path} is corrupt: md5 {actual}, expected {md5}. The file was left in place and "
                               "not used.")


@contextlib.contextmanager
def exclusive(dest: Path) -> Iterator[None]:
    """Hold the lock of ``dest`` (``.<name>.lock`` beside it) and remove what killed builds of it left behind
    (``.<name>.*.part`` beside it); ``dest``'s folder is created first (a DataError if it cannot be written)."""
    writable_dir(dest.parent)
    with FileLock(dest.with_name(f".{dest.name}.lock")):
        for leftover in dest.parent.glob(f".{dest.name}.*.part"):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink(missing_ok=True)
        yield


def build_once(dest: Path, build: Callable[[Path], None]) -> Path:
    """``dest``, made by ``build(tmp)`` and renamed into place unless it exists; one builder at a time."""
    if not dest.exists():
        with exclusive(dest):
            if not dest.exists():
                with atomic_path(dest) as tmp:
                    build(tmp)
    return dest


def _digest(arrays: dict[str, np.ndarray]) -> str:
    sha = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        sha.update(f"{key} {array.dtype.str} {array.shape}\n".encode())
        sha.update(array.data)
    return sha.hexdigest()


def _read_checked(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cached ``.npz`` if it exists and matches its SHA-256, else None (warning if it was bad)."""
    if not path.exists():
        return None
    try:
        with np.load(path) as stored:
            arrays = {key: stored[key] for key in stored.files}
        problem = None if str(arrays.pop("sha256", "")) == _digest(arrays) else "does not match its SHA-256"
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        problem = f"cannot be read ({type(error).__name__}: {error})"
    if problem is None:
        return arrays
    warnings.warn(f"decoded cache {path} {problem}: rebuilding it from the md5-checked source", stacklevel=3)
    return None


def cached_arrays(path: Path, decode: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays cached at ``path`` (an ``.npz`` with their SHA-256), decoded and saved first if absent or bad."""
    with exclusive(path):  # a second process waits, then reads what the first one wrote
        arrays = _read_checked(path)
        if arrays is None:
            arrays = decode()
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, sha256=np.array(_digest(arrays)), **arrays)
    return arrays


DOWNLOAD_TIMEOUT = 30.0  # seconds without progress (connect or read) before a download attempt is given up
DOWNLOAD_ATTEMPTS = 3  # tries per address when it times out, drops the connection or answers a server error (5xx)
RETRY_PAUSE = 2.0  # seconds before the next try


def download_url(url: str, folder: str, filename: str) -> None:
    """Download ``url`` to ``<folder>/<filename>`` with a ``DOWNLOAD_TIMEOUT`` on connecting and on every read."""
    request = urllib.request.Request(url, headers={"User-Agent": "rbmlib"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response, \
            open(Path(folder, filename), "wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


def _transient(error: Exception) -> bool:
    """A timeout, a dropped connection or a server error (5xx): worth another try."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    return isinstance(reason, (TimeoutError, ConnectionError))


def _download_attempts(url: str, tmp: Path) -> None:
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            return download_url(url, str(tmp.parent), tmp.name)
        except (urllib.error.URLError, OSError) as error:
            if not _transient(error) or attempt == DOWNLOAD_ATTEMPTS:
                raise OSError(f"{error} (after {attempt} attempt{'s' * (attempt > 1)}, "
                              f"timeout {DOWNLOAD_TIMEOUT:g} s)") from error
            time.sleep(RETRY_PAUSE)


def fetch(urls: Sequence[str], dest: Path, md5: str, dataset: str, root: Path, corrupt: Sequence[str] = ()) -> Path:
    """Download ``dest`` from the first of ``urls`` that delivers it with the right md5, atomically; no lock is taken.

    Raises MissingDataError naming the file, the addresses and the reasons when every address fails (e.g. offline,
    or a wrong md5), or a CorruptDataError when ``corrupt`` (the md5 failures of the copies found) is not empty: the
    file is there but bad, not missing. A DataError if ``dest``'s folder cannot be written.
    """
    writable_dir(dest.parent)
    failures = []
    for url in urls:
        try:
            with atomic_path(dest) as tmp:
                _download_attempts(url, tmp)
                actual = calculate_md5(tmp)
                if actual != md5:
                    raise CorruptDataError(f"downloaded md5 {actual}, expected {md5}")
            return dest
        except (OSError, CorruptDataError) as error:
            failures.append(f"{url}: {error}")
    if corrupt:
        raise CorruptDataError(" ".join(corrupt) + " A fresh copy could not be downloaded (" + "; ".join(failures)
                               + "): " + good_copy_remedy(root, dataset, dest.name, md5) + ".")
    raise MissingDataError(
        missing_message(root, dataset, dest.name, "") + "Download failed (" + "; ".join(failures) + "). Run where "
        "these addresses can be reached, or " + good_copy_remedy(root, dataset, dest.name, md5) + "."
    )


def checked_file(
    root: Path, dataset: str, name: str, md5: str, urls: Sequence[str] = (), download: bool = False
) -> Path:
    """The md5-checked path of a canonical file, downloaded first if absent and ``download`` (and ``urls``) allow.

    Copies are looked for beside the data, then in the download folder; the first with the right md5 is used.
    No copy: a MissingDataError unless ``download`` and ``urls``, then ``fetch`` into the download folder. Every copy
    corrupt: for the shared root with ``download`` and ``urls``, a fresh copy is fetched into the download folder
    (replacing a corrupt one there); otherwise a CorruptDataError, the copies left in place.
    """
    candidates = _candidates(root, dataset, name)
    if not candidates:
        if not (download and urls):
            how = "Pass download=True to fetch it." if urls else "It cannot be downloaded automatically."
            raise MissingDataError(missing_message(root, dataset, name, f"{how} Expected md5: {md5}."))
        return fetch(urls, download_dir(root, dataset) / name, md5, dataset, root)
    failures = []
    for path in candidates:
        try:
            check_md5(path, md5)
            return path
        except CorruptDataError as error:
            failures.append(str(error))
    shared = _is_shared_root(root)
    if download and urls and shared:  # the shared copy is never replaced: fetch a good one into the cache
        return fetch(urls, download_dir(root, dataset) / name, md5, dataset, root, corrupt=failures)
    if not urls:
        how = "It cannot be downloaded automatically: "
    elif shared:
        how = f"Pass download=True to fetch a fresh copy into {download_dir(root, dataset)}, or "
    else:
        how = "Delete it and pass download=True to fetch it again, or "
    raise CorruptDataError(" ".join(failures) + " " + how + good_copy_remedy(root, dataset, name, md5) + ".")
