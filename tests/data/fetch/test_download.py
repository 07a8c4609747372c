"""Downloads of survlib.data.fetch (survlib.data.fetch.download): verification, pinning,
re-download, offline errors.

Downloads go to a real HTTP server on 127.0.0.1 (``http_server`` in tests/conftest.py); the cache
is redirected into tmp_path with SURVLIB_DATA_DIR. Tests against the real URLs are marked
``network`` and skipped unless SURVLIB_NETWORK_TESTS=1.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from survlib.data.fetch import (
    LOCK_FILE_NAME,
    DataIntegrityError,
    DataUnavailableError,
    fetch,
)
from tests.data.fetch._helpers import (
    CONTENT,
    REPO_MANIFEST,
    entry,
    files_under,
    sha256,
    write_manifest,
)

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
