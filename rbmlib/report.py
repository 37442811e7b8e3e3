"""Paper-beside-ours tables, verdicts against stated tolerances, figures, and results JSON with provenance.

Tables are Markdown (rendered by the book, compared as text by nbval). Numbers are formatted here, once, with a
fixed number of digits, so that a checked notebook cell changes only when a result changes at that precision.
"""
from __future__ import annotations

import ast
import dataclasses
import datetime as _dt
import hashlib
import io
import json
import math
import os
import platform
import subprocess
import threading
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from . import stats

RESULTS_ENV = "RBMBOOK_RESULTS"
PROFILES_SHOWN = ("ci", "long", "paper")
COMMIT_ENV = "RBMBOOK_GIT_COMMIT"  # names the commit of a copy whose .git is absent or stale; changes then unknown


def fmt(value, digits: int = 2, percent: bool = False, signed: bool = False) -> str:
    """Format a number for a table: fixed digits, '—' for missing, optional percent and sign."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, str):
        return value
    if percent:
        value = 100.0 * value
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text + ("%" if percent else "")


class Table:
    """A Markdown table that shows as a table in the book and as the same text everywhere else."""

    def __init__(self, header: Sequence[str], rows: Iterable[Sequence], caption: str | None = None):
        self.header = [str(h) for h in header]
        self.rows = [[str(c) for c in row] for row in rows]
        for row in self.rows:
            if len(row) != len(self.header):
                raise ValueError(f"row {row} has {len(row)} cells, header has {len(self.header)}")
        self.caption = caption

    def markdown(self) -> str:
        lines = []
        if self.caption:
            lines += [f"**{self.caption}**", ""]
        lines.append("| " + " | ".join(self.header) + " |")
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        return self.markdown()


@dataclass(frozen=True)
class Verdict:
    """A paper's claim (or a sanity check), the rule that decides it and the raw numbers the rule saw.

    The outcome is never typed: it is ``stats.decide(rule, inputs)``, recomputed from ``inputs`` (per-seed or per-fold
    values and the rule's parameters) whenever the verdict is built or read back from a results file.
    ``data`` names the data actually used (the variant string of the loaded data set: a stand-in says so);
    ``paper`` gives the paper's number(s) with their label (verified / UNVERIFIED / secondary);
    ``fragile`` (non-empty) says why the estimate behind the verdict is fragile, and marks the row ⚠.
    """

    claim: str
    rule: str
    inputs: dict
    data: str
    paper: str = ""
    fragile: str = ""
    decision: stats.Decision = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.data:
            raise ValueError(f"verdict {self.claim!r}: name the data it rests on")
        object.__setattr__(self, "decision", stats.decide(self.rule, self.inputs))

    @property
    def outcome(self) -> stats.Outcome:
        return self.decision.outcome

    @property
    def kind(self) -> str:
        """'check' for sanity checks (never counted as reproductions), else 'claim'."""
        return "check" if self.outcome.is_check else "claim"

    @property
    def label(self) -> str:
        return f"{self.outcome.mark} {self.outcome.value}" + (" ⚠" if self.fragile else "")

    def to_json(self) -> dict:
        return {"claim": self.claim, "rule": self.rule, "inputs": self.inputs, "data": self.data,
                "paper": self.paper, "fragile": self.fragile, "kind": self.kind, "outcome": self.outcome.value,
                "evidence": self.decision.evidence, "rule_text": self.decision.rule, "reason": self.decision.reason}

    @classmethod
    def from_json(cls, saved: dict) -> "Verdict":
        """Rebuild a saved verdict from its rule and raw inputs (its outcome is recomputed, not read)."""
        if "rule" not in saved or "inputs" not in saved:
            raise ValueError(f"verdict {saved.get('claim')!r} has no rule and raw inputs: it cannot be recomputed")
        return cls(saved["claim"], saved["rule"], saved["inputs"], saved["data"], saved.get("paper", ""),
                   saved.get("fragile", ""))


def claim(claim: str, rule: str, *, data: str, paper: str = "", fragile: str = "", **inputs) -> Verdict:
    """``Verdict(claim, rule, inputs, data, paper, fragile)`` with the rule's inputs as keywords."""
    return Verdict(claim, rule, inputs, data, paper, fragile)


def _outcome_cell(v: Verdict) -> str:
    reason = f" — {v.decision.reason}" if v.decision.reason else ""
    fragile = f" (⚠ {v.fragile})" if v.fragile else ""
    return f"{v.label}{reason}{fragile}"


def verdict_table(verdicts: Sequence[Verdict], caption: str | None = "Verdicts") -> Table:
    """The claims among ``verdicts``: paper's claim, paper's number, decision rule, our evidence, outcome."""
    rows = [[v.claim, v.paper or "—", v.decision.rule, v.decision.evidence, _outcome_cell(v)]
            for v in verdicts if v.kind == "claim"]
    return Table(["paper's claim", "paper", "rule (stated before the run)", "ours", "outcome"], rows, caption)


def check_table(verdicts: Sequence[Verdict], caption: str | None = "Sanity checks (not reproductions)") -> Table:
    """The sanity checks among ``verdicts``: what is checked, the rule, the value, passed or failed."""
    rows = [[v.claim, v.decision.rule, v.decision.evidence, v.label] for v in verdicts if v.kind == "check"]
    return Table(["check", "rule", "ours", "outcome"], rows, caption)


CPUINFO = Path("/proc/cpuinfo")  # Linux; elsewhere absent, and the functions below fall back


def _cpuinfo(field: str) -> str | None:
    """The value of the first ``field`` line of ``/proc/cpuinfo``; None where the file or the line is absent."""
    try:
        text = CPUINFO.read_text()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(field)), None)


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    return _cpuinfo("model name") or platform.processor() or platform.machine() or "cpu"


def cpu_vendor() -> str | None:
    """The CPU's vendor ("GenuineIntel", "AuthenticAMD"): ``vendor_id`` of ``/proc/cpuinfo``, None where absent."""
    return _cpuinfo("vendor_id")


def cpu_vector_isa() -> str | None:
    """The widest x86 vector extension the CPU offers ("AVX-512", "AVX2", "AVX", "SSE4.2"), from the ``flags`` of
    ``/proc/cpuinfo``; None where that file or those flags are absent. Two machines of one model name (a VM's
    "AMD EPYC") can differ here, and with it in the speed of an unpinned run."""
    flags = set((_cpuinfo("flags") or "").split())
    return next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"),
                                          ("sse4_2", "SSE4.2")) if flag in flags), None)


def book_root(start: Path | None = None) -> Path | None:
    """The rbmbook checkout that holds the working directory (the first ancestor with ``_toc.yml`` and
    ``book/results``), or None outside one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "book" / "results").is_dir():
            return folder
    return None


def _git(*args: str, cwd: Path) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True, cwd=cwd).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


# What save_results records. Bump it when what code_hash covers changes, and keep the scheme it replaces computable
# (code_hash's ``scheme``) for as long as a results file records that one.
CODE_HASH_SCHEME = "rbmbook-code-hash-3"
# rbmlib's sources hashed as bytes: the scheme of every results file that records no ``code_hash_scheme``
BYTES_SCHEME = "rbmbook-code-hash-2"


def chapter_notebook(name: str, root: Path | None = None) -> Path | None:
    """The chapter notebook that writes the results ``name``: ``notebooks/<name>.ipynb`` of the checkout ``root``
    (default: the one holding the working directory), else its only ``notebooks/<name>_*.ipynb`` (``he2015`` →
    ``he2015_delving_deep.ipynb``); None outside a checkout, or when no notebook or several match."""
    root = root if root is not None else book_root()
    if root is None:
        return None
    folder = Path(root) / "notebooks"
    exact = folder / f"{name}.ipynb"
    if exact.is_file():
        return exact
    matches = sorted(folder.glob(f"{name}_*.ipynb"))
    return matches[0] if len(matches) == 1 else None


def notebook_code(path: Path | str) -> str:
    """A notebook's code, normalised for :func:`code_hash`: the source of each non-blank code cell, in order, with
    line endings as ``\\n``, trailing spaces of every line and blank lines at the cell's ends removed, cells joined
    by a NUL line. Outputs, execution counts, cell metadata (tags) and Markdown cells are left out: re-executing a
    notebook or rewording its prose does not change it."""
    cells = []
    for cell in json.loads(Path(path).read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = [line.rstrip() for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        text = "\n".join(lines).strip("\n")
        if text.strip():
            cells.append(text)
    return "\n\0\n".join(cells)


_PARSE = threading.Lock()  # CPython 3.11's ast.parse is not thread-safe ("AST constructor recursion depth mismatch")


def module_code(source: str) -> str:
    """A module's code, normalised for :func:`code_hash`: its source (with ``\\n`` line ends, as ``read_text``
    gives) without docstrings (a string first in a module's, class's or function's body), comments, trailing spaces
    and blank lines, so that rewording its documentation leaves the hash, and so the results it computed, current.
    The lines of any other string that spans lines are kept exactly, blank or not."""
    lines = source.split("\n")
    spans = [(token.start, token.end) for token in tokenize.generate_tokens(io.StringIO(source).readline)
             if token.type == tokenize.COMMENT]
    with _PARSE:
        tree = ast.parse(source)
    docstrings, verbatim = set(), set()
    for node in ast.walk(tree):
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
                and isinstance(first := node.body[0], ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            docstrings.add(first.value)
            spans.append(((first.lineno, _characters(lines[first.lineno - 1], first.col_offset)),
                          (first.end_lineno, _characters(lines[first.end_lineno - 1], first.end_col_offset))))
    for node in ast.walk(tree):
        string = isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                                      and isinstance(node.value, (str, bytes)))
        if string and node.end_lineno > node.lineno and node not in docstrings:
            verbatim.update(range(node.lineno - 1, node.end_lineno - 1))  # its lines but the last, where it ends
    for (first_line, start), (last_line, end) in sorted(spans, reverse=True):  # the last first: columns hold
        if first_line == last_line:
            lines[first_line - 1] = lines[first_line - 1][:start] + lines[first_line - 1][end:]
        else:
            lines[first_line - 1:last_line] = ([lines[first_line - 1][:start]] + [""] * (last_line - first_line - 1)
                                               + [lines[last_line - 1][end:]])
    return "\n".join(line if i in verbatim else line.rstrip()
                     for i, line in enumerate(lines) if i in verbatim or line.strip())


def _characters(line: str, utf8_offset: int) -> int:
    """The character column of ``ast``'s UTF-8 byte column ``utf8_offset`` in ``line``."""
    return len(line.encode()[:utf8_offset].decode())


def code_hash(name: str, root: Path | None = None, scheme: str = CODE_HASH_SCHEME) -> tuple[str, str | None]:
    """The hash of the code that produces the results ``name``, and the notebook it covers (relative to ``root``).

    SHA-256 (hex) over, in this order: the scheme name; the chapter notebook's path relative to the checkout and its
    :func:`notebook_code` (nothing when :func:`chapter_notebook` finds none); then every ``.py`` file of the imported
    ``rbmlib`` package that computes (all but ``rbmlib.grid.NOT_COMPUTING``: editing how results are shown, decided
    or stored leaves them current), sorted by its path inside the package, each as its path and its
    :func:`module_code` (``scheme=BYTES_SCHEME``, that of older results files: its bytes). A results file records
    it and its scheme (``provenance.code_hash``, ``code_hash_scheme``); :func:`code_status` compares it with the
    code of now.
    """
    if scheme not in (CODE_HASH_SCHEME, BYTES_SCHEME):
        raise ValueError(f"unknown code hash scheme {scheme!r}: this rbmlib knows {CODE_HASH_SCHEME!r} and "
                         f"{BYTES_SCHEME!r}")
    root = root if root is not None else book_root()
    digest = hashlib.sha256(scheme.encode() + b"\0")
    notebook = chapter_notebook(name, root)
    relative = None
    if notebook is not None:
        relative = notebook.resolve().relative_to(Path(root).resolve()).as_posix()
        digest.update(f"notebook {relative}\0{notebook_code(notebook)}\0".encode())
    for relative_path, path in computing_modules():
        code = path.read_bytes() if scheme == BYTES_SCHEME else module_code(path.read_text("utf-8")).encode()
        digest.update(f"rbmlib/{relative_path}\0".encode() + code + b"\0")
    return digest.hexdigest(), relative


def computing_modules() -> list[tuple[str, Path]]:
    """The ``.py`` files of the imported ``rbmlib`` package that compute (all but ``rbmlib.grid.NOT_COMPUTING``), as
    (path inside the package, path), sorted by the former: what :func:`code_hash` and ``rbmlib.grid.code_version``
    hash."""
    from .grid import NOT_COMPUTING

    package = Path(__file__).resolve().parent
    inside = sorted((path.relative_to(package).as_posix(), path) for path in package.rglob("*.py"))
    return [(relative, path) for relative, path in inside if relative not in NOT_COMPUTING]


CURRENT, STALE, NO_CODE_HASH = "current", "stale", "no code hash"


def recorded_scheme(payload: dict) -> str:
    """The :func:`code_hash` scheme a results file recorded its hash under (``BYTES_SCHEME`` when it names none)."""
    return (payload.get("provenance") or {}).get("code_hash_scheme", BYTES_SCHEME)


def code_status(payload: dict, root: Path | None = None, *, current_hash: str | None = None) -> str:
    """``"current"`` when a results file's recorded code hash equals :func:`code_hash` of its name now, under the
    scheme it recorded (:func:`recorded_scheme`; ``current_hash`` when given), ``"stale"`` when it differs (the
    notebook's code or rbmlib changed since the run) or the scheme is unknown here, ``"no code hash"`` when none is recorded (a file written
    before hashes were recorded)."""
    recorded = (payload.get("provenance") or {}).get("code_hash")
    if not recorded:
        return NO_CODE_HASH
    if recorded_scheme(payload) not in (CODE_HASH_SCHEME, BYTES_SCHEME):
        return STALE  # a scheme this rbmlib cannot compute (a newer one's file): never shown as current
    now = current_hash if current_hash is not None else code_hash(payload["name"], root, recorded_scheme(payload))[0]
    return CURRENT if recorded == now else STALE


def provenance(seeds: Sequence[int] | None = None, wall_time_s: float | None = None) -> dict:
    """Where and how a result was computed: rbmlib's version, the checkout's commit (``$RBMBOOK_GIT_COMMIT`` where
    set: a copy whose ``.git`` is absent or stale) and its uncommitted changes (tracked files other than
    ``book/results``; None outside a checkout), versions, device, threads, seeds, time; after cached grid runs
    (``long``, ``paper``) also ``grid_cells``, ``rbmlib.grid.cells_run()``: a resumed run's cells and their compute
    time, which its wall time (the last execution's) leaves out."""
    import numpy
    import torch

    from . import __version__
    from .grid import cells_run, default_jobs
    from .reproducibility import cpu_arithmetic_pinned

    root = book_root()
    commit = changes = None
    if os.environ.get(COMMIT_ENV):  # a copy whose .git may not match it (a lent GPU machine) names its commit
        commit = os.environ[COMMIT_ENV]
    elif root is not None and (head := _git("rev-parse", "HEAD", cwd=root)):
        commit = head.strip()
        status = _git("status", "--porcelain", "--untracked-files=no", cwd=root) or ""
        changes = sorted(line[3:] for line in status.splitlines() if not line[3:].startswith("book/results/"))
    cpu = cpu_name()
    grid_cells = cells_run()
    return {
        "rbmlib": __version__,
        "git_commit": commit,
        "uncommitted_changes": changes,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else cpu,
        "cuda": torch.cuda.is_available(),
        "torch_threads": torch.get_num_threads(),
        "grid_jobs": default_jobs(),  # grid cells run at once
        "cpu": cpu,
        "cpu_vector_isa": cpu_vector_isa(),
        "cpu_arithmetic_pinned": cpu_arithmetic_pinned(),
        "seeds": list(seeds) if seeds is not None else None,
        "wall_time_s": None if wall_time_s is None else round(wall_time_s, 1),
        **({"grid_cells": grid_cells} if grid_cells["cells"] else {}),
    }


def results_dir() -> Path:
    """Where a run writes its results: ``$RBMBOOK_RESULTS`` when set (``make record`` sets it to the book's
    ``book/results``), else ``<cache>/results``, so that rerunning a notebook never replaces the book's numbers."""
    explicit = os.environ.get(RESULTS_ENV)
    if explicit:
        return Path(explicit).expanduser()
    from .data.files import cache_dir

    return cache_dir("results")


def book_results_dir() -> Path:
    """The book's recorded results (``book/results`` of the checkout holding the working directory)."""
    root = book_root()
    if root is None:
        raise FileNotFoundError(f"no rbmbook checkout (a folder with _toc.yml and book/results) holds {Path.cwd()}: "
                                "run from inside the repository, or pass directory=")
    return root / "book" / "results"


def _without_machine_paths(text: str) -> str:
    """``text`` with this machine's data, cache and home folders replaced by the names a reader can set."""
    from .data.files import CACHE_ENV, DATA_ENV

    for env in (CACHE_ENV, DATA_ENV):
        if os.environ.get(env):
            text = text.replace(str(Path(os.environ[env]).expanduser()), f"${env}")
    return text.replace(str(Path.home()), "~")


def _finite_or_none(value):
    """``value`` with every NaN or ±inf float replaced by None, so that results files are strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def save_results(name: str, profile: str, results: dict, *, verdicts: Sequence[Verdict] = (), title: str = "",
                 seeds=None, wall_time_s=None, directory: Path | str | None = None) -> Path:
    """Write ``{directory}/{name}.{profile}.json`` atomically: results, verdicts (with their raw inputs) and
    provenance. ``directory`` defaults to ``results_dir()``.

    The provenance records ``code_hash`` (:func:`code_hash`: the chapter notebook found from ``name`` in the checkout
    holding the working directory, ``code_hash_notebook``, and rbmlib's code, hashed when the file is written, under
    ``code_hash_scheme``)
    and ``smoke`` (``RBMBOOK_SMOKE=1``: a smoke run, which is refused when ``directory`` is the book's
    ``book/results``)."""
    from .profiles import smoke_active

    path = Path(directory if directory is not None else results_dir()) / f"{name}.{profile}.json"
    smoke = smoke_active()
    root = book_root()
    if smoke and root is not None and path.parent.resolve() == (root / "book" / "results").resolve():
        raise ValueError(f"a smoke run (RBMBOOK_SMOKE=1) is no result: it is not written to the book's {path.parent}")
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, notebook = code_hash(name, root)
    payload = {"name": name, "title": title or name, "profile": profile, "results": results,
               "verdicts": [v.to_json() for v in verdicts],
               "provenance": {**provenance(seeds, wall_time_s), "code_hash": digest, "code_hash_notebook": notebook,
                              "code_hash_scheme": CODE_HASH_SCHEME, "smoke": smoke}}
    _write_results(path, payload)
    return path


def _write_results(path: Path, payload: dict) -> None:
    """The one way a results file is written: sorted, indented JSON, NaN as null, no machine paths, atomically."""
    from .checkpoint import atomic_write_text

    text = json.dumps(_finite_or_none(payload), indent=2, sort_keys=True, allow_nan=False)
    atomic_write_text(path, _without_machine_paths(text) + "\n")


def read_results(path: Path | str) -> dict:
    """One results file, with an error that names it when it is empty, half-written or not an rbmbook results file."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"results file {path} is not valid JSON ({error}); rerun the notebook that writes it") from None
    if not isinstance(payload, dict) or not {"name", "profile", "verdicts"} <= payload.keys():
        raise ValueError(f"results file {path} lacks name/profile/verdicts: not an rbmbook results file")
    return payload


def refresh_verdict_texts(path: Path | str) -> int:
    """Rewrite the shown texts of a results file's verdicts (evidence, rule text, reason) from their raw inputs, as
    ``rbmlib.stats`` words them today; the raw inputs, results and provenance stay as they are. Returns the number
    of fields changed (the file is rewritten only when some did). For a change of wording only: where a verdict's
    outcome or kind would change, the rule changed, and it raises ``ValueError`` naming the claims (redo the run)."""
    path = Path(path)
    payload = read_results(path)
    fresh = [Verdict.from_json(saved).to_json() for saved in payload["verdicts"]]
    moved = [f"{saved.get('claim')!r}: {saved.get(key)} → {now[key]}" for saved, now in zip(payload["verdicts"], fresh)
             for key in ("outcome", "kind") if saved.get(key) != now[key]]
    if moved:
        raise ValueError(f"{path.name}: refreshing would change {len(moved)} outcome(s) or kind(s) ("
                         + "; ".join(moved) + "): the rule changed, so redo the run instead of refreshing its texts")
    changed = 0
    for saved, now in zip(payload["verdicts"], fresh):
        for key in ("evidence", "rule_text", "reason"):
            if saved.get(key) != now[key]:
                saved[key], changed = now[key], changed + 1
    if changed:
        _write_results(path, payload)
    return changed


def load_results(name: str, profile: str, directory: Path | str | None = None) -> dict | None:
    """The recorded results of one experiment and profile (``directory`` defaults to the book's ``book/results``),
    or None when that run has not been made."""
    path = Path(directory if directory is not None else book_results_dir()) / f"{name}.{profile}.json"
    return read_results(path) if path.exists() else None


def image_grid(images, image_shape: tuple[int, ...], ncols: int = 10, ax=None, title: str | None = None,
               symmetric: bool = False):
    """Tile flat images (rows of ``images``) into one picture; ``symmetric`` centres the colour map on 0 (filters).

    ``image_shape`` is (H, W) for grey or (H, W, 3) for colour images.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    n = arr.shape[0]
    nrows = max(1, math.ceil(n / ncols))
    h, w = image_shape[:2]
    channels = image_shape[2] if len(image_shape) == 3 else 1
    canvas = np.full((nrows * (h + 1) + 1, ncols * (w + 1) + 1, channels), np.nan, dtype=float)
    for i in range(n):
        r, c = divmod(i, ncols)
        tile = arr[i].reshape(h, w, channels)
        if channels == 3 or not symmetric:
            lo, hi = tile.min(), tile.max()
            tile = (tile - lo) / (hi - lo + 1e-12)
        else:
            tile = tile / (np.abs(tile).max() + 1e-12)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = tile
    if ax is None:
        _, ax = plt.subplots(figsize=(ncols * 0.6, nrows * 0.6))
    if channels == 3:
        ax.imshow(np.nan_to_num(canvas, nan=1.0))
    else:
        ax.imshow(canvas[..., 0], cmap="RdBu_r" if symmetric else "gray",
                  vmin=-1 if symmetric else 0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def _verdicts_by_claim(payload: dict | None) -> dict[str, Verdict]:
    return {v.claim: v for v in map(Verdict.from_json, payload["verdicts"])} if payload else {}


CODE_MARK = {CURRENT: "", STALE: "⌛ stale (the code changed since this run): ", NO_CODE_HASH: "no code hash: "}


def _run_cell(verdict: Verdict | None, payload: dict | None, status: str = CURRENT) -> str:
    if payload is None:
        return "not run"
    if verdict is None:
        return "—"
    return f"{CODE_MARK[status]}{_outcome_cell(verdict)}: {verdict.decision.evidence}"


def _data_cell(claim_: str, by_claim: dict[str, dict[str, Verdict]]) -> str:
    """The data a claim rests on: one name when every recorded profile used the same, else each with its profile
    (a `long` run may use other data than `ci`, e.g. CIFAR-10 where `ci` uses MNIST)."""
    data = {p: verdicts[claim_].data for p, verdicts in by_claim.items() if claim_ in verdicts}
    if len(set(data.values())) == 1:
        return next(iter(data.values()))
    return " · ".join(f"{d} (`{p}`)" for p, d in data.items())


def _root_of(directory: Path) -> Path | None:
    """The checkout whose code the results in ``directory`` are compared with: the one holding ``directory``, else
    the one holding the working directory."""
    return book_root(directory) or book_root()


def _code_statuses(payloads: Iterable[dict | None], directory: Path) -> list[str | None]:
    """:func:`code_status` of each payload (None for a run not made), each chapter's current hash computed once."""
    payloads, root = list(payloads), _root_of(directory)
    keys = {(p["name"], recorded_scheme(p)) for p in payloads
            if p is not None and recorded_scheme(p) in (CODE_HASH_SCHEME, BYTES_SCHEME)}
    current = {(name, scheme): code_hash(name, root, scheme)[0] for name, scheme in keys}
    return [None if p is None else code_status(p, current_hash=current.get((p["name"], recorded_scheme(p))))
            for p in payloads]


def tally(directory: Path | str | None = None) -> Table:
    """Counts of outcomes per profile and kind over every recorded results file, and how many of those files are
    current, stale or without a code hash (:func:`code_status`)."""
    directory = Path(directory if directory is not None else book_results_dir())
    counts: dict[str, dict[stats.Outcome, int]] = {}
    code: dict[str, dict[str, int]] = {}
    paths = sorted(directory.glob("*.json"))
    payloads = [read_results(path) for path in paths]
    for payload, status in zip(payloads, _code_statuses(payloads, directory)):
        profile = counts.setdefault(payload["profile"], {})
        code.setdefault(payload["profile"], {}).setdefault(status, 0)
        code[payload["profile"]][status] += 1
        for v in map(Verdict.from_json, payload["verdicts"]):
            profile[v.outcome] = profile.get(v.outcome, 0) + 1
    order = [p for p in PROFILES_SHOWN if p in counts] + sorted(set(counts) - set(PROFILES_SHOWN))
    rows = [[f"`{p}`", *(str(counts[p].get(o, 0)) for o in stats.Outcome),
             ", ".join(f"{code[p][c]} {c}" for c in (CURRENT, STALE, NO_CODE_HASH) if c in code[p])] for p in order]
    return Table(["profile", *(f"{o.mark} {o.value}" for o in stats.Outcome), "results files"], rows)


def _claims_over(by_claim: dict[str, dict[str, Verdict]]) -> list[Verdict]:
    """Each claim of any profile's run once, in the order first seen (the profiles in ``by_claim``'s order, e.g. the
    `ci` run's claims first), as the verdict of the first run that has it."""
    claims: dict[str, Verdict] = {}
    for verdicts in by_claim.values():
        for claim_, v in verdicts.items():
            claims.setdefault(claim_, v)
    return list(claims.values())


def status_tables(directory: Path | str | None = None) -> list[Table]:
    """One table per chapter (captioned with its title), one row per claim or check of any of its recorded runs (the
    `ci` run's first, then those only another profile has, e.g. a claim worded otherwise in an older `long` run): its
    data, the paper's number, and the outcome in each profile with recorded results (`ci`, `long`, `paper`), "—"
    where that run did not test it. Built from the results files, never typed; outcomes recomputed. A run whose code
    changed since is marked stale, one that recorded no code hash says so (:func:`code_status`)."""
    directory = Path(directory if directory is not None else book_results_dir())
    tables = []
    for ci_path in sorted(directory.glob("*.ci.json")):
        ci = read_results(ci_path)
        runs = {"ci": ci, **{p: load_results(ci["name"], p, directory) for p in PROFILES_SHOWN[1:]}}
        status = dict(zip(runs, _code_statuses(runs.values(), directory)))
        by_claim = {p: _verdicts_by_claim(run) for p, run in runs.items()}
        rows = [[v.kind, v.claim, _data_cell(v.claim, by_claim), v.paper or "—",
                 *(_run_cell(by_claim[p].get(v.claim), runs[p], status[p]) for p in PROFILES_SHOWN)]
                for v in _claims_over(by_claim)]
        tables.append(Table(["kind", "claim", "data", "paper", "`ci` (scaled down)", "`long`", "`paper`"], rows,
                            ci.get("title", ci["name"])))
    return tables


def profile_table(name: str, directory: Path | str | None = None) -> Table:
    """One chapter's verdicts in every profile with recorded results, side by side (each chapter's last cell); a run
    whose code changed since is marked stale, one that recorded no code hash says so (:func:`code_status`)."""
    directory = Path(directory if directory is not None else book_results_dir())
    runs = {p: load_results(name, p, directory) for p in PROFILES_SHOWN}
    status = dict(zip(runs, _code_statuses(runs.values(), directory)))
    by_claim = {p: _verdicts_by_claim(run) for p, run in runs.items()}
    rows = [[v.claim, *(_run_cell(by_claim[p].get(v.claim), runs[p], status[p]) for p in PROFILES_SHOWN)]
            for v in _claims_over(by_claim)]
    return Table(["claim or check", *(f"`{p}`" for p in PROFILES_SHOWN)], rows)
