"""Notebook parameters (survlib.runner.params): the parameters cell, overrides, profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from survlib import runner
from tests.runner._probe import PROBE


def test_parameters_are_read_from_the_parameters_cell(probe: Path) -> None:
    assert runner.notebook_parameters(probe) == {"seed": 0, "n": 3, "rate": 0.5, "label": "a"}


def test_parameters_cell_must_hold_scalars(tmp_path: Path) -> None:
    bad = tmp_path / "97_bad.py"
    bad.write_text(PROBE.replace('label = "a"', "label = [1, 2]"))
    with pytest.raises(ValueError, match="must be a scalar"):
        runner.notebook_parameters(bad)


def test_unknown_parameter_lists_the_notebooks_parameters(probe: Path, tmp_path: Path) -> None:
    with pytest.raises(runner.UnknownParameterError) as err:
        runner.run_notebook(
            probe, profile="smoke", overrides={"nn": 4}, output=tmp_path / "o.ipynb"
        )
    msg = str(err.value)
    assert "nn" in msg and "seed = 0" in msg and "rate = 0.5" in msg
    assert not (tmp_path / "o.ipynb").exists()


def test_override_types_are_checked(probe: Path, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="expects an integer"):
        runner.run_notebook(probe, overrides={"n": "many"}, output=tmp_path / "o.ipynb")


def test_cli_values_follow_yaml_rules() -> None:
    assert runner.parse_cli_value("1e-3") == pytest.approx(1e-3)
    assert runner.parse_cli_value("7") == 7
    assert runner.parse_cli_value("true") is True
    assert runner.parse_cli_value("cox") == "cox"


def test_every_book_notebook_has_a_valid_parameters_cell_and_profiles() -> None:
    notebooks = runner.list_notebooks()
    assert notebooks, "no notebooks found"
    for path in notebooks:
        nb = runner.read_notebook(path)
        for profile in runner.PROFILES:
            runner.resolve_parameters(nb, path.stem, profile, None)  # raises on unknown names
