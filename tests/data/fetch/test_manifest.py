"""The data manifest (survlib.data.fetch.manifest): parsing, validation, the book's table, and
the truth of the repository's manifest (every ``used_by`` names a chapter that uses the entry)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest

from survlib.data.fetch import (
    ManifestError,
    describe,
    load_manifest,
)
from tests.data.fetch._helpers import (
    CONTENT,
    NOTEBOOK_STEMS,
    REPO,
    REPO_MANIFEST,
    entry,
    sha256,
    write_manifest,
)

# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------


def test_repo_manifest_parses_and_every_entry_is_valid() -> None:
    entries = load_manifest(REPO_MANIFEST)
    assert entries, "the repository's data_manifest.yaml lists no entries"
    for name, e in entries.items():
        assert e.url.startswith("https://"), name
        assert e.description, f"{name}: describe what the file is"
        assert e.used_by and set(e.used_by) <= NOTEBOOK_STEMS, name
        assert e.offline_alternative, f"{name}: say what to use without network"
        assert e.filename, name
    # The SurvPath signatures are pinned to a commit and a known SHA256.
    combine = entries["survpath_combine_signatures"]
    assert combine.filename == "combine_signatures.csv"
    assert combine.hash == (
        "sha256:e326b41ae574ec0ea6f3a4f380ce54090e5b6041111f7cc325392d32616074b4"
    )
    assert "3f73ddd6705ec67d643020c5bb04fb13f9f382cc" in combine.url
    # The SurvPGC tables are pinned to the authors' commit, with hashes and exact sizes.
    for cohort in ("lihc", "brca", "coadread"):
        for kind in (
            "metadata",
            "clinical",
            *(f"splits_{k}" for k in range(5)),
            *(f"prompt_{n}" for n in (1, 3, 5, 10, 20)),
        ):
            e = entries[f"survpgc_{cohort}_{kind}"]
            assert "Houjiaxin123/SurvPGC/dc467984c0a59216c7266246612523c176dd9730/" in e.url
            assert e.hash is not None and e.size.endswith(" bytes"), e.name


def test_describe_lists_entries(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml", {"a": entry("https://example.org/a.csv", sha256(CONTENT))}
    )
    table = describe(manifest)
    assert list(table.columns[:4]) == ["name", "size", "licence", "used_by"]
    assert table.loc[0, "name"] == "a" and table.loc[0, "used_by"] == "05_survpgc"
    assert len(describe(REPO_MANIFEST)) == len(load_manifest(REPO_MANIFEST))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hash": "sha256:1234"}, "entry 'bad': field 'hash'"),
        ({"hash": "sha1:" + "a" * 40}, "field 'hash'"),
        ({"used_by": "05_survpgc"}, "field 'used_by'"),
        ({"used_by": ["notebooks/05_survpgc.py"]}, "field 'used_by'"),
        ({"url": "file:///etc/passwd"}, "field 'url'"),
        ({"size": "big"}, "field 'size'"),
        ({"licence": ""}, "field 'licence'"),
        ({"licence": None, "citation": None}, "field 'citation'"),
        ({"md5": "abc"}, "unknown field 'md5'"),
    ],
)
def test_malformed_entry_is_a_clear_error(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    body = entry("https://example.org/a.csv")
    body.update(change)
    manifest = write_manifest(
        tmp_path / "m.yaml", {"good": entry("https://x.org/g.csv"), "bad": body}
    )
    with pytest.raises(ManifestError, match=message) as info:
        load_manifest(manifest)
    assert str(manifest) in str(info.value)
    assert "'good'" not in str(info.value)


def test_missing_fields_are_all_reported(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", {"bare": {"url": "https://example.org/a.csv"}})
    with pytest.raises(ManifestError) as info:
        load_manifest(manifest)
    for field in ("hash", "size", "licence", "citation", "used_by"):
        assert f"entry 'bare': missing required field '{field}'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [unclosed\n", "not valid YAML"),
        ("- a\n- b\n", "top level must map entry names"),
        ("a: 3\n", "entry 'a': expected a mapping"),
        ("a: {url: https://x.org/a}\na: {url: https://x.org/b}\n", "duplicate key 'a'"),
        ("'bad name': {}\n", "entry name"),
    ],
)
def test_malformed_manifest_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        load_manifest(manifest)


def test_missing_manifest_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_manifest(tmp_path / "nope.yaml")


# ------------------------------------------------------------------------ manifest truth


def _patterns(source: str) -> set[str]:
    """Quoted string literals of a notebook source (entry names or fnmatch patterns)."""
    return set(re.findall(r"""["']([A-Za-z0-9_.*?\[\]-]+)["']""", source))


def test_every_used_by_is_true() -> None:
    """Each chapter named in an entry's used_by names the entry (or a pattern matching it)."""
    entries = load_manifest(REPO / "data_manifest.yaml")
    sources: dict[str, set[str]] = {}
    for name, item in entries.items():
        for stem in item.used_by:
            path = REPO / "notebooks" / f"{stem}.py"
            assert path.is_file(), f"{name}: used_by names {stem}, which has no notebook"
            if stem not in sources:
                sources[stem] = _patterns(path.read_text(encoding="utf-8"))
            assert any(fnmatch.fnmatchcase(name, p) for p in sources[stem]), (
                f"entry {name!r} lists {stem} in used_by, but notebooks/{stem}.py never names it"
            )
