"""Atomic file writes: a reader sees the old file or the complete new one, never half of one.

The pattern: write to a temporary file in the *same directory* as the target (so the final
rename never crosses a file system), flush and ``fsync`` it, then ``os.replace`` it over the
target. ``os.replace`` is atomic on POSIX and on Windows. If anything fails before the rename,
the temporary file is removed and the target is left exactly as it was.

Example::

    from survlib._core.io import atomic_write, atomic_write_json

    with atomic_write("results.csv", mode="w") as fh:
        df.to_csv(fh, index=False)
    atomic_write_json("headline.json", {"cindex": 0.71})
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_json", "atomic_write_text"]


@functools.cache
def _umask() -> int:
    """The process umask (read once: reading it means setting it, which is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Flush a directory entry to disk so the rename survives a crash (best effort).

    Not every platform lets a directory be opened (Windows does not); there the rename is
    still atomic, only its durability after a power cut is not guaranteed.
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing that replaces ``path`` only if the block succeeds.

    Args:
        path: the file to create or replace. Its parent directory must exist.
        mode: ``"wb"`` (default) or ``"w"`` (text); ``"x"`` / ``"xb"`` additionally refuse to
            replace an existing file (checked when the block ends). Append and read modes are
            refused: an atomic write always produces the whole file.
        encoding: text encoding for text modes (default ``"utf-8"``); must be ``None`` for
            binary modes.
        newline: passed to :func:`open` for text modes.

    Yields:
        The open temporary file object. Write to it; do not close or rename it yourself.

    Raises:
        ValueError: for an unsupported ``mode``.
        FileExistsError: with mode ``"x"``/``"xb"`` if ``path`` exists when the block ends.
        Any exception raised inside the block is re-raised after the temporary file is removed;
        the existing ``path`` (if any) is untouched.
    """
    if mode not in {"w", "wb", "wt", "x", "xb", "xt"}:
        raise ValueError(
            f"atomic_write: unsupported mode {mode!r}; use 'wb' or 'w' ('x'/'xb' to refuse "
            "replacing an existing file)."
        )
    binary = "b" in mode
    exclusive = mode.startswith("x")
    if binary and encoding is not None:
        raise ValueError("atomic_write: 'encoding' is only valid for text modes.")
    if not binary and encoding is None:
        encoding = "utf-8"

    target = Path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        open_mode = "wb" if binary else "w"
        with os.fdopen(fd, open_mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive and target.exists():
            raise FileExistsError(f"atomic_write: {target} already exists (mode {mode!r}).")
        # mkstemp creates the file with mode 0600; give it the permissions a normal open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_directory(directory)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns ``Path(path)``."""
    with atomic_write(path, mode="w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def atomic_write_json(
    path: str | os.PathLike[str],
    obj: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = True,
    allow_nan: bool = False,
) -> Path:
    """Serialise ``obj`` as JSON and write it to ``path`` atomically; returns ``Path(path)``.

    The object is serialised *before* the file is touched, so an unserialisable object
    (``TypeError``) or a NaN/infinity with ``allow_nan=False`` (``ValueError``: strict JSON has
    no NaN) leaves the old file as it was. The file ends with a newline.
    """
    text = json.dumps(obj, indent=indent, sort_keys=sort_keys, allow_nan=allow_nan) + "\n"
    return atomic_write_text(path, text)
