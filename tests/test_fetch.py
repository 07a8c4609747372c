"""Tests for survlib._core.io (atomic writes) and survlib.data.fetch (manifest + pooch downloads).

Downloads go to a real HTTP server on 127.0.0.1 (``http_server`` in conftest.py); the cache is
redirected into tmp_path with SURVLIB_DATA_DIR. Tests against the real URLs are marked
``network`` and skipped unless SURVLIB_NETWORK_TESTS=1.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from survlib.data.fetch import (
    LOCK_FILE_NAME,
    DataIntegrityError,
    DataUnavailableError,
    ManifestError,
    cache_dir,
    describe,
    fetch,
    load_manifest,
    lock_path,
)
from survlib._core.io import atomic_write, atomic_write_json, atomic_write_text

REPO_MANIFEST = Path(__file__).resolve().parents[1] / "data_manifest.yaml"
NOTEBOOK_STEMS = {
    "01_survival_primer",
    "02_scsurvival",
    "03_scsurvival_scaling",
    "04_slide_to_bag",
    "05_survpgc",
    "06_amkd",
}
CONTENT = b"pathway,gene\nHALLMARK_HYPOXIA,VEGFA\nHALLMARK_HYPOXIA,PGK1\n"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry(url: str, hash_: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": url,
        "hash": hash_,
        "size": "1 KB",
        "licence": "CC0 (test fixture)",
        "citation": "Test fixture",
        "used_by": ["05_survpgc"],
        "description": "A small CSV served by the test HTTP server",
        "offline_alternative": "survlib.data.simulate_multimodal_cohort",
    }
    body.update(overrides)
    return body


def write_manifest(path: Path, entries: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    return path


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory, selected through SURVLIB_DATA_DIR."""
    path = tmp_path / "cache"
    monkeypatch.setenv("SURVLIB_DATA_DIR", str(path))
    return path


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
        "sha256:e326b41ae574ec0ea6f3a4f380ce54090e5b6041111f7cc325392d32616074b4")
    assert "3f73ddd6705ec67d643020c5bb04fb13f9f382cc" in combine.url
    # The SurvPGC tables are pinned to the authors' commit, with hashes and exact sizes.
    for cohort in ("lihc", "brca", "coadread"):
        for kind in ("metadata", "clinical", *(f"splits_{k}" for k in range(5)),
                     *(f"prompt_{n}" for n in (1, 3, 5, 10, 20))):
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


# --------------------------------------------------------------------------------------------
# fetch against a local HTTP server
# --------------------------------------------------------------------------------------------


def test_unknown_name_lists_available(tmp_path: Path, data_dir: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml",
        {"alpha": entry("https://x.org/a.csv"), "beta": entry("https://x.org/b.csv")},
    )
    with pytest.raises(KeyError, match="'gamma'.*Available: alpha, beta"):
        fetch("gamma", manifest=manifest, progress=False)


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_correct_hash_downloads_once_then_uses_cache(
    tmp_path: Path, data_dir: Path, http_server: Any, algorithm: str
) -> None:
    url = http_server.serve("signatures.csv", CONTENT)
    digest = f"{algorithm}:" + hashlib.new(algorithm, CONTENT).hexdigest()
    manifest = write_manifest(tmp_path / "m.yaml", {"sig": entry(url, digest)})

    path = fetch("sig", manifest=manifest, progress=False)
    assert path == data_dir / "sig" / "signatures.csv"
    assert path.read_bytes() == CONTENT
    assert http_server.hits("signatures.csv") == 1

    assert fetch("sig", manifest=manifest, progress=False) == path
    assert http_server.hits("signatures.csv") == 1, "a verified cached file is not fetched again"
    assert files_under(data_dir) == [path]  # declared hash: no lock file needed


def test_progress_bar_download(tmp_path: Path, data_dir: Path, http_server: Any) -> None:
    url = http_server.serve("signatures.csv", CONTENT)
    manifest = write_manifest(tmp_path / "m.yaml", {"sig": entry(url, sha256(CONTENT))})
    assert fetch("sig", manifest=manifest, progress=True).read_bytes() == CONTENT


def test_xena_style_encoded_url_gets_a_readable_file_name(
    tmp_path: Path, data_dir: Path, http_server: Any
) -> None:
    http_server.serve("survival/LIHC_survival.txt", b"sample\tOS\tOS.time\n")
    url = http_server.url("survival%2FLIHC_survival.txt")
    manifest = write_manifest(tmp_path / "m.yaml", {"tcga_lihc_survival": entry(url)})
    path = fetch("tcga_lihc_survival", manifest=manifest, progress=False)
    assert path == data_dir / "tcga_lihc_survival" / "LIHC_survival.txt"


def test_wrong_hash_raises_and_leaves_no_file(
    tmp_path: Path, data_dir: Path, http_server: Any
) -> None:
    url = http_server.serve("signatures.csv", CONTENT)
    manifest = write_manifest(tmp_path / "m.yaml", {"sig": entry(url, sha256(b"other bytes"))})
    with pytest.raises(DataIntegrityError, match="'sig'.*declared in the manifest") as info:
        fetch("sig", manifest=manifest, progress=False)
    assert sha256(CONTENT).split(":")[1] in str(info.value)  # the hash actually received
    assert http_server.hits("signatures.csv") == 1
    assert files_under(data_dir) == [], "a download with the wrong hash must not stay in the cache"
    assert not (data_dir / "sig").exists()


def test_null_hash_is_pinned_then_a_changed_source_is_an_error(
    tmp_path: Path, data_dir: Path, http_server: Any
) -> None:
    url = http_server.serve("survival.txt", CONTENT)
    manifest = write_manifest(tmp_path / "m.yaml", {"surv": entry(url, None)})

    path = fetch("surv", manifest=manifest, progress=False)
    lock = json.loads((data_dir / LOCK_FILE_NAME).read_text(encoding="utf-8"))
    assert lock["entries"]["surv"]["hash"] == sha256(CONTENT)
    assert lock["entries"]["surv"]["url"] == url
    assert fetch("surv", manifest=manifest, progress=False) == path
    assert http_server.hits("survival.txt") == 1

    # The source changes; the cached copy is cleared: the re-download must match the pin.
    http_server.serve("survival.txt", CONTENT + b"HALLMARK_HYPOXIA,ENO1\n")
    path.unlink()
    with pytest.raises(DataIntegrityError) as info:
        fetch("surv", manifest=manifest, progress=False)
    message = str(info.value)
    assert "'surv'" in message and "source has changed" in message
    assert "delete the entry 'surv'" in message and LOCK_FILE_NAME in message
    assert http_server.hits("survival.txt") == 2
    assert files_under(data_dir) == [data_dir / LOCK_FILE_NAME]
    assert json.loads((data_dir / LOCK_FILE_NAME).read_text())["entries"]["surv"]["hash"] == sha256(
        CONTENT
    )

    # Following the message (delete the lock entry) accepts and pins the new version.
    lock_file = data_dir / LOCK_FILE_NAME
    data = json.loads(lock_file.read_text())
    del data["entries"]["surv"]
    lock_file.write_text(json.dumps(data))
    new = fetch("surv", manifest=manifest, progress=False)
    assert new.read_bytes().endswith(b"ENO1\n")
    assert json.loads(lock_file.read_text())["entries"]["surv"]["hash"] == sha256(new.read_bytes())


def test_tampered_cache_with_declared_hash_is_detected_and_repaired(
    tmp_path: Path, data_dir: Path, http_server: Any
) -> None:
    url = http_server.serve("signatures.csv", CONTENT)
    manifest = write_manifest(tmp_path / "m.yaml", {"sig": entry(url, sha256(CONTENT))})
    path = fetch("sig", manifest=manifest, progress=False)
    path.write_bytes(CONTENT[:10])  # truncated / edited cached copy
    with pytest.warns(UserWarning, match="'sig'.*no longer matches its declared hash"):
        again = fetch("sig", manifest=manifest, progress=False)
    assert again.read_bytes() == CONTENT
    assert http_server.hits("signatures.csv") == 2


def test_tampered_cache_with_pinned_hash_and_changed_source_errors(
    tmp_path: Path, data_dir: Path, http_server: Any
) -> None:
    url = http_server.serve("survival.txt", CONTENT)
    manifest = write_manifest(tmp_path / "m.yaml", {"surv": entry(url, None)})
    path = fetch("surv", manifest=manifest, progress=False)
    path.write_bytes(b"edited locally")
    http_server.serve("survival.txt", b"changed upstream")
    with pytest.warns(UserWarning, match="pinned hash"):
        with pytest.raises(DataIntegrityError, match="source has changed"):
            fetch("surv", manifest=manifest, progress=False)
    assert files_under(data_dir) == [data_dir / LOCK_FILE_NAME]


def test_pin_follows_the_url(tmp_path: Path, data_dir: Path, http_server: Any) -> None:
    """Pointing an entry at a new URL pins the new source; the old cached copy is not reused."""
    url_a = http_server.serve("v1/data.txt", b"version 1")
    url_b = http_server.serve("v2/data.txt", b"version 2")
    manifest_a = write_manifest(tmp_path / "a.yaml", {"surv": entry(url_a)})
    manifest_b = write_manifest(tmp_path / "b.yaml", {"surv": entry(url_b)})
    assert fetch("surv", manifest=manifest_a, progress=False).read_bytes() == b"version 1"
    path = fetch("surv", manifest=manifest_b, progress=False)
    assert path.read_bytes() == b"version 2"
    record = json.loads((data_dir / LOCK_FILE_NAME).read_text())["entries"]["surv"]
    assert (record["url"], record["hash"]) == (url_b, sha256(b"version 2"))


def test_corrupt_lock_file_is_a_clear_error(
    tmp_path: Path, data_dir: Path, http_server: Any
) -> None:
    url = http_server.serve("survival.txt", CONTENT)
    manifest = write_manifest(tmp_path / "m.yaml", {"surv": entry(url, None)})
    data_dir.mkdir()
    (data_dir / LOCK_FILE_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataIntegrityError, match="lock file .* unreadable"):
        fetch("surv", manifest=manifest, progress=False)


def test_unreachable_server_names_entry_url_and_offline_alternative(
    tmp_path: Path, data_dir: Path, closed_port_url: str
) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", {"tcga_lihc_survival": entry(closed_port_url)})
    with pytest.raises(DataUnavailableError) as info:
        fetch("tcga_lihc_survival", manifest=manifest, progress=False)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "'tcga_lihc_survival'" in message
    assert closed_port_url in message
    assert "could not be reached" in message
    assert "survlib.data.simulate_multimodal_cohort" in message
    assert files_under(data_dir) == []


def test_http_error_is_data_unavailable(tmp_path: Path, data_dir: Path, http_server: Any) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", {"gone": entry(http_server.url("missing.csv"))})
    with pytest.raises(DataUnavailableError, match="'gone'.*HTTP 404"):
        fetch("gone", manifest=manifest, progress=False)
    assert files_under(data_dir) == []


# --------------------------------------------------------------------------------------------
# The real sources (opt-in)
# --------------------------------------------------------------------------------------------

needs_network = pytest.mark.skipif(
    os.environ.get("SURVLIB_NETWORK_TESTS") != "1",
    reason="needs the internet; set SURVLIB_NETWORK_TESTS=1 to run",
)


@pytest.mark.network
@needs_network
@pytest.mark.parametrize("name", ["survpath_combine_signatures"])
def test_real_survpath_signatures_download_and_verify(name: str, data_dir: Path) -> None:
    path = fetch(name, manifest=REPO_MANIFEST, progress=False)  # sha256 verified by fetch
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert len(header) >= 50 and all(header), "one column per pathway"


@pytest.mark.network
@needs_network
def test_real_survpgc_metadata_downloads_and_verifies(data_dir: Path) -> None:
    path = fetch("survpgc_lihc_metadata", manifest=REPO_MANIFEST, progress=False)
    assert "survival_months" in path.read_text(encoding="utf-8").splitlines()[0]
