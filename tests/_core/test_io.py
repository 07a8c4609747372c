"""Atomic writes (survlib._core.io): a file is either the old one or the complete new one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survlib._core.io import atomic_write, atomic_write_json, atomic_write_text


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


# --------------------------------------------------------------------------------------------
# survlib._core.io
# --------------------------------------------------------------------------------------------


def test_atomic_write_replaces_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"
    assert files_under(tmp_path) == [target]


def test_atomic_write_exception_keeps_old_file_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target, mode="w") as fh:
            fh.write("half-written")
            raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert files_under(tmp_path) == [target]


def test_atomic_write_exception_creates_nothing_when_no_old_file(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / "new.bin") as fh:
            fh.write(b"x")
            raise KeyboardInterrupt
    assert files_under(tmp_path) == []


def test_atomic_write_text_and_json(tmp_path: Path) -> None:
    text_path = atomic_write_text(tmp_path / "a.txt", "héllo\n")
    assert text_path.read_text(encoding="utf-8") == "héllo\n"
    json_path = atomic_write_json(tmp_path / "a.json", {"b": 1, "a": [1.5, None]})
    assert json.loads(json_path.read_text(encoding="utf-8")) == {"a": [1.5, None], "b": 1}
    # Unserialisable objects fail before the file is touched.
    with pytest.raises(TypeError):
        atomic_write_json(json_path, {"x": object()})
    with pytest.raises(ValueError):
        atomic_write_json(json_path, {"x": float("nan")})
    assert json.loads(json_path.read_text(encoding="utf-8")) == {"a": [1.5, None], "b": 1}
    assert sorted(p.name for p in files_under(tmp_path)) == ["a.json", "a.txt"]


def test_atomic_write_rejects_bad_mode_and_exclusive_mode_refuses_existing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "x", mode="ab"):
            pass
    target = tmp_path / "x"
    target.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        with atomic_write(target, mode="xb") as fh:
            fh.write(b"other")
    assert target.read_bytes() == b"keep"
    assert files_under(tmp_path) == [target]
