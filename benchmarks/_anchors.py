"""Where the authors' reference codes are, and importing their scSurvival package from there.

The authors' codes (``/work/shared/anchors`` on the development machine; see its README) are
yardsticks, never part of survlib: benchmarks find them through ``--anchors PATH``, else the
environment variable ``SURVLIB_ANCHORS``, else ``../shared/anchors`` relative to the repository
root (or, for a git worktree nested deeper, the first ``shared/anchors`` above it). When they
are absent, :class:`AnchorsMissing` says where they were looked for.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["AnchorsMissing", "anchors_dir", "import_authors_scsurvival"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_anchors() -> Path:
    """``../shared/anchors`` from the repository root, else the nearest ``shared/anchors``
    above it (a worktree at /work/wt/NAME finds /work/shared/anchors)."""
    for parent in REPO_ROOT.parents:
        if (parent / "shared" / "anchors").is_dir():
            return parent / "shared" / "anchors"
    return REPO_ROOT.parent / "shared" / "anchors"


class AnchorsMissing(RuntimeError):
    """The authors' reference code is not where it was looked for."""


def anchors_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The anchors folder: ``path``, else ``$SURVLIB_ANCHORS``, else ``../shared/anchors``."""
    chosen = path or os.environ.get("SURVLIB_ANCHORS") or _default_anchors()
    return Path(chosen).expanduser().resolve()


def import_authors_scsurvival(path: str | os.PathLike[str] | None = None) -> tuple[Any, Any]:
    """``(scSurvivalRun, PredictIndSample)`` from the authors' scSurvival package.

    Raises:
        AnchorsMissing: the package is not under the anchors folder (the message names the
            folder and how to point at another one).
    """
    root = anchors_dir(path) / "scSurvival"
    if not (root / "scSurvival" / "scsurvival.py").is_file():
        raise AnchorsMissing(
            f"the authors' scSurvival package is not at {root} (looked for "
            "scSurvival/scsurvival.py there); pass --anchors PATH or set SURVLIB_ANCHORS to "
            "the folder holding scSurvival/"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from scSurvival.scsurvival import PredictIndSample, scSurvivalRun

    return scSurvivalRun, PredictIndSample
