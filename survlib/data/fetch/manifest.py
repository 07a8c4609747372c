"""The data manifest (``data_manifest.yaml``): its entries, read and validated.

:func:`load_manifest` reads the YAML (duplicate keys refused) and checks every entry's fields,
reporting all problems at once; :func:`describe` tabulates the entries for the book's data page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import yaml

from survlib.data.fetch.errors import ManifestError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ManifestEntry", "describe", "load_manifest"]

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


def _check_hash(where: str, raw: Mapping[Any, Any], problems: list[str]) -> str | None:
    """The entry's ``hash``: ``None`` when null or malformed (then reported in ``problems``)."""
    hash_value = raw.get("hash")
    if "hash" in raw and hash_value is not None:
        if not isinstance(hash_value, str) or not _HASH_RE.match(hash_value):
            problems.append(
                f"{where}: field 'hash' must be 'sha256:<64 lowercase hex>', 'md5:<32 lowercase "
                f"hex>' or null, got {hash_value!r}"
            )
            hash_value = None
    return hash_value


def _check_size(where: str, raw: Mapping[Any, Any], problems: list[str]) -> str | None:
    """The entry's ``size`` as text (``"<n> bytes"`` for a number); ``None`` when malformed."""
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
    return size


def _check_used_by(where: str, raw: Mapping[Any, Any], problems: list[str]) -> tuple[str, ...]:
    """The entry's ``used_by`` notebook stems; malformed ones are reported in ``problems``."""
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
    return used_by


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

    hash_value = _check_hash(where, raw, problems)
    size = _check_size(where, raw, problems)

    licence = text("licence")
    citation = text("citation")
    description = text("description", optional=True)
    offline_alternative = text("offline_alternative", optional=True)

    used_by = _check_used_by(where, raw, problems)

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
            (:func:`survlib._core.paths.default_manifest`). The top level maps entry names to
            entries.

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


def _get_entry(name: str, manifest: str | os.PathLike[str] | None) -> ManifestEntry:
    entries = load_manifest(manifest)
    if name not in entries:
        available = ", ".join(sorted(entries)) or "(none)"
        raise KeyError(f"No data entry named {name!r} in the manifest. Available: {available}")
    return entries[name]
