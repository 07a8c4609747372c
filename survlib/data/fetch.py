"""Fetch external data files listed in ``data_manifest.yaml`` (pooch underneath).

Each external file is described once in the manifest (see the header of the repository's
``data_manifest.yaml``). :func:`fetch` downloads it into a local cache, verifies it, and returns
its path::

    from survlib.data.fetch import fetch
    path = fetch("survpath_hallmarks_signatures")

Cache
    ``$SURVLIB_DATA_DIR`` if set, else the user cache directory for ``survlib``
    (``platformdirs.user_cache_path("survlib")``, e.g. ``~/.cache/survlib`` on Linux). Each entry
    lives in its own folder, ``<cache>/<entry name>/<file name from the URL>``.

Integrity
    * ``hash: sha256:<hex>`` or ``md5:<hex>`` in the manifest: pooch checks the download against
      it; a mismatch raises :class:`DataIntegrityError` and nothing is kept in the cache.
    * ``hash: null`` (the source publishes no checksum): the first download is accepted and its
      SHA256 is *pinned* in the lock file ``<cache>/survlib-data.lock.json`` (written atomically).
      Every later fetch, including a re-download after the cached copy was deleted, must match the
      pin; a mismatch means the source changed and raises :class:`DataIntegrityError`, which says
      how to accept the new version (delete the entry from the lock file).
    * A cached file is re-hashed on every fetch. If it no longer matches (edited, truncated), a
      warning is issued and it is downloaded again, and the new download is verified. A cached
      file with no pin for its URL (lock entry deleted, URL changed) is downloaded again and the
      fresh download is pinned.

Offline import
    :func:`import_files` (``survlib fetch --import DIR``) brings local copies into the cache on a
    machine without network: every file under ``DIR`` is hashed and matched to the entries *by
    content* (its SHA256 or MD5 equals an entry's declared hash); a match is copied into the
    cache through a temporary file in the entry's folder and ``os.replace``, so a cache file is
    either absent or complete and verified. A file whose hash matches no entry is refused; a
    file that sits at an entry's path (its path under ``DIR`` ends the entry's URL) but whose
    hash differs is refused as corrupt. Entries with ``hash: null`` cannot be imported (there is
    nothing to verify a copy against).

Offline
    Connection failures (no network, DNS failure, refused connection, time-out) and HTTP errors
    raise :class:`DataUnavailableError` naming the entry, its URL and the offline alternative
    recorded in the manifest. The book never depends on these files.
"""

from __future__ import annotations

import datetime as _dt
import ftplib
import hashlib
import json
import os
import re
import socket
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import yaml

from survlib._core.io import atomic_write_json

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DataIntegrityError",
    "DataUnavailableError",
    "LOCK_FILE_NAME",
    "ImportReport",
    "ManifestEntry",
    "ManifestError",
    "cache_dir",
    "cached_path",
    "describe",
    "fetch",
    "import_files",
    "load_manifest",
    "lock_path",
]

#: Environment variable that overrides the cache directory.
DATA_DIR_ENV = "SURVLIB_DATA_DIR"
#: Name of the lock file (inside the cache directory) that holds hashes pinned on first download.
LOCK_FILE_NAME = "survlib-data.lock.json"
_LOCK_VERSION = 1

_HASH_RE = re.compile(r"^(?:sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_STEM_RE = re.compile(r"^\d{2}_[A-Za-z0-9_]+$")
_SIZE_RE = re.compile(
    r"^(?:~|about\s+)?\d+(?:\.\d+)?\s*(?:B|bytes|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\b.*$|^unknown\b.*$",
    re.IGNORECASE,
)
_URL_SCHEMES = ("http", "https", "ftp")

_REQUIRED_FIELDS = ("url", "hash", "size", "licence", "citation", "used_by")
_OPTIONAL_FIELDS = ("description", "offline_alternative")

# Download tuning: large chunks for multi-GB files; (connect, read) time-outs in seconds.
_CHUNK_SIZE = 1024 * 1024
_TIMEOUT = (15, 120)


class ManifestError(ValueError):
    """The data manifest is malformed; the message names the file, the entry and the field."""


class DataUnavailableError(RuntimeError):
    """A file could not be downloaded (no network, server unreachable, HTTP error)."""


class DataIntegrityError(ValueError):
    """A downloaded or cached file does not match its declared or pinned hash."""


@dataclass(frozen=True)
class ManifestEntry:
    """One external file described in ``data_manifest.yaml``.

    Attributes:
        name: the key of the entry in the manifest (used as ``fetch(name)``).
        url: where the file is downloaded from (http, https or ftp).
        hash: ``"sha256:<64 hex>"``, ``"md5:<32 hex>"``, or ``None`` when the source publishes no
            checksum (then the first download is pinned in the lock file).
        size: human-readable size, e.g. ``"46 KB"`` or ``"~40 MB (approximate)"``, or a number of
            bytes. Informational only; never checked.
        licence: licence or terms of use of the file.
        citation: what to cite when using it.
        used_by: notebook stems (e.g. ``"05_survpgc"``) that can use the file.
        description: what the file is.
        offline_alternative: what to use without network (a simulator or bundled dataset).
    """

    name: str
    url: str
    hash: str | None
    size: str
    licence: str
    citation: str
    used_by: tuple[str, ...]
    description: str | None = None
    offline_alternative: str | None = None

    @property
    def filename(self) -> str:
        """The file name taken from the URL's last path component (percent-decoded)."""
        return _url_filename(self.url)


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _default_manifest_path() -> Path:
    from survlib._core.paths import default_manifest

    return default_manifest()


def _url_filename(url: str) -> str:
    """Last path component of a URL, percent-decoded (Xena encodes '/' in names as %2F)."""
    path = unquote(urlsplit(url).path)
    return path.rstrip("/").rsplit("/", 1)[-1]


def _validate_entry(name: Any, raw: Any) -> tuple[ManifestEntry | None, list[str]]:
    """Check one manifest entry; return the entry (or None) and a list of problems."""
    problems: list[str] = []
    where = f"entry {name!r}"
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append(
            f"{where}: the entry name must be a string of letters, digits, '_', '.' or '-' "
            "(it names the cache folder)"
        )
        return None, problems
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping of fields, got {type(raw).__name__}")
        return None, problems

    missing = [f for f in _REQUIRED_FIELDS if f not in raw]
    unknown = sorted(str(f) for f in raw if f not in _REQUIRED_FIELDS + _OPTIONAL_FIELDS)
    for field in missing:
        problems.append(f"{where}: missing required field {field!r}")
    for field in unknown:
        problems.append(
            f"{where}: unknown field {field!r} (allowed: "
            f"{', '.join(_REQUIRED_FIELDS + _OPTIONAL_FIELDS)})"
        )

    def text(field: str, optional: bool = False) -> str | None:
        value = raw.get(field)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            if field in raw:
                problems.append(
                    f"{where}: field {field!r} must be a non-empty string, got {value!r}"
                )
            return None
        return value.strip()

    url = text("url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in _URL_SCHEMES or not parts.netloc:
            problems.append(f"{where}: field 'url' must be an http(s) or ftp URL, got {url!r}")
        elif _url_filename(url) in ("", ".", ".."):
            problems.append(f"{where}: field 'url' must end with a file name, got {url!r}")

    hash_value = raw.get("hash")
    if "hash" in raw and hash_value is not None:
        if not isinstance(hash_value, str) or not _HASH_RE.match(hash_value):
            problems.append(
                f"{where}: field 'hash' must be 'sha256:<64 lowercase hex>', 'md5:<32 lowercase "
                f"hex>' or null, got {hash_value!r}"
            )
            hash_value = None

    size_value = raw.get("size")
    size: str | None = None
    if "size" in raw:
        if isinstance(size_value, bool) or size_value is None:
            problems.append(f"{where}: field 'size' must be e.g. '12 KB' or a number of bytes")
        elif isinstance(size_value, int):
            if size_value < 0:
                problems.append(f"{where}: field 'size' must not be negative, got {size_value}")
            else:
                size = f"{size_value} bytes"
        elif isinstance(size_value, str) and _SIZE_RE.match(size_value.strip()):
            size = size_value.strip()
        else:
            problems.append(
                f"{where}: field 'size' must look like '12 KB', '~40 MB (approximate)', "
                f"'unknown' or be a number of bytes, got {size_value!r}"
            )

    licence = text("licence")
    citation = text("citation")
    description = text("description", optional=True)
    offline_alternative = text("offline_alternative", optional=True)

    used_by_raw = raw.get("used_by")
    used_by: tuple[str, ...] = ()
    if "used_by" in raw:
        if not isinstance(used_by_raw, list) or not all(isinstance(s, str) for s in used_by_raw):
            problems.append(
                f"{where}: field 'used_by' must be a list of notebook stems such as "
                f"'05_survpgc', got {used_by_raw!r}"
            )
        else:
            bad = [s for s in used_by_raw if not _STEM_RE.match(s)]
            if bad:
                problems.append(
                    f"{where}: field 'used_by' holds {bad!r}; notebook stems look like "
                    "'05_survpgc' (no folder, no .py)"
                )
            used_by = tuple(used_by_raw)

    if problems:
        return None, problems
    assert url is not None and size is not None and licence is not None and citation is not None
    entry = ManifestEntry(
        name=name,
        url=url,
        hash=hash_value,
        size=size,
        licence=licence,
        citation=citation,
        used_by=used_by,
        description=description,
        offline_alternative=offline_alternative,
    )
    return entry, problems


def load_manifest(manifest: str | os.PathLike[str] | None = None) -> dict[str, ManifestEntry]:
    """Read and validate a data manifest.

    Args:
        manifest: path of a YAML manifest; default: the repository's ``data_manifest.yaml``
            (:func:`survlib._core.paths.default_manifest`). The top level maps entry names to entries.

    Returns:
        Entries by name, in file order.

    Raises:
        FileNotFoundError: the manifest does not exist.
        ManifestError: the YAML is invalid, or an entry has a missing, unknown or malformed
            field. All problems are reported at once, each naming its entry and field.
    """
    path = Path(manifest) if manifest is not None else _default_manifest_path()
    if not path.is_file():
        raise FileNotFoundError(f"Data manifest not found: {path}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ManifestError(f"Data manifest {path} is not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ManifestError(
            f"Data manifest {path}: the top level must map entry names to entries, "
            f"got {type(raw).__name__}"
        )
    entries: dict[str, ManifestEntry] = {}
    problems: list[str] = []
    for name, body in raw.items():
        entry, entry_problems = _validate_entry(name, body)
        problems.extend(entry_problems)
        if entry is not None:
            entries[entry.name] = entry
    if problems:
        listing = "\n  - ".join(problems)
        raise ManifestError(f"Data manifest {path} has {len(problems)} problem(s):\n  - {listing}")
    return entries


def describe(manifest: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """A table of the manifest's entries for the book's data page.

    Columns: ``name``, ``size``, ``licence``, ``used_by`` (comma-separated), ``description``,
    ``hash`` (``"declared"`` or ``"pinned on first download"``), ``offline_alternative``,
    ``citation``, ``url``.
    """
    import pandas as pd

    rows = [
        {
            "name": e.name,
            "size": e.size,
            "licence": e.licence,
            "used_by": ", ".join(e.used_by),
            "description": e.description or "",
            "hash": "declared" if e.hash else "pinned on first download",
            "offline_alternative": e.offline_alternative or "",
            "citation": e.citation,
            "url": e.url,
        }
        for e in load_manifest(manifest).values()
    ]
    columns = [
        "name", "size", "licence", "used_by", "description", "hash",
        "offline_alternative", "citation", "url",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------
# Cache and lock file
# --------------------------------------------------------------------------------------------


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
        "pinned_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
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


# --------------------------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------------------------


def _get_entry(name: str, manifest: str | os.PathLike[str] | None) -> ManifestEntry:
    entries = load_manifest(manifest)
    if name not in entries:
        available = ", ".join(sorted(entries)) or "(none)"
        raise KeyError(f"No data entry named {name!r} in the manifest. Available: {available}")
    return entries[name]


def _offline_hint(entry: ManifestEntry) -> str:
    if entry.offline_alternative:
        return f"Without network, use {entry.offline_alternative} instead."
    return "This entry lists no offline alternative."


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    try:
        path.parent.rmdir()  # the entry's folder, only if now empty
    except OSError:
        pass


class _LazyProgress:
    """A ``tqdm.auto`` progress bar that appears only once the server answers.

    pooch's downloaders accept a progress-bar object: they set ``total`` when the response
    arrives, then call ``update``, ``reset`` and ``close``. Creating the bar on ``total`` avoids
    an empty bar when the host cannot be reached.
    """

    def __init__(self, desc: str) -> None:
        self._desc = desc
        self._bar: Any = None

    @property
    def total(self) -> float | None:
        return None if self._bar is None else self._bar.total

    @total.setter
    def total(self, value: float | None) -> None:
        from tqdm.auto import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=value or None, unit="B", unit_scale=True, unit_divisor=1024, desc=self._desc
            )
        else:
            self._bar.total = value

    def update(self, n: float) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def reset(self) -> None:
        if self._bar is not None:
            self._bar.reset()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _make_cache_folder(folder: Path) -> None:
    """Create a cache folder, or say which folder (and variable) cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".survlib-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise DataUnavailableError(
            f"Cannot write the data cache folder {folder} ({exc.strerror or exc}); set "
            f"{DATA_DIR_ENV} to a writable folder"
        ) from exc


def _remove_stale_partials(folder: Path) -> None:
    """Delete pooch's temporary files left by a download that was killed (``tmp*`` in the
    entry's own folder: pooch's ``NamedTemporaryFile`` names) and older than an hour."""
    import time as _time

    for tmp in folder.glob("tmp*"):
        try:
            if tmp.is_file() and _time.time() - tmp.stat().st_mtime > 3600:
                tmp.unlink()
        except OSError:
            pass


def _download(entry: ManifestEntry, target: Path, known_hash: str | None, progress: bool) -> None:
    """Download ``entry`` to ``target`` with pooch, verifying ``known_hash`` when given.

    pooch streams into a temporary file in ``target``'s folder, checks the hash and only then
    moves it into place; on any error the temporary file is deleted. Errors are translated into
    :class:`DataUnavailableError` / :class:`DataIntegrityError` naming the entry.
    """
    import pooch
    import requests

    progressbar: Any = _LazyProgress(entry.name) if progress else False
    downloader: Any
    if urlsplit(entry.url).scheme == "ftp":
        downloader = pooch.FTPDownloader(progressbar=progressbar, chunk_size=_CHUNK_SIZE)
    else:
        downloader = pooch.HTTPDownloader(
            progressbar=progressbar, chunk_size=_CHUNK_SIZE, timeout=_TIMEOUT
        )
    _make_cache_folder(target.parent)
    _remove_stale_partials(target.parent)
    logger = pooch.get_logger()
    log_level = logger.level
    if not progress:
        logger.setLevel("WARNING")  # pooch logs each download at INFO; progress=False is quiet
    from survlib._core.signals import sigterm_raises

    try:
        with sigterm_raises():  # SIGTERM unwinds pooch, which deletes its partial file
            pooch.retrieve(
                url=entry.url,
                known_hash=known_hash,
                fname=target.name,
                path=target.parent,
                downloader=downloader,
            )
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "error"
        raise DataUnavailableError(
            f"Could not download data entry {entry.name!r}: the server answered HTTP {status} "
            f"for {entry.url}. The file may have moved; check the entry in the manifest. "
            f"{_offline_hint(entry)}"
        ) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise DataUnavailableError(
            f"Could not download data entry {entry.name!r} from {entry.url}: the server could not "
            f"be reached (no network, DNS failure, or the host refused the connection). "
            f"{_offline_hint(entry)}"
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise DataUnavailableError(
            f"Could not download data entry {entry.name!r} from {entry.url}: {exc}. "
            f"{_offline_hint(entry)}"
        ) from exc
    except (ftplib.Error, socket.gaierror, ConnectionError, TimeoutError) as exc:
        # FTP URLs go through ftplib, not requests.
        raise DataUnavailableError(
            f"Could not download data entry {entry.name!r} from {entry.url}: {exc}. "
            f"{_offline_hint(entry)}"
        ) from exc
    except ValueError as exc:
        if "hash" not in str(exc):
            raise
        raise DataIntegrityError(str(exc)) from exc
    finally:
        logger.setLevel(log_level)
        if progress:
            progressbar.close()
        try:
            target.parent.rmdir()  # leave no empty folder behind after a failed download
        except OSError:
            pass


def fetch(
    name: str, manifest: str | os.PathLike[str] | None = None, progress: bool = True
) -> Path:
    """Return the local path of the manifest entry ``name``, downloading it if needed.

    Args:
        name: the entry's key in the manifest.
        manifest: path of the manifest (default: the repository's ``data_manifest.yaml``);
            users with their own data, and the tests, pass their own.
        progress: show a download progress bar (``tqdm.auto``).

    Returns:
        Path of the verified file in the cache (:func:`cache_dir`).

    Raises:
        KeyError: no entry called ``name``; the message lists the available names.
        ManifestError: the manifest is malformed.
        DataUnavailableError: the file could not be downloaded (offline, unreachable host,
            HTTP error); the message names the entry, the URL and the offline alternative.
        DataIntegrityError: the download does not match the declared hash, or (``hash: null``)
            the hash pinned on first download: the source changed. Nothing is left in the cache.
    """
    entry = _get_entry(name, manifest)
    root = cache_dir()
    target = root / entry.name / entry.filename
    lock = root / LOCK_FILE_NAME

    pinned: dict[str, str] | None = None
    expected = entry.hash
    if expected is None:
        record = _read_lock(lock).get(entry.name)
        # A pin is tied to the URL: if the manifest now points elsewhere, pin the new source.
        if record is not None and record.get("url") == entry.url:
            pinned = record
            expected = record.get("hash")

    if target.is_file():
        if expected is not None and _matches(target, expected):
            return target
        if expected is not None:
            warnings.warn(
                f"Cached file for data entry {entry.name!r} ({target}) no longer matches its "
                f"{'pinned' if pinned else 'declared'} hash {expected}; downloading it again.",
                stacklevel=2,
            )
        # With nothing to check it against (no pin for this URL), a cached copy is not trusted:
        # the pin must come from a fresh download of the current source.
        _remove_quietly(target)

    try:
        _download(entry, target, expected, progress)
    except DataIntegrityError as exc:
        _remove_quietly(target)
        if pinned is not None:
            raise DataIntegrityError(
                f"Data entry {entry.name!r}: the file at {entry.url} no longer matches the hash "
                f"pinned on its first download ({pinned.get('hash')}, pinned "
                f"{pinned.get('pinned_at', 'earlier')}): the source has changed (or the download "
                f"was corrupted). Nothing was kept in the cache. If the new version is expected, "
                f"delete the entry {entry.name!r} from the lock file {lock} and fetch again to "
                f"pin it. Details: {exc}"
            ) from exc
        raise DataIntegrityError(
            f"Data entry {entry.name!r}: the download from {entry.url} does not match the hash "
            f"declared in the manifest ({entry.hash}). The download may be corrupted or the "
            f"manifest's hash outdated. Nothing was kept in the cache. Details: {exc}"
        ) from exc

    if expected is None:
        _pin(lock, entry, _file_hash(target, "sha256"))
    return target



# --------------------------------------------------------------------------------------------
# offline import
# --------------------------------------------------------------------------------------------


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


@dataclass
class ImportReport:
    """What :func:`import_files` did with each file of the folder.

    Attributes:
        imported: ``(entry name, cache path)`` of the files copied into the cache.
        unchanged: ``(entry name, cache path)`` already cached and verified (not copied again).
        unknown: files whose hash matches no entry (refused).
        mismatched: ``(file, entry names)`` for files at an entry's path whose hash differs from
            the entry's (refused: corrupt or a different version).
    """

    imported: list[tuple[str, Path]]
    unchanged: list[tuple[str, Path]]
    unknown: list[Path]
    mismatched: list[tuple[Path, tuple[str, ...]]]

    @property
    def ok(self) -> bool:
        """``True`` when no file was refused as corrupt (unknown files are only reported)."""
        return not self.mismatched

    def summary(self) -> str:
        head = (f"imported {len(self.imported)} file(s), {len(self.unchanged)} already cached, "
                f"{len(self.unknown)} not in the manifest, {len(self.mismatched)} refused "
                f"(hash mismatch)")
        lines = [head]
        lines += [f"  imported  {name} -> {path}" for name, path in self.imported]
        lines += [f"  refused (matches no manifest entry)  {path}" for path in self.unknown]
        lines += [f"  refused (hash differs from entry {', '.join(names)})  {path}"
                  for path, names in self.mismatched]
        return "\n".join(lines)


def _copy_verified(source: Path, target: Path, expected: str) -> bool:
    """Copy ``source`` to ``target`` through a temporary file in ``target``'s folder.

    The bytes are hashed as they are written; only a copy that matches ``expected`` is moved
    into place with ``os.replace``. Returns ``False`` (and leaves nothing behind) when the copy
    does not match, e.g. the source changed while it was read.
    """
    import tempfile

    algorithm, _, hexdigest = expected.partition(":")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.new(algorithm)
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            for block in iter(lambda: src.read(_CHUNK_SIZE), b""):
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != hexdigest.lower():
            tmp.unlink()
            return False
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def import_files(
    directory: str | os.PathLike[str], manifest: str | os.PathLike[str] | None = None
) -> ImportReport:
    """Copy the files of a local folder into the cache, each verified against the manifest.

    Every file under ``directory`` (recursively) is hashed; a file whose SHA256 (or MD5) equals
    an entry's declared hash is copied to that entry's cache path (several entries with the same
    content each get a copy). Nothing is half-copied: see :func:`_copy_verified`. See the module
    docs for what is refused.

    Args:
        directory: the folder holding the copies (e.g. the team's ``../shared/data``).
        manifest: the manifest (default: the repository's ``data_manifest.yaml``).

    Raises:
        NotADirectoryError: ``directory`` is not an existing folder.
        ManifestError: the manifest is malformed.
    """
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise NotADirectoryError(
            f"import_files: directory={str(directory)!r} is not an existing folder")
    entries = load_manifest(manifest)
    by_hash: dict[str, list[ManifestEntry]] = {}
    for entry in entries.values():
        if entry.hash is not None:
            by_hash.setdefault(entry.hash.lower(), []).append(entry)
    want_md5 = any(h.startswith("md5:") for h in by_hash)
    cache = cache_dir()
    report = ImportReport(imported=[], unchanged=[], unknown=[], mismatched=[])
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        keys = [f"sha256:{_file_hash(path, 'sha256')}"]
        if want_md5:
            keys.append(f"md5:{_file_hash(path, 'md5')}")
        matches = [e for k in keys for e in by_hash.get(k, [])]
        if not matches:
            rel = "/" + path.relative_to(root).as_posix()
            claimants = tuple(e.name for e in entries.values() if e.hash is not None
                              and unquote(urlsplit(e.url).path).endswith(rel))
            if claimants:
                report.mismatched.append((path, claimants))
            else:
                report.unknown.append(path)
            continue
        for entry in matches:
            assert entry.hash is not None
            target = cache / entry.name / entry.filename
            if target.is_file() and _matches(target, entry.hash):
                report.unchanged.append((entry.name, target))
            elif _copy_verified(path, target, entry.hash):
                report.imported.append((entry.name, target))
            else:
                report.mismatched.append((path, (entry.name,)))
    return report
