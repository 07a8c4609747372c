"""Where things live: the repository root, the notebooks, the executed outputs.

Paths are resolved from the installed package (``pip install -e .``) or from the environment
variable ``SURVLIB_REPO``, never from the current working directory, so a notebook or a test
behaves the same wherever it is started.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """Return the repository root (the folder holding ``_toc.yml`` and ``notebooks/``).

    Raises:
        FileNotFoundError: if survlib is not installed from a checkout of the book and
            ``SURVLIB_REPO`` is not set.
    """
    env = os.environ.get("SURVLIB_REPO")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2])
    for cand in candidates:
        if (cand / "notebooks").is_dir() and (cand / "_toc.yml").is_file():
            return cand
    raise FileNotFoundError(
        "Cannot find the book's repository root (a folder with _toc.yml and notebooks/). "
        "Install survlib from a checkout with `pip install -e .` or set SURVLIB_REPO."
    )


def notebooks_dir() -> Path:
    """The folder of the jupytext ``.py`` notebook sources."""
    return repo_root() / "notebooks"


#: Environment variable naming another folder for the executed notebooks (``make test`` points
#: it at ``_build/smoke/book/executed`` so the smoke run renders a book of its own without
#: touching the book-profile outputs in ``book/executed``).
EXECUTED_DIR_ENV = "SURVLIB_EXECUTED_DIR"
#: where a notebook kernel writes its glued headline values (set by the runner for each run)
HEADLINES_ENV = "SURVLIB_HEADLINES"


def executed_dir() -> Path:
    """The folder where papermill writes executed notebooks for the book (git-ignored):
    ``$SURVLIB_EXECUTED_DIR`` when set, else ``book/executed`` in the repository."""
    env = os.environ.get(EXECUTED_DIR_ENV)
    if env:
        return Path(env).resolve()
    return repo_root() / "book" / "executed"


def default_manifest() -> Path:
    """The repository's ``data_manifest.yaml``."""
    return repo_root() / "data_manifest.yaml"
