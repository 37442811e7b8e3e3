"""Independent mutations that SURVIVE today's tests (written 2026-12-03 by helpers that had not read tests/): the
gaps to close. Not run by run.py or CI. Close a gap with a test that catches the mutation, then move it into
independent.py. The report/grid mutations: no test checks which modules report.computing_modules returns, in what
order, or with data/; that code_hash strips docstrings and includes each path; that a claim shows the first profile's
verdict; that each table column uses its own profile's verdict and code status; NOT_COMPUTING's contents;
machines.json's version being the hashed one; record_machine's Dask case."""
from run import Mutation  # noqa

MUTATIONS = [
    # ------------------------------------------------------------------------------------------------ independent, for
    # report.computing_modules / code_hash / _claims_over / status_tables / profile_table / code_status and
    # grid.code_version / NOT_COMPUTING
    # computing_modules / filter dropped: report.py, grid.py, stats.py … hashed too, a reworded table invalidates results
    Mutation("computing_modules: NOT_COMPUTING filter dropped", "rbmlib/report.py",
             'return [(relative, path) for relative, path in inside if relative not in NOT_COMPUTING]',
             'return [(relative, path) for relative, path in inside]'),
    # computing_modules / wrong path form: paths taken relative to the package's parent ("rbmlib/report.py"), so no
    # NOT_COMPUTING name matches and code_hash hashes "rbmlib/rbmlib/…"
    Mutation("computing_modules: paths relative to the package's parent", "rbmlib/report.py",
             'inside = sorted((path.relative_to(package).as_posix(), path) for path in package.rglob("*.py"))',
             'inside = sorted((path.relative_to(package.parent).as_posix(), path) for path in package.rglob("*.py"))'),
    # computing_modules / sort lost: rglob's directory order, so the hash depends on the file system, not the code
    Mutation("computing_modules: not sorted (rglob order)", "rbmlib/report.py",
             'inside = sorted((path.relative_to(package).as_posix(), path) for path in package.rglob("*.py"))',
             'inside = [(path.relative_to(package).as_posix(), path) for path in package.rglob("*.py")]'),
    # computing_modules / subpackage skipped: glob for rglob, rbmlib/data/*.py (the data loading) no longer hashed
    Mutation("computing_modules: data/ subpackage not walked (glob)", "rbmlib/report.py",
             'for path in package.rglob("*.py"))',
             'for path in package.glob("*.py"))'),
    # code_hash / path left out: moving or renaming a module (same code) keeps the hash
    Mutation("code_hash: module path not in the digest", "rbmlib/report.py",
             'digest.update(f"rbmlib/{relative_path}\\0".encode() + code + b"\\0")',
             'digest.update(code + b"\\0")'),
    # code_hash / docstrings kept: the current scheme hashes the raw text, so rewording a docstring makes results stale
    Mutation("code_hash: current scheme hashes raw text, not module_code", "rbmlib/report.py",
             'else module_code(path.read_text("utf-8")).encode()',
             'else path.read_text("utf-8").encode()'),
    # _claims_over / last wins: a claim's row takes the last profile's verdict (kind, wording, paper) instead of ci's
    Mutation("_claims_over: keeps the last profile's verdict", "rbmlib/report.py",
             'claims.setdefault(claim_, v)',
             'claims[claim_] = v'),
    # status_tables / wrong profile's code status: every column marked as the ci run's (a stale long run looks current)
    Mutation("status_tables: every column gets the ci run's code status", "rbmlib/report.py",
             '*(_run_cell(by_claim[p].get(v.claim), runs[p], status[p]) for p in PROFILES_SHOWN)]\n'
             '                for v in _claims_over(by_claim)]\n'
             '        tables.append(',
             '*(_run_cell(by_claim[p].get(v.claim), runs[p], status["ci"]) for p in PROFILES_SHOWN)]\n'
             '                for v in _claims_over(by_claim)]\n'
             '        tables.append('),
    # profile_table / wrong profile's verdict: each column shows the row's (first profile's) verdict where it has the claim
    Mutation("profile_table: every column shows the first profile's verdict", "rbmlib/report.py",
             'rows = [[v.claim, *(_run_cell(by_claim[p].get(v.claim), runs[p], status[p])',
             'rows = [[v.claim, *(_run_cell(v if v.claim in by_claim[p] else None, runs[p], status[p])'),
    # NOT_COMPUTING / report.py left out: editing how results are shown invalidates every result and cached cell
    Mutation("NOT_COMPUTING: report.py missing", "rbmlib/grid.py",
             '"profiles.py", "report.py", "stats.py")',
             '"profiles.py", "stats.py")'),
    # run / un-hashed version: entries keyed by the caller's version, not the hashed one that keys the cache
    Mutation("run: machines recorded under the caller's un-hashed version", "rbmlib/grid.py",
             '        version = hashlib.sha256((inspect.getsource(fn) + version).encode()).hexdigest()[:16]\n'
             '    cached = [cache is not None and call.check_call_in_cache(fn, cell, version) for cell in cells]\n'
             '    log = _Log(desc, cached, progress)\n'
             '    if cache is not None:\n'
             '        computed = functools.partial(_record_computed, folder, cached, version, scheduler)\n',
             '        given, version = version, hashlib.sha256((inspect.getsource(fn) + version).encode()).hexdigest()[:16]\n'
             '    cached = [cache is not None and call.check_call_in_cache(fn, cell, version) for cell in cells]\n'
             '    log = _Log(desc, cached, progress)\n'
             '    if cache is not None:\n'
             '        computed = functools.partial(_record_computed, folder, cached, given, scheduler)\n'),
    # record_machine / Dask: the caller's CPU named for a cell a Dask worker computed
    Mutation("record_machine: Dask cells named with the caller's CPU", "rbmlib/grid.py",
             '"machine": f"Dask cluster at {scheduler}" if scheduler else cpu_name(),',
             '"machine": cpu_name(),'),
]
