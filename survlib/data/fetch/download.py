"""Downloading a manifest entry with pooch: :func:`fetch` (verify, pin, re-download)."""

from __future__ import annotations

import ftplib
import os
import socket
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from survlib.data.fetch.cache import (
    _CHUNK_SIZE,
    DATA_DIR_ENV,
    LOCK_FILE_NAME,
    _file_hash,
    _matches,
    _pin,
    _read_lock,
    _remove_quietly,
    cache_dir,
)
from survlib.data.fetch.errors import DataIntegrityError, DataUnavailableError
from survlib.data.fetch.manifest import ManifestEntry, _get_entry

__all__ = ["fetch"]

# (connect, read) time-outs of a download, in seconds.
_TIMEOUT = (15, 120)


def _offline_hint(entry: ManifestEntry) -> str:
    if entry.offline_alternative:
        return f"Without network, use {entry.offline_alternative} instead."
    return "This entry lists no offline alternative."


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


def fetch(name: str, manifest: str | os.PathLike[str] | None = None, progress: bool = True) -> Path:
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
