"""The prompt templates (survlib.text.templates), read from the package data file templates.yaml."""

from __future__ import annotations

from pathlib import Path

from survlib.text import (
    GDC_FIELDS,
    TEMPLATES,
)


def test_every_paper_field_has_twenty_distinct_templates() -> None:
    for f in GDC_FIELDS:
        templates = TEMPLATES[f]
        assert len(templates) >= 20 and len(set(templates)) == len(templates)
        assert all(t.count("{value}") == 1 for t in templates)
    assert TEMPLATES["age"][0] == "The age is {value} years old."  # the paper's example


def test_templates_come_from_the_package_data_file() -> None:
    """TEMPLATES and FIELD_LABELS are the YAML file's content, and pyproject.toml ships the file
    with the package (a non-editable install has it too)."""
    import tomllib
    from importlib.resources import files

    import yaml

    from survlib.text import FIELD_LABELS
    from survlib.text.templates import TEMPLATES_FILE, load_templates

    data = yaml.safe_load(files("survlib.text").joinpath(TEMPLATES_FILE).read_text("utf-8"))
    assert {k: tuple(v) for k, v in data["templates"].items()} == TEMPLATES
    assert data["field_labels"] == FIELD_LABELS
    assert all(isinstance(v, tuple) for v in TEMPLATES.values())
    assert load_templates() == (FIELD_LABELS, TEMPLATES)
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    package_data = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    assert TEMPLATES_FILE in package_data["survlib.text"]
