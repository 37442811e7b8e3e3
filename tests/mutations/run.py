"""Mutation check: do the unit tests catch deliberate, plausible bugs in rbmlib?

    .venv/bin/python tests/mutations/run.py [--set original|independent|all] [--only NAME ...] [--workers N]
                                            [--timeout SECONDS]

Two sets of mutations: ``MUTATIONS`` below (16 written by the tests' author, one added with a fix) and
``independent.MUTATIONS`` (written by someone who had not read the tests). Each mutation is an exact string
replacement in one rbmlib file, applied alone; the target string must occur exactly once and the mutated file must
still compile, or the check stops with an error before any run (so the mutations stay in step with the code).

The repository is copied to one temporary directory per worker (the working tree is never touched); ``--workers``
mutants (default 2) run at once, each in its own copy, with its own empty ``$RBMBOOK_CACHE``. For each mutant the
test files most likely to catch it run first (``TARGETED``: the files named after the mutated module, and a few
others), as ``python -m pytest FILES -x -q``; only if they all pass does the rest of the unit suite run (every
``tests/test_*.py``; no notebooks, no browser test), again stopping at the first failure. The first failing test is
recorded. The targeted files run unmutated first (split over the workers), and the rest of the suite the first time
a mutant needs it: a test that already fails unmutated cannot catch anything, so it is deselected in the mutant runs
and named in the output.

A mutant's pytest run may take ``SLOWDOWN`` times the longest unmutated run so far, or ``--timeout`` seconds if that
is longer; a run stopped at that limit counts as caught (the mutant made the suite hang or crawl) but is marked and
counted apart. The limit scales with the unmutated runs so that on a slow machine a mutant the tests miss is not
stopped before the tests have finished and counted as caught (CI of 2026-12-04: the rest of the suite took longer
than a fixed 300 s, so four mutants that passed their targeted files "timed out").

Prints a Markdown table (mutation → set → caught? → first failing test → time). Exit status: 1 if any mutation
survives, else 2 if the unmutated suite has failures, else 0.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SLOWDOWN = 3.0  # a mutant's run may take this many times the longest unmutated run before it is stopped
UNMUTATED_LIMIT = 10  # × --timeout: the limit of an unmutated run, which only a hanging suite reaches
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
             '            step.addmm_(v_model.t(), h_model, alpha=-learning_rate / m)',
             'step.addmm_(v_data.t(), h_data, beta=beta, alpha=-learning_rate / n)\n'
             '            step.addmm_(v_model.t(), h_model, alpha=learning_rate / m)'),
    # added with issue 21's fix: PCD's model statistic divided by the batch's rows, not by its chains' (the old bug)
    Mutation("PCD model statistic of ĝ_W divided by the batch's rows, not the chains'", "rbmlib/train.py",
             'm = v_model.shape[0]',
             'm = n'),
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
             'return portable.sqrt(self.variance(x))',
             'return self.variance(x)'),
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

# The test files run first for a mutant of each rbmlib file: those most likely to catch it. A file not listed gets
# tests/test_<module>.py (rbmlib/data/<module>.py: tests/test_data_<module>.py) where it exists.
TARGETED = {
    "rbmlib/units.py": ["tests/test_units.py", "tests/test_exact_values.py", "tests/test_rbm.py",
                        "tests/test_estimators.py", "tests/test_portable.py"],
    "rbmlib/rbm.py": ["tests/test_rbm.py", "tests/test_exact_values.py", "tests/test_estimators.py",
                      "tests/test_samplers.py"],
    "rbmlib/samplers.py": ["tests/test_samplers.py", "tests/test_train.py", "tests/test_train_terms.py"],
    "rbmlib/train.py": ["tests/test_train.py", "tests/test_train_terms.py", "tests/test_inputs.py",
                        "tests/test_samplers.py", "tests/test_reliability.py"],  # resuming: all-or-nothing loads
    "rbmlib/estimators.py": ["tests/test_estimators.py", "tests/test_exact_values.py", "tests/test_rbm.py",
                             "tests/test_rbm_mnist.py", "tests/test_portable.py"],
    "rbmlib/report.py": ["tests/test_report.py", "tests/test_report_tally.py", "tests/test_grid.py",
                         "tests/test_results.py"],
    "rbmlib/reproducibility.py": ["tests/test_reproducibility.py", "tests/test_grid.py", "tests/test_blas.py"],
    "rbmlib/__init__.py": ["tests/test_reproducibility.py", "tests/test_blas.py"],
    "rbmlib/data/files.py": ["tests/test_data_mnist.py", "tests/test_reliability.py"],
    "rbmlib/data/lfw.py": ["tests/test_data_lfw.py", "tests/test_data_lfw_cache.py"],
    "rbmlib/data/standardise.py": ["tests/test_data_lfw.py"],
    "rbmlib/stack.py": ["tests/test_stack.py", "tests/test_portable.py"],
    "rbmlib/activity.py": ["tests/test_activity.py", "tests/test_portable.py"],
    "benchmarks/cd1_mnist.py": ["tests/test_benchmarks.py"],  # no tests/test_cd1_mnist.py
    "benchmarks/cd1_anatomy.py": ["tests/test_benchmarks.py"],
}

_FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)  # node ids may hold spaces


def mutation_sets() -> dict[str, list[Mutation]]:
    """Both sets, by name. independent.py imports ``Mutation`` from ``run``: this module, however it was started."""
    sys.modules.setdefault("run", sys.modules[__name__])
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import independent
    import portable_independent

    return {"original": MUTATIONS, "independent": independent.MUTATIONS + portable_independent.MUTATIONS}


def unit_test_files(root: Path = REPO) -> list[str]:
    """Every unit-test file (tests/test_*.py; tests/browser and the notebooks are not unit tests)."""
    return sorted(str(p.relative_to(root)) for p in (root / "tests").glob("test_*.py"))


def targeted(mutation: Mutation, root: Path = REPO) -> list[str]:
    module = Path(mutation.file)
    default = f"tests/test_{'data_' if module.parent.name == 'data' else ''}{module.stem}.py"
    return [f for f in TARGETED.get(mutation.file, [default]) if (root / f).is_file()]


# Loaded once by each worker before it forks one child per pytest run (rbmlib itself is not: each child imports the
# copy's, mutated, from disk). Importing torch and torchvision takes seconds; a targeted run takes about one.
PRELOAD = ("torch", "torch.nn.functional", "torch.utils.data", "torchvision", "torchvision.datasets",
           "torchvision.datasets.utils", "torchvision.transforms.functional", "numpy", "scipy.stats", "PIL.Image",
           "tqdm", "filelock", "joblib", "sklearn.base", "sklearn.utils", "sklearn.utils.validation",
           "sklearn.utils.estimator_checks", "sklearn.neural_network", "sklearn.pipeline", "sklearn.linear_model",
           "sklearn.model_selection", "sklearn.preprocessing", "pytest",
           "nbformat", "jupyter_client", "coverage")  # the last three: what pytest's nbval plugin loads (over a second)


def _environment(workdir: Path) -> dict:
    """The caller's environment, with the copy first on the import path and one thread per process."""
    return dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1",
                MKL_NUM_THREADS="1")


def serve() -> None:
    """A worker (``run.py --serve``, started in a copy): reads one job a line on stdin, answers one line on stdout.

    The CPU arithmetic pin's environment is set first, then the third-party modules are loaded under it; each job is a
    fork that runs ``pytest.main`` with its output in a log file, in its own session (killed whole at the time limit,
    with any process it started). rbmlib is dropped from ``sys.modules`` before the first fork, so each job imports
    the copy's (mutated) rbmlib, whose ``pin_cpu_arithmetic`` (tests/conftest.py) registers its own ``rbmlib.blas``
    kernels: pinning here would leave the unmutated kernels registered in every job."""
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything printed while loading goes to the worker's log, not into the answers
    from rbmlib.reproducibility import CPU_ARITHMETIC_ENV, THREAD_POOL_ENV

    if os.environ.get("RBMBOOK_PIN_CPU", "1") != "0":
        os.environ.update(CPU_ARITHMETIC_ENV)
        for key, value in THREAD_POOL_ENV.items():
            os.environ.setdefault(key, value)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    for name in [n for n in sys.modules if n == "rbmlib" or n.startswith("rbmlib.")]:
        del sys.modules[name]
    import pytest
    import torch

    torch.set_num_threads(1)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 3
            try:
                os.setsid()
                os.environ.update(job["env"])
                log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(log, 1)
                os.dup2(log, 2)
                code = int(pytest.main(job["args"]))
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        deadline = time.monotonic() + job["timeout"]
        while not (done := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            os.killpg(pid, signal.SIGKILL)  # the child at its time limit, or what it left running
        except (ProcessLookupError, PermissionError):
            pass
        if not done[0]:
            os.waitpid(pid, 0)
            answer.write(json.dumps({"timeout": True}) + "\n")
        else:
            answer.write(json.dumps({"timeout": False, "code": os.waitstatus_to_exitcode(done[1])}) + "\n")
        answer.flush()


class Worker:
    """A copy of the repository and its ``--serve`` process."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.log = (workdir.parent / "worker.log").open("w")
        self.process = subprocess.Popen([sys.executable, str(workdir / "tests" / "mutations" / "run.py"), "--serve"],
                                        cwd=workdir, env=_environment(workdir), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()
        self.log.close()

    def run_tests(self, files: list[str], deselect: list[str], stop_first: bool, timeout: float) -> list[str]:
        """Run pytest on ``files`` in the copy; return the failing node ids, in order (``[TIMED_OUT]`` when the run
        was stopped at ``timeout`` seconds)."""
        if not files:
            return []
        cache, log = self.workdir.parent / "cache", self.workdir.parent / "pytest.log"
        shutil.rmtree(cache, ignore_errors=True)
        args = [*files, "-q", "-p", "no:cacheprovider", "-rfE", *(["-x"] if stop_first else [])]
        for node in deselect:
            args += ["--deselect", node]
        job = {"args": args, "timeout": timeout, "log": str(log), "env": {"RBMBOOK_CACHE": str(cache)}}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        shutil.rmtree(cache, ignore_errors=True)
        if not reply:
            raise SystemExit(f"the worker in {self.workdir} stopped: see its log above\n"
                             + (self.workdir.parent / "worker.log").read_text(errors="replace")[-4000:])
        reply = json.loads(reply)
        if reply["timeout"]:
            return [TIMED_OUT]
        failures = _FAILED.findall(log.read_text(errors="replace"))
        if reply["code"] not in (0, 1, 5) and not failures:  # collection error, internal error, killed; 5: no tests
            failures = [f"(pytest exit {reply['code']})"]
        return failures


def apply(mutation: Mutation, original: str) -> str:
    count = original.count(mutation.old)
    if count != 1:
        raise SystemExit(f"mutation {mutation.name!r}: its target occurs {count} times in {mutation.file} (must be "
                         f"exactly once): update tests/mutations/ to the code.\nTarget:\n{mutation.old}")
    mutated = original.replace(mutation.old, mutation.new)
    try:
        compile(mutated, mutation.file, "exec")
    except SyntaxError as error:
        raise SystemExit(f"mutation {mutation.name!r} does not compile: {error}") from None
    return mutated


TIMED_OUT = "(stopped at the time limit)"


@dataclass
class Outcome:
    failures: list[str]
    phase: str  # "targeted" or "rest": where the first failure came from ("rest" for a survivor)
    seconds: float
    limit: float  # the time limit its runs had

    @property
    def timed_out(self) -> bool:
        return self.failures == [TIMED_OUT]


class Baseline:
    """The failures of the unmutated suite, file by file, found on demand: first the targeted files of every chosen
    mutation (split over the workers, before any mutant runs), then the rest of the suite only when a mutant first
    needs it (never, when every mutant is caught by its targeted files). A test failing unmutated is deselected from
    every mutant run that could otherwise count it as a catch."""

    def __init__(self, timeout: float, enabled: bool = True):
        self.timeout, self.enabled = timeout, enabled
        self.known: dict[str, list[str]] = {}  # test file -> its failing node ids (unmutated)
        self.other: list[str] = []  # failures no file can be blamed for (a collection error, a time limit)
        self.seconds = 0.0
        self.longest = 0.0  # the longest unmutated run, in seconds
        self._lock = threading.Lock()

    def record(self, files: list[str], failures: list[str], seconds: float) -> None:
        # new objects, not updates in place: another thread may be reading the old ones (failures())
        self.known = {**self.known, **{f: [node for node in failures if node.split("::")[0] == f] for f in files}}
        self.other = self.other + [node for node in failures if node.split("::")[0] not in files]
        self.seconds += seconds
        self.longest = max(self.longest, seconds)
        if failures:
            print("The unmutated suite already fails; these tests are deselected from the mutant runs:\n"
                  + "\n".join(f"  {node}" for node in failures), file=sys.stderr, flush=True)

    def failures(self) -> list[str]:
        return [node for nodes in self.known.values() for node in nodes] + self.other

    def limit(self) -> float:
        """Seconds a mutant's pytest run may take: ``SLOWDOWN`` × the longest unmutated run, at least ``timeout``."""
        return max(self.timeout, SLOWDOWN * self.longest)

    def ensure(self, worker: "Worker", files: list[str]) -> list[str]:
        """Run the files of ``files`` not yet known, unmutated, in ``worker``'s copy (which must be unmutated now);
        return every failure known."""
        with self._lock:
            missing = [f for f in files if f not in self.known] if self.enabled else []
            if missing:
                t0 = time.perf_counter()
                self.record(missing, worker.run_tests(missing, [], False, UNMUTATED_LIMIT * self.timeout),
                            time.perf_counter() - t0)
                print(f"unmutated suite, {len(missing)} more files: {time.perf_counter() - t0:.0f} s", file=sys.stderr,
                      flush=True)
            return self.failures()


def run_mutant(mutation: Mutation, worker: Worker, original: str, baseline: Baseline) -> Outcome:
    target = worker.workdir / mutation.file
    first = targeted(mutation, worker.workdir)
    rest = [f for f in unit_test_files(worker.workdir) if f not in first]
    mutated = apply(mutation, original)
    t0 = time.perf_counter()
    target.write_text(mutated, encoding="utf-8")
    try:
        limit = baseline.limit()
        failures, phase = worker.run_tests(first, baseline.failures(), True, limit), "targeted"
        if not failures:
            target.write_text(original, encoding="utf-8")  # the rest's unmutated run, the first time it is needed
            deselect = baseline.ensure(worker, rest)
            target.write_text(mutated, encoding="utf-8")
            limit = baseline.limit()
            failures, phase = worker.run_tests(rest, deselect, True, limit), "rest"
    finally:
        target.write_text(original, encoding="utf-8")
    return Outcome(failures, phase, time.perf_counter() - t0, limit)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=["original", "independent", "all"], default="all",
                        help="which mutation set to run (default: all)")
    parser.add_argument("--only", nargs="*", default=None, help="run only mutations whose name contains one of these")
    parser.add_argument("--workers", type=int, default=2, help="mutants run at once, each in its own copy")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help=f"seconds a mutant's pytest run may take at least (else {SLOWDOWN:g}x the longest "
                             "unmutated run)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the unmutated run (when iterating on a few mutants; nothing is deselected)")
    args = parser.parse_args(argv)
    sets = mutation_sets()
    chosen = [(set_name, m) for set_name, ms in sets.items() if args.set in ("all", set_name) for m in ms
              if args.only is None or any(s.lower() in m.name.lower() for s in args.only)]
    if not chosen:
        raise SystemExit("no mutation matches")
    names = [m.name for _, m in chosen]
    if len(set(names)) != len(names):
        raise SystemExit(f"duplicate mutation names: {sorted({n for n in names if names.count(n) > 1})}")

    start = time.perf_counter()
    n_workers = max(1, min(args.workers, len(chosen)))
    with tempfile.TemporaryDirectory(prefix="rbmbook-mutations-") as tmp:
        originals = {m.file: (REPO / m.file).read_text(encoding="utf-8") for _, m in chosen}
        for _, mutation in chosen:  # check every target before spending time on runs
            apply(mutation, originals[mutation.file])
        workdirs = []
        for i in range(n_workers):
            workdirs.append(Path(tmp) / f"worker{i}" / "repo")
            shutil.copytree(REPO, workdirs[-1], ignore=COPY_IGNORE)
        imported = subprocess.run([sys.executable, "-c", "import rbmlib; print(rbmlib.__file__)"], cwd=workdirs[0],
                                  env=_environment(workdirs[0]), capture_output=True, text=True, check=True).stdout
        if not Path(imported.strip()).is_relative_to(workdirs[0]):
            raise SystemExit(f"the copy imports rbmlib from {imported.strip()}, not from {workdirs[0]}")
        workers = [Worker(workdir) for workdir in workdirs]
        free: queue.Queue[Worker] = queue.Queue()
        for worker in workers:
            free.put(worker)

        def on_a_free_worker(fn):
            worker = free.get()
            try:
                return fn(worker)
            finally:
                free.put(worker)

        try:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                baseline = Baseline(args.timeout, enabled=not args.no_baseline)
                first = sorted({f for _, m in chosen for f in targeted(m)}) if baseline.enabled else []
                chunks = [first[i::n_workers] for i in range(n_workers)]
                t0 = time.perf_counter()
                for chunk, found in zip(chunks, pool.map(lambda chunk: on_a_free_worker(
                        lambda w: w.run_tests(chunk, [], False, UNMUTATED_LIMIT * args.timeout)), chunks)):
                    baseline.record(chunk, found, 0.0)
                baseline.seconds += time.perf_counter() - t0
                baseline.longest = time.perf_counter() - t0  # the chunks ran side by side: the longest one's time
                print(f"unmutated suite, the {len(first)} targeted files: {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)

                def one(item):
                    set_name, mutation = item
                    outcome = on_a_free_worker(lambda w: run_mutant(mutation, w, originals[mutation.file],
                                                                    baseline))
                    print(row(set_name, mutation, outcome), file=sys.stderr, flush=True)
                    return outcome

                outcomes = list(pool.map(one, chosen))
        finally:
            for worker in workers:
                worker.close()

    rows = [row(set_name, m, o) for (set_name, m), o in zip(chosen, outcomes)]
    survivors = sum(not o.failures for o in outcomes)
    print("| mutation | set | file | caught? | first failing test | time |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    for set_name in sets:
        n = sum(s == set_name for s, _ in chosen)
        if n:
            caught = sum(bool(o.failures) for (s, _), o in zip(chosen, outcomes) if s == set_name)
            print(f"\n{set_name}: {caught} of {n} mutations caught", end="")
    timed_out = sum(o.timed_out for o in outcomes)
    print(f"\n\n{len(chosen) - survivors} of {len(chosen)} mutations caught; total {time.perf_counter() - start:.0f} s "
          f"({n_workers} workers; caught by the targeted files: "
          f"{sum(bool(o.failures) and o.phase == 'targeted' for o in outcomes)}; stopped at the time limit, "
          f"not by a failing test: {timed_out}).")
    print(f"Unmutated runs: {baseline.seconds:.0f} s over {len(baseline.known)} test files (the rest of the suite "
          f"runs unmutated only when a mutant needs it).")
    if baseline.failures():
        print(f"Unmutated suite failures (deselected): {', '.join(f'`{n}`' for n in baseline.failures())}")
    return 1 if survivors else 2 if baseline.failures() else 0


def row(set_name: str, mutation: Mutation, outcome: Outcome) -> str:
    name = mutation.name.replace("|", "&#124;")  # a literal | would split the Markdown cell
    if outcome.timed_out:
        caught = f"caught by the time limit | no result within {outcome.limit:.0f} s" + (
            " (rest)" if outcome.phase == "rest" else "")
    else:
        caught = (f"caught | `{outcome.failures[0]}`" + (" (rest)" if outcome.phase == "rest" else "")
                  if outcome.failures else "**survived** | —")
    return f"| {name} | {set_name} | `{mutation.file}` | {caught} | {outcome.seconds:.0f} s |"


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        sys.exit(main())
