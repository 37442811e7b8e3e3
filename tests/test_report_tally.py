"""rbmlib.report.tally: the status page's counts, checked against verdicts counted by hand (issue 21)."""
from rbmlib import report

WIN = dict(a=[0.1] * 5, b=[0.2] * 5, min_effect=0.05)  # A better in 5 of 5 pairs: reproduced
LOSS = dict(a=[0.2] * 5, b=[0.1] * 5, min_effect=0.05)  # significant the other way: not reproduced


def test_tally_counts_every_verdict_of_every_results_file_by_profile_and_outcome(tmp_path):
    wins = [report.claim(f"claim {i}", "beats", data="d", **WIN) for i in range(3)]
    check = report.claim("identity", "within", data="d", value=1.0, target=1.0, tolerance=0.1)
    lost = report.claim("lost", "beats", data="d", **LOSS)
    report.save_results("one", "ci", {}, verdicts=[*wins, check], directory=tmp_path)
    report.save_results("two", "ci", {}, verdicts=wins[:2], directory=tmp_path)
    report.save_results("one", "long", {}, verdicts=[wins[0], lost, lost], directory=tmp_path)
    table = report.tally(tmp_path)
    assert table.header[1:7] == [f"{o.mark} {o.value}" for o in report.stats.Outcome]
    # ci: 3 + 2 reproduced claims and 1 passed check over two files; long: 1 reproduced, 2 not reproduced
    assert [row[:7] for row in table.rows] == [["`ci`", "5", "0", "0", "0", "1", "0"],
                                               ["`long`", "1", "2", "0", "0", "0", "0"]]
    assert table.rows[0][7].startswith("2 ") and table.rows[1][7].startswith("1 ")  # results files per profile
