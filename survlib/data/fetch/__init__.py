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

Modules: :mod:`~survlib.data.fetch.manifest` (reading and validating the manifest),
:mod:`~survlib.data.fetch.cache` (cache folder, lock file of pinned hashes, verified cached
copies), :mod:`~survlib.data.fetch.download` (:func:`fetch` through pooch),
:mod:`~survlib.data.fetch.offline` (:func:`import_files`), :mod:`~survlib.data.fetch.errors`.
"""

from survlib.data.fetch.cache import (
    DATA_DIR_ENV,
    LOCK_FILE_NAME,
    cache_dir,
    cached_path,
    lock_path,
)
from survlib.data.fetch.download import fetch
from survlib.data.fetch.errors import DataIntegrityError, DataUnavailableError, ManifestError
from survlib.data.fetch.manifest import ManifestEntry, describe, load_manifest
from survlib.data.fetch.offline import ImportReport, import_files

__all__ = [
    "DATA_DIR_ENV",
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
