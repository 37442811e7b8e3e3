"""Paper-beside-ours tables, verdicts against stated tolerances, figures, and results JSON with provenance.

Tables are Markdown (rendered by the book, compared as text by nbval). Numbers are formatted here, once, with a
fixed number of digits, so that a checked notebook cell changes only when a result changes at that precision.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

RESULTS_DIR = Path(__file__).resolve().parent.parent / "book" / "results"


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


def fmt_spread(mean: float, std: float, digits: int = 2, percent: bool = False) -> str:
    """'mean ± std' with one format for both."""
    scale = 100.0 if percent else 1.0
    text = f"{scale * mean:.{digits}f} ± {scale * std:.{digits}f}"
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
    """A paper's claim, the tolerance we judge it by, our evidence, and whether it supports the claim.

    ``holds`` is True (reproduced), False (not reproduced) or None (not testable with the data or budget here).
    """

    claim: str
    tolerance: str
    evidence: str
    holds: bool | None
    paper: str = ""  # the paper's number(s) behind the claim, with their source label (e.g. "(secondary)")

    @property
    def label(self) -> str:
        return {True: "✅ reproduced", False: "❌ not reproduced", None: "➖ not testable here"}[self.holds]


def verdict_table(verdicts: Sequence[Verdict], caption: str | None = "Verdicts") -> Table:
    if any(v.paper for v in verdicts):
        rows = [[v.claim, v.paper or "—", v.tolerance, v.evidence, v.label] for v in verdicts]
        return Table(["paper's claim", "paper", "tolerance", "ours", "verdict"], rows, caption)
    rows = [[v.claim, v.tolerance, v.evidence, v.label] for v in verdicts]
    return Table(["paper's claim", "tolerance", "ours", "verdict"], rows, caption)


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def provenance(seeds: Sequence[int] | None = None, wall_time_s: float | None = None) -> dict:
    """Where and how a result was computed: git commit, versions, device, threads, seeds, wall time."""
    import numpy
    import torch

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    from .reproducibility import cpu_arithmetic_pinned

    cpu = cpu_name()
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else cpu
    return {
        "git_commit": commit,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "device": device,
        "cuda": torch.cuda.is_available(),
        "torch_threads": torch.get_num_threads(),
        "cpu": cpu,
        "cpu_arithmetic_pinned": cpu_arithmetic_pinned(),
        "seeds": list(seeds) if seeds is not None else None,
        "wall_time_s": None if wall_time_s is None else round(wall_time_s, 1),
    }


def save_results(name: str, profile: str, results: dict, *, verdicts: Sequence[Verdict] = (), title: str = "",
                 seeds=None, wall_time_s=None, directory: Path | str = RESULTS_DIR) -> Path:
    """Write ``{directory}/{name}.{profile}.json``: the results, the verdicts and their provenance.

    The book's status page is generated from these files (``status_table``).
    """
    path = Path(directory) / f"{name}.{profile}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"name": name, "title": title or name, "profile": profile, "results": results,
               "verdicts": [dataclasses.asdict(v) for v in verdicts],
               "provenance": provenance(seeds, wall_time_s)}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def load_results(name: str, profile: str, directory: Path | str = RESULTS_DIR) -> dict | None:
    """The saved results of one experiment and profile, or None when that run has not been made."""
    path = Path(directory) / f"{name}.{profile}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


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


def status_table(directory: Path | str = RESULTS_DIR) -> Table:
    """One row per claim over all chapters: the paper's number, our `ci` verdict and, where a `paper`-profile
    results file exists, its verdict and provenance. Built from the saved results files, never typed."""
    rows = []
    for ci_path in sorted(Path(directory).glob("*.ci.json")):
        ci = json.loads(ci_path.read_text())
        paper_run = load_results(ci["name"], "paper", directory)
        paper_verdicts = {v["claim"]: v for v in paper_run.get("verdicts", [])} if paper_run else {}
        for i, v in enumerate(ci.get("verdicts", [])):
            label = Verdict(**v).label
            on_gpu = paper_verdicts.get(v["claim"])
            paper_cell = "not run"
            if on_gpu:
                prov = paper_run["provenance"]
                paper_cell = f"{Verdict(**on_gpu).label}: {on_gpu['evidence']} ({prov['device']}, {prov['git_commit'][:7]})"
            chapter = "" if i else ci.get("title", ci["name"])  # the chapter is named on its first row only
            rows.append([chapter, v["claim"], v.get("paper") or "—", f"{label}: {v['evidence']}", paper_cell])
    return Table(["chapter", "claim", "paper", "ours (`ci`, scaled down)", "ours (`paper` profile)"], rows)
