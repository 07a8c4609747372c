"""Offline import, ``survlib fetch --import DIR`` (survlib.data.fetch.offline.import_files)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from survlib.cli import main
from survlib.data.fetch import cached_path, fetch, import_files, load_manifest
from tests.data.fetch._helpers import REPO, SHARED_DATA


def _entry(url: str, content: bytes | None) -> dict[str, Any]:
    return {
        "url": url,
        "hash": None if content is None else "sha256:" + hashlib.sha256(content).hexdigest(),
        "size": len(content or b""),
        "licence": "CC0 (test fixture)",
        "citation": "Test fixture",
        "used_by": ["05_survpgc"],
    }


A = b"case_id,survival_months\nTCGA-01,3.5\n"
B = b"train,val\nTCGA-01,TCGA-02\n"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A small manifest, a cache (SURVLIB_DATA_DIR) and a source folder in the authors' layout."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SURVLIB_DATA_DIR", str(cache))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "meta": _entry(
                    "https://example.org/repo/c0ffee/datasets_csv/metadata/tcga_x.csv", A
                ),
                "split": _entry("https://example.org/repo/c0ffee/splits/tcga_x/splits_0.csv", B),
                "same_split": _entry("https://example.org/other/splits_0.csv", B),
                "unpinned": _entry("https://example.org/repo/c0ffee/nohash.csv", None),
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    src = tmp_path / "src"
    (src / "datasets_csv" / "metadata").mkdir(parents=True)
    (src / "splits" / "tcga_x").mkdir(parents=True)
    (src / "datasets_csv" / "metadata" / "tcga_x.csv").write_bytes(A)
    (src / "splits" / "tcga_x" / "splits_0.csv").write_bytes(B)
    (src / "README.md").write_bytes(b"not data")
    return manifest, cache, src


def test_import_copies_files_matched_by_content(setup: tuple[Path, Path, Path]) -> None:
    manifest, cache, src = setup
    report = import_files(src, manifest)
    assert report.ok
    assert sorted(n for n, _ in report.imported) == ["meta", "same_split", "split"]
    assert (cache / "meta" / "tcga_x.csv").read_bytes() == A
    assert (cache / "same_split" / "splits_0.csv").read_bytes() == B  # same bytes, two entries
    assert report.unknown == [src / "README.md"]
    # no temporary files are left in the cache
    assert not [p for p in cache.rglob("*") if p.name.startswith(".")]
    # fetch now serves the imported copy without any network
    assert fetch("meta", manifest=manifest, progress=False) == cache / "meta" / "tcga_x.csv"
    assert cached_path("split", manifest) == cache / "split" / "splits_0.csv"
    assert cached_path("unpinned", manifest) is None
    again = import_files(src, manifest)
    assert not again.imported and len(again.unchanged) == 3


def test_import_matches_content_not_name(setup: tuple[Path, Path, Path], tmp_path: Path) -> None:
    manifest, cache, _ = setup
    other = tmp_path / "renamed"
    other.mkdir()
    (other / "whatever.bin").write_bytes(A)
    report = import_files(other, manifest)
    assert [n for n, _ in report.imported] == ["meta"]
    assert (cache / "meta" / "tcga_x.csv").read_bytes() == A


def test_import_refuses_mismatching_file_and_copies_nothing_of_it(
    setup: tuple[Path, Path, Path],
) -> None:
    manifest, cache, src = setup
    (src / "datasets_csv" / "metadata" / "tcga_x.csv").write_bytes(A + b"TCGA-02,9\n")
    report = import_files(src, manifest)
    assert not report.ok
    assert report.mismatched == [(src / "datasets_csv" / "metadata" / "tcga_x.csv", ("meta",))]
    assert not (cache / "meta").exists()
    assert cached_path("meta", manifest) is None
    assert "refused (hash differs from entry meta)" in report.summary()


def test_interrupted_copy_leaves_no_partial_file(
    setup: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    manifest, cache, src = setup

    def boom(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        import_files(src, manifest)
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_import_cli(setup: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    manifest, cache, src = setup
    assert main(["fetch", "--import", str(src), "--manifest", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert "imported 3 file(s)" in out and "README.md" in out
    assert main(["fetch", "--import", str(src / "nope"), "--manifest", str(manifest)]) == 2
    assert "directory=" in capsys.readouterr().err
    (src / "splits" / "tcga_x" / "splits_0.csv").write_bytes(b"corrupt")
    (cache / "split" / "splits_0.csv").unlink()
    assert main(["fetch", "--import", str(src), "--manifest", str(manifest)]) == 1


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs the team's ../shared/data")
def test_shared_data_imports_every_manifest_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVLIB_DATA_DIR", str(tmp_path))
    report = import_files(SHARED_DATA)
    assert report.ok, report.summary()
    entries = load_manifest(REPO / "data_manifest.yaml")
    assert {n for n, _ in report.imported} == set(entries)
