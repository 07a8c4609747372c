"""Fixtures of the fetch tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory, selected through SURVLIB_DATA_DIR."""
    path = tmp_path / "cache"
    monkeypatch.setenv("SURVLIB_DATA_DIR", str(path))
    return path
