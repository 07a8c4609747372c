"""Fixtures of the runner tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runner._probe import PROBE


@pytest.fixture()
def probe(tmp_path: Path) -> Path:
    path = tmp_path / "98_probe.py"
    path.write_text(PROBE)
    return path
