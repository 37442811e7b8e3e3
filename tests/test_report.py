"""rbmlib.report: number formatting, Markdown tables, verdicts, results files and the status table built from them."""
import json

import pytest

from rbmlib import report


def test_fmt_and_spread():
    assert report.fmt(0.12345, 3) == "0.123"
    assert report.fmt(0.0525, 2, percent=True) == "5.25%"
    assert report.fmt(-1.5, 1, signed=True) == "-1.5" and report.fmt(2.0, 1, signed=True) == "+2.0"
    assert report.fmt(None) == "—" and report.fmt(float("nan")) == "—"
    assert report.fmt_spread(0.1, 0.02, 1, percent=True) == "10.0 ± 2.0%"


def test_table_is_markdown_and_checks_its_shape():
    table = report.Table(["a", "b"], [[1, "x"]], caption="cap")
    assert table.markdown() == "**cap**\n\n| a | b |\n|---|---|\n| 1 | x |"
    assert repr(table) == table._repr_markdown_() == table.markdown()
    with pytest.raises(ValueError, match="2 cells"):
        report.Table(["a"], [[1, 2]])


def test_verdict_labels_and_paper_column():
    verdicts = [report.Verdict("c1", "t", "e", True, paper="1.0"), report.Verdict("c2", "t", "e", False),
                report.Verdict("c3", "t", "e", None)]
    table = report.verdict_table(verdicts)
    assert table.header == ["paper's claim", "paper", "tolerance", "ours", "verdict"]
    assert [row[-1] for row in table.rows] == ["✅ reproduced", "❌ not reproduced", "➖ not testable here"]
    assert report.verdict_table(verdicts[1:]).header == ["paper's claim", "tolerance", "ours", "verdict"]


def test_results_round_trip_and_status_table(tmp_path):
    claims = [report.Verdict("A beats B", "≥ 1 s.e.", "0.7 vs 0.6", True, paper="0.8 vs 0.7"),
              report.Verdict("C", "—", "no data", None)]
    path = report.save_results("demo", "ci", {"x": 1}, verdicts=claims, title="Demo 2024", seeds=[0],
                               wall_time_s=1.23, directory=tmp_path)
    saved = json.loads(path.read_text())
    assert path.name == "demo.ci.json" and saved["results"] == {"x": 1}
    assert saved["provenance"]["seeds"] == [0] and saved["provenance"]["wall_time_s"] == 1.2
    assert report.load_results("demo", "paper", tmp_path) is None

    status = report.status_table(tmp_path)
    assert len(status.rows) == 2  # one row per claim
    assert status.rows[0][:3] == ["Demo 2024", "A beats B", "0.8 vs 0.7"] and status.rows[1][0] == ""
    assert status.rows[0][3] == "✅ reproduced: 0.7 vs 0.6" and status.rows[0][4] == "not run"

    report.save_results("demo", "paper", {}, verdicts=[report.Verdict("A beats B", "≥ 1 s.e.", "0.81 vs 0.7", True)],
                        directory=tmp_path)
    paper_cell = report.status_table(tmp_path).rows[0][4]
    assert paper_cell.startswith("✅ reproduced: 0.81 vs 0.7 (")
