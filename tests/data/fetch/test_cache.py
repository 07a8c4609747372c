"""The download cache folder (survlib.data.fetch.cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from survlib.data.fetch import (
    LOCK_FILE_NAME,
    cache_dir,
    lock_path,
)

# --------------------------------------------------------------------------------------------
# Cache location
# --------------------------------------------------------------------------------------------


def test_cache_dir_from_environment_or_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.setenv("SURVLIB_DATA_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    assert lock_path() == tmp_path / "c" / LOCK_FILE_NAME
    monkeypatch.delenv("SURVLIB_DATA_DIR")
    assert cache_dir() == platformdirs.user_cache_path("survlib")
