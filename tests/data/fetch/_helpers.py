"""Helpers shared by the fetch tests (not a test module)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
REPO_MANIFEST = REPO / "data_manifest.yaml"
# The team's offline copies (../shared/data beside the checkout; a worktree sits one level lower).
SHARED_DATA = next(
    (
        p / "shared" / "data"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared" / "data").is_dir()
    ),
    REPO.parent / "shared" / "data",
)
NOTEBOOK_STEMS = {
    "01_survival_primer",
    "02_scsurvival",
    "03_scsurvival_scaling",
    "04_slide_to_bag",
    "05_survpgc",
    "06_amkd",
}
CONTENT = b"pathway,gene\nHALLMARK_HYPOXIA,VEGFA\nHALLMARK_HYPOXIA,PGK1\n"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry(url: str, hash_: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": url,
        "hash": hash_,
        "size": "1 KB",
        "licence": "CC0 (test fixture)",
        "citation": "Test fixture",
        "used_by": ["05_survpgc"],
        "description": "A small CSV served by the test HTTP server",
        "offline_alternative": "survlib.data.simulate_multimodal_cohort",
    }
    body.update(overrides)
    return body


def write_manifest(path: Path, entries: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    return path


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
