"""rbmlib.report: number formatting, Markdown tables, verdicts, results files and the status table built from them."""
import copy
import json

import pytest

from rbmlib import report


def test_fmt():
    assert report.fmt(0.12345, 3) == "0.123"
    assert report.fmt(0.0525, 2, percent=True) == "5.25%"
    assert report.fmt(-1.5, 1, signed=True) == "-1.5" and report.fmt(2.0, 1, signed=True) == "+2.0"
    assert report.fmt(None) == "—" and report.fmt(float("nan")) == "—"


def test_table_is_markdown_and_checks_its_shape():
    table = report.Table(["a", "b"], [[1, "x"]], caption="cap")
    assert table.markdown() == "**cap**\n\n| a | b |\n|---|---|\n| 1 | x |"
    assert repr(table) == table._repr_markdown_() == table.markdown()
    with pytest.raises(ValueError, match="2 cells"):
        report.Table(["a"], [[1, 2]])


BEATS = dict(a=[0.10, 0.11, 0.09, 0.10, 0.12], b=[0.2] * 5, min_effect=0.05, scale=100, unit=" pp")


def _verdicts():
    return [report.claim("A beats B", "beats", data="MNIST", paper="1.0 vs 2.0 (verified)", **BEATS),
            report.claim("B beats A", "beats", data="MNIST", **{**BEATS, "a": BEATS["b"], "b": BEATS["a"]}),
            report.claim("A beats B on 3 seeds", "beats", data="MNIST",
                         **{**BEATS, "a": BEATS["a"][:3], "b": BEATS["b"][:3]}),
            report.claim("NORB column", "not_testable", data="—", reason="NORB is not here"),
            report.claim("signal ratio", "within", data="random weights", value=-21.0, target=-21, tolerance=0.1,
                         fragile="moves with rounding")]


def test_outcomes_are_recomputed_from_the_raw_inputs():
    verdicts = _verdicts()
    assert [v.outcome.value for v in verdicts] == ["reproduced", "not reproduced", "inconclusive at this scale",
                                                   "not testable here", "check passed"]
    assert [v.kind for v in verdicts] == ["claim"] * 4 + ["check"]
    saved = [v.to_json() for v in verdicts]
    assert [report.Verdict.from_json(s) for s in saved] == verdicts
    edited = dict(saved[0], inputs={**saved[0]["inputs"], "a": [0.3] * 5}, outcome="reproduced")
    assert report.Verdict.from_json(edited).outcome.value == "not reproduced"  # the stored outcome is never read
    with pytest.raises(ValueError, match="cannot be recomputed"):
        report.Verdict.from_json({"claim": "typed", "outcome": "reproduced", "data": "x"})
    with pytest.raises(ValueError, match="name the data"):
        report.claim("no data", "within", data="", value=1.0, target=1.0, tolerance=0.1)


def test_verdict_and_check_tables_split_claims_from_checks():
    verdicts = _verdicts()
    claims, checks = report.verdict_table(verdicts), report.check_table(verdicts)
    assert claims.header == ["paper's claim", "paper", "rule (stated before the run)", "ours", "outcome"]
    assert [row[0] for row in claims.rows] == ["A beats B", "B beats A", "A beats B on 3 seeds", "NORB column"]
    assert claims.rows[0][-1] == "✅ reproduced" and claims.rows[1][-1].startswith("❌ not reproduced")
    assert claims.rows[2][-1].startswith("❔ inconclusive at this scale — 3 untied pairs cannot reach")
    assert [row[0] for row in checks.rows] == ["signal ratio"] and checks.rows[0][-1] == "✔ check passed ⚠"


def test_results_round_trip_status_and_profile_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "my-cache"))
    monkeypatch.setenv("RBMBOOK_JOBS", "3")
    verdicts = _verdicts()
    path = report.save_results("demo", "ci", {"x": 1, "where": str(tmp_path / "my-cache" / "norb"),
                                              "band": [float("-inf"), 1.5, float("nan")]},
                               verdicts=verdicts, title="Demo 2024", seeds=[0], wall_time_s=1.23,
                               directory=tmp_path)
    saved = json.loads(path.read_text())
    assert path.name == "demo.ci.json" and saved["results"]["x"] == 1
    assert saved["results"]["where"] == "$RBMBOOK_CACHE/norb"  # no machine path in a results file
    assert saved["results"]["band"] == [None, 1.5, None]  # strict JSON: no NaN or Infinity
    assert saved["provenance"]["seeds"] == [0] and saved["provenance"]["wall_time_s"] == 1.2
    assert saved["provenance"]["rbmlib"] and "uncommitted_changes" in saved["provenance"]
    assert saved["provenance"]["grid_jobs"] == 3  # cells at once: with torch_threads, the run's CPU use
    assert saved["verdicts"][0]["outcome"] == "reproduced" and saved["verdicts"][0]["inputs"]["b"] == [0.2] * 5
    assert report.load_results("demo", "paper", tmp_path) is None

    [status] = report.status_tables(tmp_path)
    assert status.header == ["kind", "claim", "data", "paper", "`ci` (scaled down)", "`long`", "`paper`"]
    assert status.caption == "Demo 2024"
    assert len(status.rows) == 5 and status.rows[0][:4] == ["claim", "A beats B", "MNIST", "1.0 vs 2.0 (verified)"]
    assert status.rows[0][4].startswith("✅ reproduced: effect") and status.rows[0][5:] == ["not run", "not run"]
    report.save_results("demo", "long", {}, verdicts=verdicts[2:3], directory=tmp_path)
    [status] = report.status_tables(tmp_path)
    assert status.rows[2][5].startswith("❔ inconclusive") and status.rows[0][5] == "—"
    assert report.profile_table("demo", tmp_path).rows[2][2].startswith("❔ inconclusive")
    tally = report.tally(tmp_path)
    assert tally.rows[0][:3] == ["`ci`", "1", "1"] and tally.rows[1][0] == "`long`"


def test_the_status_table_shows_a_claim_that_only_another_profile_tested(tmp_path):
    verdicts = _verdicts()
    report.save_results("demo", "ci", {}, verdicts=verdicts[:1], directory=tmp_path)
    older = report.claim("A beats B (worded as in an older run)", "beats", data="MNIST", **BEATS)
    report.save_results("demo", "long", {}, verdicts=[verdicts[0], older], directory=tmp_path)
    [status] = report.status_tables(tmp_path)
    assert [row[1] for row in status.rows] == ["A beats B", "A beats B (worded as in an older run)"]
    assert status.rows[1][4] == "—" and status.rows[1][5].startswith("✅ reproduced")


def test_the_status_table_names_each_profiles_data_where_they_differ(tmp_path):
    verdicts = _verdicts()
    report.save_results("demo", "ci", {}, verdicts=verdicts[:1], directory=tmp_path)
    report.save_results("demo", "long", {}, verdicts=verdicts[:1], directory=tmp_path)
    assert report.status_tables(tmp_path)[0].rows[0][2] == "MNIST"
    on_cifar = report.claim("A beats B", "beats", data="CIFAR-10", **BEATS)
    report.save_results("demo", "long", {}, verdicts=[on_cifar], directory=tmp_path)
    assert report.status_tables(tmp_path)[0].rows[0][2] == "MNIST (`ci`) · CIFAR-10 (`long`)"


def test_a_claims_row_shows_the_first_profiles_paper_number(tmp_path):
    """Where the runs word a claim's paper number differently (an older `long` or `paper` run), its row shows the `ci`
    run's: the first profile that has the claim."""
    for profile, paper in (("ci", "1.0 vs 2.0 (verified)"), ("long", "1.0 vs 2.1 (UNVERIFIED)"),
                           ("paper", "1.0 vs 2.2 (secondary)")):
        verdict = report.claim("A beats B", "beats", data="MNIST", paper=paper, **BEATS)
        report.save_results("demo", profile, {}, verdicts=[verdict], directory=tmp_path)
    [status] = report.status_tables(tmp_path)
    assert len(status.rows) == 1 and status.rows[0][:4] == ["claim", "A beats B", "MNIST", "1.0 vs 2.0 (verified)"]


def test_each_profile_column_shows_its_own_profiles_verdict(tmp_path):
    verdicts = {"ci": report.claim("A beats B", "beats", data="MNIST", **BEATS),
                "long": report.claim("A beats B", "beats", data="MNIST", **{**BEATS, "a": BEATS["b"], "b": BEATS["a"]}),
                "paper": report.claim("A beats B", "beats", data="MNIST",
                                      **{**BEATS, "a": BEATS["a"][:3], "b": BEATS["b"][:3]})}
    for profile, verdict in verdicts.items():
        report.save_results("demo", profile, {}, verdicts=[verdict], directory=tmp_path)
    shown = ["✅ reproduced: effect 9.60 ± 0.51 pp (n = 5); A better in 5 of 5 untied pairs, p = 0.031",
             "❌ not reproduced — significant in the opposite direction: effect -9.60 ± 0.51 pp (n = 5); A better in 0 "
             "of 5 untied pairs, p = 1.000",
             "❔ inconclusive at this scale — 3 untied pairs cannot reach α = 0.05 with a sign test (it needs ≥ 5); "
             "about 5 pairs would decide it at the observed effect and spread: effect 10.00 ± 0.58 pp (n = 3); A "
             "better in 3 of 3 untied pairs, p = 0.125"]
    assert report.status_tables(tmp_path)[0].rows[0][4:] == shown
    assert report.profile_table("demo", tmp_path).rows[0] == ["A beats B", *shown]


@pytest.mark.parametrize("flags, isa", [("fpu sse4_2 avx avx2 avx512f avx512bw", "AVX-512"),
                                        ("fpu sse4_2 avx avx2 fma", "AVX2"), ("fpu sse4_2", "SSE4.2"), ("fpu", None)])
def test_the_provenance_names_the_widest_vector_extension(tmp_path, monkeypatch, flags, isa):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n")
    monkeypatch.setattr(report, "CPUINFO", cpuinfo)
    assert report.cpu_vector_isa() == isa and report.cpu_name() == "AMD EPYC"
    assert report.provenance()["cpu_vector_isa"] == isa


def test_results_go_to_the_cache_unless_recording(tmp_path, monkeypatch):
    monkeypatch.delenv("RBMBOOK_RESULTS", raising=False)
    monkeypatch.setenv("RBMBOOK_CACHE", str(tmp_path / "cache"))
    assert report.results_dir() == tmp_path / "cache" / "results"
    assert report.save_results("demo", "ci", {}).parent == tmp_path / "cache" / "results"
    monkeypatch.setenv("RBMBOOK_RESULTS", str(tmp_path / "book"))
    assert report.save_results("demo", "ci", {}).parent == tmp_path / "book"


def test_a_bad_results_file_is_named(tmp_path):
    (tmp_path / "half.ci.json").write_text('{"name": "half", "verd')
    with pytest.raises(ValueError, match="half.ci.json is not valid JSON"):
        report.status_tables(tmp_path)
    (tmp_path / "half.ci.json").write_text("[]")
    with pytest.raises(ValueError, match="not an rbmbook results file"):
        report.load_results("half", "ci", tmp_path)


def test_concurrent_writers_never_leave_a_partial_file(tmp_path):
    import threading

    errors = []

    def save(i):
        try:
            report.save_results("race", "ci", {"i": i, "pad": "x" * 20000}, directory=tmp_path)
            report.read_results(tmp_path / "race.ci.json")
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            errors.append(error)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(p.name for p in tmp_path.iterdir()) == ["race.ci.json"]


def _book(tmp_path, code=("x = 1\n", "y = x + 1")):
    """A minimal checkout: _toc.yml, book/results and one chapter notebook, notebooks/demo_chapter.ipynb."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "_toc.yml").write_text("root: book/intro\n")
    (tmp_path / "book" / "results").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Demo"]}]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [c]}
              for c in code]
    path = tmp_path / "notebooks" / "demo_chapter.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _edit(path, change):
    notebook = json.loads(path.read_text())
    change(notebook["cells"])
    path.write_text(json.dumps(notebook))


def test_the_code_hash_covers_the_chapters_code_cells_and_rbmlib(tmp_path):
    path = _book(tmp_path)
    digest, notebook = report.code_hash("demo", tmp_path)
    assert notebook == "notebooks/demo_chapter.ipynb" and report.chapter_notebook("demo", tmp_path) == path
    assert report.notebook_code(path) == "x = 1\n\0\ny = x + 1"
    unchanged = [
        lambda cells: cells[1].update(outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}],
                                      execution_count=3, metadata={"tags": ["hide-input"]}),
        lambda cells: cells[0].update(source=["# Demo, reworded"]),
        lambda cells: cells[1].update(source=["x = 1   \r\n", "\n"]),  # trailing spaces, line endings, blank lines
        lambda cells: cells.append({"cell_type": "code", "metadata": {}, "outputs": [], "source": ["  \n"]})]
    for change in unchanged:
        _edit(path, change)
        assert report.code_hash("demo", tmp_path)[0] == digest
    _edit(path, lambda cells: cells[2].update(source=["y = x + 2"]))
    assert report.code_hash("demo", tmp_path)[0] != digest
    without_notebook, none = report.code_hash("other", tmp_path)  # no notebook: rbmlib's sources only
    assert none is None and without_notebook != digest and len(without_notebook) == 64
    _book(tmp_path / "two")
    (tmp_path / "two" / "notebooks" / "demo_other.ipynb").write_text(path.read_text())
    assert report.chapter_notebook("demo", tmp_path / "two") is None  # ambiguous: no notebook is guessed
    assert report.chapter_notebook("demo", tmp_path / "nowhere") is None


def _fake_rbmlib(tmp_path, monkeypatch, modules):
    """A package of ``modules`` (path inside it → source) that report.computing_modules and code_hash take for the
    imported rbmlib."""
    package = (tmp_path / "rbmlib").resolve()
    for name, source in modules.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(source)
    monkeypatch.setattr(report, "__file__", str(package / "report.py"))
    return package


def test_computing_modules_are_every_module_but_the_not_computing_ones_sorted_with_data(tmp_path, monkeypatch):
    """What code_hash and grid.code_version hash: every .py file of rbmlib, its data loading (rbmlib/data) included,
    but those that only present, decide, schedule or store results, in the order of their paths inside the package
    (never the file system's)."""
    real = [name for name, _ in report.computing_modules()]
    assert real == sorted(real) and {"units.py", "train.py", "data/files.py", "data/mnist.py"} <= set(real)
    assert "report.py" not in real and "grid.py" not in real
    names = ["units.py", "__init__.py", "report.py", "grid.py", "stats.py", "checkpoint.py", "profiles.py",
             "_grid_cell.py", "activity.py", "data/__init__.py", "data/mnist.py"]
    package = _fake_rbmlib(tmp_path, monkeypatch, {name: "x = 1\n" for name in names})
    assert report.computing_modules() == [(name, package / name) for name in
                                          ["__init__.py", "activity.py", "data/__init__.py", "data/mnist.py",
                                           "units.py"]]


def test_code_hash_changes_when_a_module_is_renamed_with_the_same_code(tmp_path, monkeypatch):
    package = _fake_rbmlib(tmp_path, monkeypatch, {"units.py": "x = 1\n", "train.py": "y = 2\n"})
    schemes = (report.CODE_HASH_SCHEME, report.BYTES_SCHEME)
    before = [report.code_hash("demo", tmp_path, scheme) for scheme in schemes]
    assert [report.code_hash("demo", tmp_path, scheme) for scheme in schemes] == before
    assert [notebook for _, notebook in before] == [None, None]  # no checkout here: rbmlib's modules only
    (package / "train.py").rename(package / "trainer.py")
    after = [report.code_hash("demo", tmp_path, scheme)[0] for scheme in schemes]
    assert after[0] != before[0][0] and after[1] != before[1][0]


def test_code_hash_does_not_change_when_only_a_docstring_or_comment_changes(tmp_path, monkeypatch):
    """Under the current scheme; under the bytes scheme of older results files it does."""
    source = '"""The units."""\n\n\ndef f(x):\n    """Doubles x."""\n    return 2 * x  # twice\n'
    package = _fake_rbmlib(tmp_path, monkeypatch, {"units.py": source})
    current, as_bytes = (report.code_hash("demo", tmp_path, scheme)[0]
                         for scheme in (report.CODE_HASH_SCHEME, report.BYTES_SCHEME))
    (package / "units.py").write_text(source.replace("Doubles x.", "Twice x,\n    reworded.")
                                      .replace("# twice", "# double"))
    assert report.code_hash("demo", tmp_path)[0] == current
    assert report.code_hash("demo", tmp_path, report.BYTES_SCHEME)[0] != as_bytes
    (package / "units.py").write_text(source.replace("2 * x", "3 * x"))
    assert report.code_hash("demo", tmp_path)[0] != current


def test_module_code_leaves_out_documentation_and_keeps_every_statement():
    source = ('"""Module docstring."""\nimport math  # a comment\n\n\nclass A:\n    """Class · docstring."""\n'
              '    x = "not a docstring"\n\n    def f(self):  # why\n        """β·x: the maths."""; return 1\n\n'
              'async def g():\n    """Only a docstring."""\n    \n    s = "# not a comment"   \n')
    assert report.module_code(source) == ('import math\nclass A:\n    x = "not a docstring"\n    def f(self):\n'
                                          '        ; return 1\nasync def g():\n    s = "# not a comment"')
    reworded = (source.replace("Module docstring.", "Reworded,\nover two lines.").replace("# why", "# because")
                .replace("β·x: the maths.", "other maths").replace("\n\n\n", "\n"))
    assert report.module_code(reworded) == report.module_code(source)
    for edit in [("return 1", "return 2"), ("not a docstring", "changed"), ("import math", "import cmath"),
                 ("# not a comment", "# changed")]:
        assert report.module_code(source.replace(*edit)) != report.module_code(source), edit


@pytest.mark.parametrize("source", [
    'if True:\n    "kept: not a body of a module, class or function"\n',
    'def f():\n    f"{1} kept: an f-string is no docstring"\n',
    'def f():\n    b"kept: bytes are no docstring"\n',
    'def f():\n    1\n    "kept: not the first statement"\n',
    'é = 1; """kept: not first"""\n',
])
def test_module_code_keeps_strings_that_are_not_docstrings(source):
    assert report.module_code(source) == source.rstrip("\n")


def test_module_code_keeps_the_lines_of_other_strings_exactly():
    """Inside a string that spans lines, blank lines and trailing spaces are data, not layout."""
    for a, b in [('x = """a\n\nb"""', 'x = """a\nb"""'), ('x = """a   \nb"""', 'x = """a\nb"""'),
                 ('x = f"""{y}\n\n"""', 'x = f"""{y}\n"""'), ('x = b"""a\t\nb"""', 'x = b"""a\nb"""')]:
        assert report.module_code(a) == a and report.module_code(a) != report.module_code(b)
    assert report.module_code('s = "é"; """x"""\ndef f(): """β"""; return 1') == 's = "é"; """x"""\ndef f(): ; return 1'


def test_a_results_file_is_compared_under_the_scheme_it_recorded(tmp_path, monkeypatch):
    _book(tmp_path)
    monkeypatch.chdir(tmp_path / "notebooks")
    saved = json.loads(report.save_results("demo", "ci", {}, directory=tmp_path / "r").read_text())
    assert saved["provenance"]["code_hash_scheme"] == report.CODE_HASH_SCHEME != report.BYTES_SCHEME
    assert report.code_status(saved, tmp_path) == "current"
    older = copy.deepcopy(saved)  # written before schemes were recorded: its hash covers rbmlib's bytes
    del older["provenance"]["code_hash_scheme"]
    assert report.code_status(older, tmp_path) == "stale"
    older["provenance"]["code_hash"] = report.code_hash("demo", tmp_path, report.BYTES_SCHEME)[0]
    assert report.code_status(older, tmp_path) == "current"
    assert report.code_hash("demo", tmp_path, report.BYTES_SCHEME)[0] != saved["provenance"]["code_hash"]
    with pytest.raises(ValueError, match="unknown code hash scheme"):
        report.code_hash("demo", tmp_path, "rbmbook-code-hash-0")
    newer = copy.deepcopy(saved)  # a file written by an rbmlib with a scheme this one cannot compute
    newer["provenance"]["code_hash_scheme"] = "rbmbook-code-hash-99"
    assert report.code_status(newer, tmp_path) == "stale"


def test_the_tables_compare_each_file_under_its_own_scheme(tmp_path, monkeypatch):
    """A chapter's `ci` file recorded under scheme 3 and its `long` file under the bytes scheme are both current."""
    _book(tmp_path)
    results = tmp_path / "book" / "results"
    monkeypatch.chdir(tmp_path / "notebooks")
    report.save_results("demo", "ci", {}, verdicts=_verdicts()[:1], title="Demo", directory=results)
    report.save_results("demo", "long", {}, verdicts=_verdicts()[:1], directory=results)
    older = report.load_results("demo", "long", results)
    del older["provenance"]["code_hash_scheme"]
    older["provenance"]["code_hash"] = report.code_hash("demo", tmp_path, report.BYTES_SCHEME)[0]
    (results / "demo.long.json").write_text(json.dumps(older))
    monkeypatch.chdir(tmp_path.parent)
    row = report.status_tables(results)[0].rows[0]
    assert row[4].startswith("✅ reproduced") and row[5].startswith("✅ reproduced"), row
    assert not any(cell.startswith("⌛") for cell in report.profile_table("demo", results).rows[0])
    assert [row[-1] for row in report.tally(results).rows] == ["1 current", "1 current"]


def test_a_result_whose_code_changed_is_shown_stale_never_current(tmp_path, monkeypatch):
    path = _book(tmp_path)
    results = tmp_path / "book" / "results"
    monkeypatch.chdir(tmp_path / "notebooks")  # where a chapter runs
    saved = report.save_results("demo", "ci", {}, verdicts=_verdicts()[:1], title="Demo", directory=results)
    provenance = json.loads(saved.read_text())["provenance"]
    assert provenance["code_hash"] == report.code_hash("demo", tmp_path)[0] and provenance["smoke"] is False
    assert provenance["code_hash_notebook"] == "notebooks/demo_chapter.ipynb"
    report.save_results("demo", "long", {}, verdicts=_verdicts()[:1], directory=results)
    monkeypatch.chdir(tmp_path.parent)  # the tables find the checkout from the results folder
    assert report.code_status(report.load_results("demo", "ci", results), tmp_path) == "current"
    assert report.status_tables(results)[0].rows[0][4].startswith("✅ reproduced")
    assert report.profile_table("demo", results).rows[0][1:3] == [report.status_tables(results)[0].rows[0][4]] * 2

    _edit(path, lambda cells: cells[2].update(source=["y = x + 2"]))  # the chapter's code changes after the runs
    payload = report.load_results("demo", "long", results)
    assert report.code_status(payload, tmp_path) == "stale"
    status, profile = report.status_tables(results)[0], report.profile_table("demo", results)
    assert status.rows[0][4].startswith("⌛ stale (the code changed since this run): ✅ reproduced")
    assert profile.rows[0][1].startswith("⌛ stale") and profile.rows[0][2].startswith("⌛ stale")
    assert profile.rows[0][3] == "not run"
    assert report.tally(results).rows[0][-1] == "1 stale"

    payload["provenance"].pop("code_hash")  # a file written before code hashes were recorded
    (results / "demo.long.json").write_text(json.dumps(payload))
    assert report.code_status(payload, tmp_path) == "no code hash"
    assert report.profile_table("demo", results).rows[0][2].startswith("no code hash: ✅ reproduced")
    assert report.tally(results).rows[1][-1] == "1 no code hash"


def test_each_profile_column_shows_its_own_runs_code_status(tmp_path, monkeypatch):
    """A current `ci` run beside a stale `long` run and a `paper` run without a code hash: each column says its own."""
    _book(tmp_path)
    results = tmp_path / "book" / "results"
    monkeypatch.chdir(tmp_path / "notebooks")
    for profile in report.PROFILES_SHOWN:
        report.save_results("demo", profile, {}, verdicts=_verdicts()[:1], title="Demo", directory=results)
    long, paper = (report.load_results("demo", p, results) for p in ("long", "paper"))
    long["provenance"]["code_hash"] = "0" * 64  # computed by other code
    del paper["provenance"]["code_hash"]  # written before code hashes were recorded
    (results / "demo.long.json").write_text(json.dumps(long))
    (results / "demo.paper.json").write_text(json.dumps(paper))
    shown = "✅ reproduced: effect 9.60 ± 0.51 pp (n = 5); A better in 5 of 5 untied pairs, p = 0.031"
    columns = [shown, f"⌛ stale (the code changed since this run): {shown}", f"no code hash: {shown}"]
    assert report.status_tables(results)[0].rows[0][4:] == columns
    assert report.profile_table("demo", results).rows[0] == ["A beats B", *columns]


def test_a_smoke_run_is_never_written_into_the_books_results(tmp_path, monkeypatch):
    _book(tmp_path)
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv("RBMBOOK_SMOKE", "1")
    with pytest.raises(ValueError, match="smoke run"):
        report.save_results("demo", "paper", {}, directory=tmp_path / "book" / "results")
    saved = report.save_results("demo", "paper", {}, directory=tmp_path / "elsewhere")
    assert json.loads(saved.read_text())["provenance"]["smoke"] is True


def test_without_cpuinfo_the_name_falls_back_to_platform_and_the_extension_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "CPUINFO", tmp_path / "absent")
    monkeypatch.setattr(report.platform, "processor", lambda: "some-cpu")
    assert report.cpu_name() == "some-cpu" and report.cpu_vector_isa() is None


def test_the_cpu_name_is_the_model_name_line_even_where_platform_knows_one(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"  # as Linux writes it: "model" (a number) comes before "model name"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 17\n"
                       "model name\t: AMD EPYC 9B45\nflags\t\t: fpu avx2\n")
    monkeypatch.setattr(report, "CPUINFO", cpuinfo)
    monkeypatch.setattr(report.platform, "processor", lambda: "x86_64")
    assert report.cpu_name() == "AMD EPYC 9B45"
