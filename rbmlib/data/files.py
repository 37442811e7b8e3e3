"""Where data files live and how they are checked, fetched and cached.

* Data root: ``RBMBOOK_DATA`` if set, else ``~/.cache/rbmbook`` (or an explicit ``root=``). Each data set has a
  folder of its own under it (``<root>/mnist``, ``<root>/lfw``, ...). The root named by ``RBMBOOK_DATA`` is shared
  and **never written**: downloads meant for it go to ``<cache>/downloads/<data set>/`` instead. Any other root
  receives downloads in ``<root>/<data set>/``, as torchvision does.
* Cache: ``RBMBOOK_CACHE`` if set, else ``~/.cache/rbmbook/decoded``. Decoded arrays are stored there, keyed by the
  md5 of the source file they came from, so that a changed source can never be served from a stale cache.
* Every canonical file is md5-checked before use; a download is written to a temporary file in the destination
  folder and renamed (``os.replace``) only once its md5 is right, so an interrupted download leaves nothing under
  the final name.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import urllib.error
import uuid
from pathlib import Path
from typing import Iterator, Sequence

from torchvision.datasets.utils import calculate_md5, download_url

DATA_ENV = "RBMBOOK_DATA"
CACHE_ENV = "RBMBOOK_CACHE"
DEFAULT_ROOT = Path("~/.cache/rbmbook")


class DataError(RuntimeError):
    """A data file is missing, corrupt or malformed."""


class MissingDataError(DataError):
    """A data file is absent (and could not be downloaded)."""


class CorruptDataError(DataError):
    """A data file is present but has the wrong md5 or a malformed content; it is never used."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$RBMBOOK_DATA``, else ``~/.cache/rbmbook``."""
    if root is None:
        root = os.environ.get(DATA_ENV) or DEFAULT_ROOT
    return Path(root).expanduser()


def cache_dir(*parts: str) -> Path:
    """A folder of the writable cache (``$RBMBOOK_CACHE``, else ``~/.cache/rbmbook/decoded``), created if absent."""
    base = Path(os.environ.get(CACHE_ENV) or DEFAULT_ROOT / "decoded").expanduser()
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _is_shared_root(root: Path) -> bool:
    shared = os.environ.get(DATA_ENV)
    return bool(shared) and Path(shared).expanduser().resolve() == root.resolve()


def download_dir(root: Path, dataset: str) -> Path:
    """Where downloads go: ``<cache>/downloads/<dataset>`` for the shared root, else ``<root>/<dataset>``."""
    return cache_dir("downloads", dataset) if _is_shared_root(root) else root / dataset


def find_file(root: Path, dataset: str, name: str) -> Path | None:
    """The first existing ``<root>/<dataset>/<name>`` or ``<download dir>/<name>``, else None."""
    for folder in (root / dataset, download_dir(root, dataset)):
        if (folder / name).exists():
            return folder / name
    return None


def missing_message(root: Path, dataset: str, name: str, remedy: str) -> str:
    """The message of a MissingDataError: which file, where it was looked for, and how to get it."""
    return (
        f"{dataset} file {name!r} not found in {root / dataset} (data root {root}: set by the root argument, "
        f"else ${DATA_ENV}, else {DEFAULT_ROOT}). {remedy}"
    )


def check_md5(path: Path, md5: str) -> None:
    """Raise CorruptDataError (expected and actual md5) unless ``path`` has the given md5; the file is left in place."""
    actual = calculate_md5(path)
    if actual != md5:
        raise CorruptDataError(
            f"{path} is corrupt: md5 {actual}, expected {md5}. The file was left in place and not used; "
            "delete it and download it again (download=True) or copy a good one."
        )


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest`` (a file or a folder): renamed to ``dest`` on success, else deleted."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        tmp.unlink(missing_ok=True)


def fetch(urls: Sequence[str], dest: Path, md5: str, dataset: str, root: Path) -> Path:
    """Download ``dest`` from the first of ``urls`` that works, atomically, and check its md5.

    Raises MissingDataError naming the file and the reasons when every address fails (e.g. offline).
    """
    failures = []
    for url in urls:
        try:
            with atomic_path(dest) as tmp:
                download_url(url, str(tmp.parent), tmp.name)
                actual = calculate_md5(tmp)
                if actual != md5:
                    raise CorruptDataError(f"downloaded md5 {actual}, expected {md5}")
            return dest
        except (urllib.error.URLError, OSError, CorruptDataError) as error:
            failures.append(f"{url}: {error}")
    raise MissingDataError(
        missing_message(root, dataset, dest.name, "")
        + "Download failed (" + "; ".join(failures) + f"). Copy the file (md5 {md5}) to {root / dataset} "
        "or run where these addresses can be reached."
    )


def checked_file(
    root: Path, dataset: str, name: str, md5: str, urls: Sequence[str] = (), download: bool = False
) -> Path:
    """The md5-checked path of a canonical file, downloaded first if absent and ``download`` (and ``urls``) allow."""
    path = find_file(root, dataset, name)
    if path is None:
        if not (download and urls):
            how = "Pass download=True to fetch it." if urls else "It cannot be downloaded automatically."
            raise MissingDataError(missing_message(root, dataset, name, f"{how} Expected md5: {md5}."))
        return fetch(urls, download_dir(root, dataset) / name, md5, dataset, root)
    check_md5(path, md5)
    return path
