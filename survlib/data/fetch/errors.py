"""The errors of :mod:`survlib.data.fetch`; each message names the entry, file or field."""

from __future__ import annotations

__all__ = ["DataIntegrityError", "DataUnavailableError", "ManifestError"]


class ManifestError(ValueError):
    """The data manifest is malformed; the message names the file, the entry and the field."""


class DataUnavailableError(RuntimeError):
    """A file could not be downloaded (no network, server unreachable, HTTP error)."""


class DataIntegrityError(ValueError):
    """A downloaded or cached file does not match its declared or pinned hash."""
