"""Paper-beside-ours tables, verdicts against stated tolerances, figures, and results JSON with provenance.

Tables are Markdown (rendered by the book, compared as text by nbval). Numbers are formatted here, once, with a
fixed number of digits, so that a checked notebook cell changes only when a result changes at that precision.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import subprocess
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


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


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


def provenance(seeds: Sequence[int] | None = None, wall_time_s: float | None = None) -> dict:
    """Where and how a result was computed: rbmlib's version, the checkout's commit (``$RBMBOOK_GIT_COMMIT`` where
    set: a copy whose ``.git`` is absent or stale) and its uncommitted changes (tracked files other than ``book/results``; None outside a checkout), versions, device, threads, seeds, time."""
    import numpy
    import torch

    from . import __version__
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
        "cpu": cpu,
        "cpu_arithmetic_pinned": cpu_arithmetic_pinned(),
        "seeds": list(seeds) if seeds is not None else None,
        "wall_time_s": None if wall_time_s is None else round(wall_time_s, 1),
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
    provenance. ``directory`` defaults to ``results_dir()``."""
    from .checkpoint import atomic_write_text

    path = Path(directory if directory is not None else results_dir()) / f"{name}.{profile}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"name": name, "title": title or name, "profile": profile, "results": results,
               "verdicts": [v.to_json() for v in verdicts], "provenance": provenance(seeds, wall_time_s)}
    text = json.dumps(_finite_or_none(payload), indent=2, sort_keys=True, allow_nan=False)
    atomic_write_text(path, _without_machine_paths(text) + "\n")
    return path


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


def _run_cell(verdict: Verdict | None, payload: dict | None) -> str:
    if payload is None:
        return "not run"
    if verdict is None:
        return "—"
    return f"{_outcome_cell(verdict)}: {verdict.decision.evidence}"


def tally(directory: Path | str | None = None) -> Table:
    """Counts of outcomes per profile and kind over every recorded results file."""
    directory = Path(directory if directory is not None else book_results_dir())
    counts: dict[str, dict[stats.Outcome, int]] = {}
    for path in sorted(directory.glob("*.json")):
        payload = read_results(path)
        profile = counts.setdefault(payload["profile"], {})
        for v in map(Verdict.from_json, payload["verdicts"]):
            profile[v.outcome] = profile.get(v.outcome, 0) + 1
    order = [p for p in PROFILES_SHOWN if p in counts] + sorted(set(counts) - set(PROFILES_SHOWN))
    rows = [[f"`{p}`", *(str(counts[p].get(o, 0)) for o in stats.Outcome)] for p in order]
    return Table(["profile", *(f"{o.mark} {o.value}" for o in stats.Outcome)], rows)


def status_table(directory: Path | str | None = None) -> Table:
    """One row per claim or check over all chapters: its data, the paper's number, and the outcome in each profile
    with recorded results (`ci`, `long`, `paper`). Built from the results files, never typed; outcomes recomputed."""
    directory = Path(directory if directory is not None else book_results_dir())
    rows = []
    for ci_path in sorted(directory.glob("*.ci.json")):
        ci = read_results(ci_path)
        runs = {p: load_results(ci["name"], p, directory) for p in PROFILES_SHOWN[1:]}
        by_claim = {p: _verdicts_by_claim(run) for p, run in runs.items()}
        for i, v in enumerate(map(Verdict.from_json, ci["verdicts"])):
            chapter = "" if i else ci.get("title", ci["name"])  # the chapter is named on its first row only
            rows.append([chapter, v.kind, v.claim, v.data, v.paper or "—", _run_cell(v, ci),
                         *(_run_cell(by_claim[p].get(v.claim), runs[p]) for p in PROFILES_SHOWN[1:])])
    return Table(["chapter", "kind", "claim", "data", "paper", "`ci` (scaled down)", "`long`", "`paper`"], rows)


def profile_table(name: str, directory: Path | str | None = None) -> Table:
    """One chapter's verdicts in every profile with recorded results, side by side (each chapter's last cell)."""
    directory = Path(directory if directory is not None else book_results_dir())
    runs = {p: load_results(name, p, directory) for p in PROFILES_SHOWN}
    claims: dict[str, Verdict] = {}
    for run in runs.values():
        for claim_, v in _verdicts_by_claim(run).items():
            claims.setdefault(claim_, v)
    by_claim = {p: _verdicts_by_claim(run) for p, run in runs.items()}
    rows = [[c, *(_run_cell(by_claim[p].get(c), runs[p]) for p in PROFILES_SHOWN)] for c in claims]
    return Table(["claim or check", *(f"`{p}`" for p in PROFILES_SHOWN)], rows)
