"""One papermill run (survlib.runner.execute): records, hidden injected cell, headlines, atomic
outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from survlib import runner


def test_run_records_parameters_hides_injected_cell_and_writes_headlines(
    probe: Path, tmp_path: Path
) -> None:
    out = tmp_path / "executed" / "probe.ipynb"
    result = runner.run_notebook(
        probe, profile="smoke", overrides={"n": 4, "rate": 2}, output=out, progress=False
    )
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]
    record = nb.metadata["survlib"]
    assert record["parameters"] == {"seed": 0, "n": 4, "rate": 2.0, "label": "a"}
    assert record["profile"] == "smoke" and record["git_commit"]
    assert record["survlib_version"]
    assert "Run record" in nb.cells[-1].source
    values = json.loads(result.headlines.read_text())["values"]
    assert values["answer"] == pytest.approx(8.0)
    # the working directory is a fresh temporary folder, not the caller's
    assert Path(values["cwd"]) != Path.cwd()


def test_failed_run_leaves_previous_output_untouched(probe: Path, tmp_path: Path) -> None:
    out = tmp_path / "probe.ipynb"
    runner.run_notebook(probe, output=out, progress=False)
    before = out.read_bytes()
    with pytest.raises(Exception, match="non-negative"):
        runner.run_notebook(probe, overrides={"n": -1}, output=out, progress=False)
    assert out.read_bytes() == before
    assert out.with_suffix(".failed.ipynb").exists()
