"""Every chapter executed by papermill with the smoke profile, and its headline numbers checked.

The checks live in ``tests/notebook_expectations.yaml``: bounds (``min``/``max``) that encode
what the chapter demonstrates (a planted signal is recovered, ours matches lifelines), and
``value``/``tol`` regression references. A rule with ``requires: KEY`` applies only when the
headline ``KEY`` is truthy (the real-data checks need ``tcga_data_available``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from survlib import runner
from survlib._core.paths import EXECUTED_DIR_ENV, executed_dir

EXPECTATIONS = yaml.safe_load((Path(__file__).parent / "notebook_expectations.yaml").read_text())
NOTEBOOKS = [p.stem for p in runner.list_notebooks()]


def test_every_notebook_has_expectations() -> None:
    for stem in NOTEBOOKS:
        assert EXPECTATIONS.get(stem), f"{stem} has no checks in notebook_expectations.yaml"
    stale = {k for k, v in EXPECTATIONS.items() if v} - set(NOTEBOOKS)
    assert not stale, f"expectations for notebooks that do not exist: {sorted(stale)}"


@pytest.mark.notebook
@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_runs_with_smoke_profile(stem: str, tmp_path: Path) -> None:
    # `make test` sets SURVLIB_EXECUTED_DIR so that these smoke outputs are rendered into a
    # book afterwards (jupyter-book build -W): a chapter that breaks the build fails CI
    out_dir = executed_dir() if os.environ.get(EXECUTED_DIR_ENV) else tmp_path
    result = runner.run_notebook(
        stem, profile="smoke", output=out_dir / f"{stem}.ipynb", progress=False
    )
    values = json.loads(result.headlines.read_text())["values"]
    failures = []
    for key, rule in (EXPECTATIONS.get(stem) or {}).items():
        if "requires" in rule and not values.get(rule["requires"]):
            continue  # e.g. real TCGA checks when the tables are not in the data cache
        if key not in values:
            failures.append(f"{key}: not glued by the notebook")
            continue
        got = values[key]
        if "min" in rule and not got >= rule["min"]:
            failures.append(f"{key} = {got!r} < min {rule['min']}")
        if "max" in rule and not got <= rule["max"]:
            failures.append(f"{key} = {got!r} > max {rule['max']}")
        if "value" in rule and abs(got - rule["value"]) > rule.get("tol", 0.0):
            failures.append(f"{key} = {got!r} != {rule['value']} +- {rule.get('tol', 0.0)}")
    assert not failures, f"{stem}: " + "; ".join(failures)
