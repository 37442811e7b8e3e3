"""Mutation check: do the unit tests catch deliberate, plausible bugs in rbmlib?

    .venv/bin/python tests/mutations/run.py [--only NAME ...] [--timeout SECONDS]

The repository is copied to a temporary directory (the working tree is never touched). Each mutation is an exact
string replacement in one rbmlib file, applied alone to a fresh copy of that file; the target string must occur
exactly once, or the check stops with an error (so the mutations stay in step with the code). For each mutant the
unit suite runs as ``python -m pytest tests -x -q -p no:cacheprovider`` (no notebooks, no browser test) and the
first failing test is recorded. The unmutated suite runs first: a test that already fails there cannot catch
anything, so it is deselected in the mutant runs and named in the output.

Prints a Markdown table (mutation → caught? → first failing test). Exit status: 1 if any mutation survives, else 2
if the unmutated suite has failures, else 0.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COPY_IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", ".ipynb_checkpoints", "*.egg-info")


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    old: str
    new: str


MUTATIONS = [
    Mutation("CD gradient of W with its sign flipped (descends the likelihood)", "rbmlib/train.py",
             'step.addmm_(v_data.t(), h_data, beta=beta, alpha=learning_rate / n)\n'
             '            step.addmm_(v_model.t(), h_model, alpha=-learning_rate / n)',
             'step.addmm_(v_data.t(), h_data, beta=beta, alpha=-learning_rate / n)\n'
             '            step.addmm_(v_model.t(), h_model, alpha=learning_rate / n)'),
    Mutation("weight decay applied to the biases too", "rbmlib/train.py",
             'self.velocity[name].mul_(momentum).add_(g, alpha=learning_rate))',
             'self.velocity[name].mul_(momentum).add_(g, alpha=learning_rate)'
             '.add_(getattr(rbm, name), alpha=-learning_rate * cfg.weight_decay))'),
    Mutation("momentum ignored on the weights (velocity reset every update)", "rbmlib/train.py",
             '(self.velocity["weight"], momentum)',
             '(self.velocity["weight"], 0.0)'),
    Mutation("plain-SGD path (momentum 0) drops the weight decay", "rbmlib/train.py",
             'weight.mul_(1.0 - learning_rate * cfg.weight_decay)',
             'weight.mul_(1.0)'),
    Mutation("plain-SGD path steps the biases without the learning rate", "rbmlib/train.py",
             'getattr(rbm, name).add_(g * learning_rate)',
             'getattr(rbm, name).add_(g)'),
    Mutation("CD-k's inner sweeps use mean-field visibles (not the model's Gibbs chain)", "rbmlib/samplers.py",
             'h = rbm.sample_hidden(rbm.sample_visible(h, generator), generator)',
             'h = rbm.sample_hidden(rbm.visible_mean(h), generator)'),
    Mutation("CD reconstructs v by sampling instead of E[v | h]", "rbmlib/samplers.py",
             'def __init__(self, k: int = 1, sample_visible: bool = False):',
             'def __init__(self, k: int = 1, sample_visible: bool = True):'),
    Mutation("PCD chains not persisted between updates", "rbmlib/samplers.py",
             '        self.chains = v\n',
             '        self.chains = self.chains\n'),
    Mutation("NReLU noise std = sigmoid(x) instead of sqrt(sigmoid(x))", "rbmlib/units.py",
             'return torch.relu(x + noise * self.variance(x).sqrt())',
             'return torch.relu(x + noise * self.variance(x))'),
    Mutation("Bernoulli sample with the comparison inverted (P(s=1) = 1 − sigmoid)", "rbmlib/units.py",
             'return torch.lt(u, p, out=u)',
             'return torch.gt(u, p, out=u)'),
    Mutation("Gaussian log-partition missing its x²/2", "rbmlib/units.py",
             'return 0.5 * x * x + _HALF_LOG_2PI',
             'return _HALF_LOG_2PI'),
    Mutation("free energy with the visible-bias term's sign flipped", "rbmlib/rbm.py",
             'return (-(v @ self.visible_bias) + self.visible.potential(v).sum(-1)\n'
             '                - self.hidden.log_partition(self.hidden_input(v)).sum(-1))',
             'return ((v @ self.visible_bias) + self.visible.potential(v).sum(-1)\n'
             '                - self.hidden.log_partition(self.hidden_input(v)).sum(-1))'),
    Mutation("AIS drops its last step (never reaches β = 1)", "rbmlib/estimators.py",
             'steps = tqdm(range(1, len(betas)), desc="AIS"',
             'steps = tqdm(range(1, len(betas) - 1), desc="AIS"'),
    Mutation("AIS base-model log Z missing the hidden units' term", "rbmlib/estimators.py",
             '(rbm.visible.log_partition(base.to(torch.float64)).sum()\n'
             '            + rbm.hidden.log_partition(zero).sum()).item()',
             '(rbm.visible.log_partition(base.to(torch.float64)).sum()).item()'),
    Mutation("reverse AIS anneals forwards (β schedule not flipped)", "rbmlib/estimators.py",
             'betas.flip(0).tolist()',
             'betas.tolist()'),
    Mutation("pseudo-likelihood flips bits the wrong way", "rbmlib/estimators.py",
             'sign = 1 - 2 * v.gather(1, idx)',
             'sign = 2 * v.gather(1, idx) - 1'),
]

_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def _environment(workdir: Path) -> dict:
    """The caller's environment, with the copy first on the import path and one thread per process."""
    return dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1",
                MKL_NUM_THREADS="1")


def run_suite(workdir: Path, deselect: list[str], stop_first: bool, timeout: float) -> list[str]:
    """Run the unit suite in ``workdir``; return the failing node ids, in order."""
    command = [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "-rfE",
               "--ignore", "tests/browser", "--ignore", "tests/mutations"]
    command += ["-x"] if stop_first else []
    for node in deselect:
        command += ["--deselect", node]
    try:
        done = subprocess.run(command, cwd=workdir, env=_environment(workdir), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return [f"(the suite ran past {timeout:.0f} s)"]
    output = done.stdout + done.stderr
    failures = _FAILED.findall(output)
    if done.returncode not in (0, 1) and not failures:  # collection error, internal error, no tests
        failures = [f"(pytest exit {done.returncode})"]
    return failures


def apply(mutation: Mutation, original: str) -> str:
    count = original.count(mutation.old)
    if count != 1:
        raise SystemExit(f"mutation {mutation.name!r}: its target occurs {count} times in {mutation.file} (must be "
                         f"exactly once): update tests/mutations/run.py to the code.\nTarget:\n{mutation.old}")
    return original.replace(mutation.old, mutation.new)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="run only mutations whose name contains one of these")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for one run of the suite")
    args = parser.parse_args(argv)
    mutations = [m for m in MUTATIONS if args.only is None or any(s.lower() in m.name.lower() for s in args.only)]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rbmbook-mutations-") as tmp:
        workdir = Path(tmp) / "repo"
        shutil.copytree(REPO, workdir, ignore=COPY_IGNORE)
        originals = {m.file: (workdir / m.file).read_text(encoding="utf-8") for m in mutations}
        for mutation in mutations:  # check every target before spending time on runs
            apply(mutation, originals[mutation.file])
        imported = subprocess.run([sys.executable, "-c", "import rbmlib; print(rbmlib.__file__)"], cwd=workdir,
                                  env=_environment(workdir), capture_output=True, text=True, check=True).stdout
        if not Path(imported.strip()).is_relative_to(workdir):
            raise SystemExit(f"the copy imports rbmlib from {imported.strip()}, not from {workdir}")

        baseline_failures = run_suite(workdir, [], stop_first=False, timeout=args.timeout)
        if baseline_failures:
            print(f"The unmutated suite already fails; these tests are deselected below:\n"
                  + "\n".join(f"  {node}" for node in baseline_failures), file=sys.stderr)
        print(f"unmutated suite: {time.perf_counter() - start:.0f} s", file=sys.stderr)

        rows, survivors = [], 0
        for mutation in mutations:
            target = workdir / mutation.file
            target.write_text(apply(mutation, originals[mutation.file]), encoding="utf-8")
            t0 = time.perf_counter()
            try:
                failures = run_suite(workdir, baseline_failures, stop_first=True, timeout=args.timeout)
            finally:
                target.write_text(originals[mutation.file], encoding="utf-8")
            seconds = time.perf_counter() - t0
            survivors += not failures
            name = mutation.name.replace("|", "&#124;")  # a literal | would split the Markdown cell
            caught = f"caught | `{failures[0]}`" if failures else "**survived** | —"
            rows.append(f"| {name} | `{mutation.file}` | {caught} | {seconds:.0f} s |")
            print(rows[-1], file=sys.stderr, flush=True)

    print("| mutation | file | caught? | first failing test | time |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n{len(mutations) - survivors} of {len(mutations)} mutations caught; "
          f"total {time.perf_counter() - start:.0f} s.")
    if baseline_failures:
        print(f"Unmutated suite failures (deselected): {', '.join(f'`{n}`' for n in baseline_failures)}")
    return 1 if survivors else 2 if baseline_failures else 0


if __name__ == "__main__":
    sys.exit(main())
