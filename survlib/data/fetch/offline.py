"""Offline import (``survlib fetch --import DIR``): local copies matched to entries by content."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from survlib.data.fetch.cache import _CHUNK_SIZE, _file_hash, _matches, cache_dir
from survlib.data.fetch.manifest import ManifestEntry, load_manifest

__all__ = ["ImportReport", "import_files"]


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
        head = (
            f"imported {len(self.imported)} file(s), {len(self.unchanged)} already cached, "
            f"{len(self.unknown)} not in the manifest, {len(self.mismatched)} refused "
            f"(hash mismatch)"
        )
        lines = [head]
        lines += [f"  imported  {name} -> {path}" for name, path in self.imported]
        lines += [f"  refused (matches no manifest entry)  {path}" for path in self.unknown]
        lines += [
            f"  refused (hash differs from entry {', '.join(names)})  {path}"
            for path, names in self.mismatched
        ]
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
            f"import_files: directory={str(directory)!r} is not an existing folder"
        )
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
            claimants = tuple(
                e.name
                for e in entries.values()
                if e.hash is not None and unquote(urlsplit(e.url).path).endswith(rel)
            )
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
