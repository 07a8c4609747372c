"""The download cache: its folder, the lock file of hashes pinned on first download, and
verified cached copies (:func:`cached_path`)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path

from survlib._core.io import atomic_write_json
from survlib.data.fetch.errors import DataIntegrityError
from survlib.data.fetch.manifest import _HASH_RE, ManifestEntry, _get_entry

__all__ = ["DATA_DIR_ENV", "LOCK_FILE_NAME", "cache_dir", "cached_path", "lock_path"]

#: Environment variable that overrides the cache directory.
DATA_DIR_ENV = "SURVLIB_DATA_DIR"
#: Name of the lock file (inside the cache directory) that holds hashes pinned on first download.
LOCK_FILE_NAME = "survlib-data.lock.json"
_LOCK_VERSION = 1

# Files are hashed, copied and downloaded in large chunks (multi-GB files).
_CHUNK_SIZE = 1024 * 1024


def cache_dir() -> Path:
    """The download cache: ``$SURVLIB_DATA_DIR`` if set and non-empty, else the user cache dir.

    The directory is not created here; :func:`fetch` creates it when it downloads.
    """
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("survlib")


def lock_path() -> Path:
    """The lock file holding hashes pinned on first download (inside :func:`cache_dir`)."""
    return cache_dir() / LOCK_FILE_NAME


def _read_lock(path: Path) -> dict[str, dict[str, str]]:
    """Read the pinned hashes ``{entry name: {"url", "hash", "pinned_at"}}`` (empty if no file)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["entries"]
        if not isinstance(entries, dict):
            raise TypeError("'entries' is not an object")
        for key, record in entries.items():
            if not isinstance(record, dict) or not isinstance(record.get("url"), str):
                raise TypeError(f"entry {key!r} lacks a 'url'")
            if not _HASH_RE.match(str(record.get("hash"))):
                raise TypeError(f"entry {key!r} has an invalid 'hash' {record.get('hash')!r}")
    except (ValueError, KeyError, TypeError) as exc:
        raise DataIntegrityError(
            f"The data lock file {path} is unreadable ({exc}). Fix it or delete it (deleting it "
            "forgets the pinned hashes: the next downloads are pinned again)."
        ) from exc
    return entries


def _pin(path: Path, entry: ManifestEntry, sha256: str) -> None:
    """Record ``sha256`` for ``entry`` in the lock file (read-modify-write, atomic replace)."""
    entries = _read_lock(path)
    entries[entry.name] = {
        "url": entry.url,
        "hash": f"sha256:{sha256}",
        "pinned_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {"version": _LOCK_VERSION, "entries": entries})


def _file_hash(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def _matches(path: Path, expected: str) -> bool:
    algorithm, _, hexdigest = expected.partition(":")
    return _file_hash(path, algorithm) == hexdigest.lower()


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    try:
        path.parent.rmdir()  # the entry's folder, only if now empty
    except OSError:
        pass


def cached_path(name: str, manifest: str | os.PathLike[str] | None = None) -> Path | None:
    """The cached file of entry ``name`` if it is present and matches its hash, else ``None``.

    Never downloads. An entry with ``hash: null`` counts as present when its pinned hash (lock
    file) matches. Raises ``KeyError`` for an unknown name.
    """
    entry = _get_entry(name, manifest)
    target = cache_dir() / entry.name / entry.filename
    if not target.is_file():
        return None
    expected = entry.hash
    if expected is None:
        record = _read_lock(lock_path()).get(entry.name)
        if record is None or record.get("url") != entry.url:
            return None
        expected = record["hash"]
    return target if _matches(target, expected) else None
