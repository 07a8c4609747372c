"""The reproducibility report (survlib.runner.report)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from survlib import runner


def test_run_report_lists_each_run_and_how_to_reproduce_it(probe: Path, tmp_path: Path) -> None:
    out = tmp_path / "executed" / "98_probe.ipynb"
    runner.run_notebook(probe, profile="smoke", overrides={"n": 5}, output=out, progress=False)
    report = runner.write_run_report(out.parent).read_text()
    assert "## 98_probe" in report
    assert "survlib run 98_probe --profile smoke -p n 5" in report
    assert "| `answer` | 2.5 |" in report
    nb = nbformat.read(out, as_version=4)
    assert "survlib run 98_probe --profile smoke -p n 5" in nb.cells[-1].source
