"""The real cohorts through :func:`~survlib.data.fetch.fetch`: the manifest entries each cohort
reads (:func:`cohort_entries`, :func:`missing_entries`), :func:`load_cohort`, :func:`split_files`
and :func:`load_splits`."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from survlib.data.multimodal import MultimodalCohort
from survlib.data.tcga.cohort import read_cohort
from survlib.data.tcga.splits import read_splits
from survlib.data.tcga.tables import PathLike

#: Cohorts each source's manifest entries cover (SurvPGC: the paper's three; SurvPath: the two
#: with RNA).
SOURCES: dict[str, tuple[str, ...]] = {
    "survpgc": ("lihc", "brca", "coadread"),
    "survpath": ("stad", "coadread"),
}
#: Template counts of SurvPGC's prompt files (its Table 5).
TEMPLATE_COUNTS: tuple[int, ...] = (1, 3, 5, 10, 20)
#: RNA entries by cohort (SurvPath's Xena tables; the SurvPGC repository ships none).
_RNA_ENTRIES = {"coadread": "survpath_coadread_rna", "stad": "survpath_stad_rna"}
_SIGNATURES_ENTRY = "survpath_combine_signatures"
#: Cohorts with an RNA table in the manifest.
RNA_COHORTS: tuple[str, ...] = tuple(_RNA_ENTRIES)


def cohort_entries(
    cohort: str, source: str = "survpgc", n_templates: int | None = 1, rna: bool = True
) -> list[str]:
    """The manifest entries :func:`load_cohort` and :func:`load_splits` read for a cohort."""
    cohort = _check_cohort(cohort, source)
    names = [f"{source}_{cohort}_metadata", f"{source}_{cohort}_clinical"]
    names += [f"{source}_{cohort}_splits_{k}" for k in range(5)]
    if n_templates is not None and source == "survpgc":
        names.append(f"{source}_{cohort}_prompt_{int(n_templates)}")
    if rna and cohort in _RNA_ENTRIES:
        names += [_RNA_ENTRIES[cohort], _SIGNATURES_ENTRY]
    return names


def missing_entries(patterns: Sequence[str], manifest: PathLike | None = None) -> list[str]:
    """Manifest entries matching ``patterns`` (names or fnmatch patterns) not in the cache.

    Never downloads; a pattern matching no entry is returned as missing itself.
    """
    from survlib.data.fetch import cached_path, load_manifest

    names = list(load_manifest(manifest))
    missing = []
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            missing.append(pattern)
        missing += [n for n in hits if cached_path(n, manifest) is None and n not in missing]
    return missing


def _check_cohort(cohort: str, source: str) -> str:
    if source not in SOURCES:
        raise ValueError(
            f"source must be one of {sorted(SOURCES)}, got {source!r} (the "
            f"manifest lists the SurvPGC tables; read other files with "
            f"read_cohort)"
        )
    c = str(cohort).lower().removeprefix("tcga-").removeprefix("tcga_")
    if c not in SOURCES[source]:
        raise ValueError(
            f"cohort must be one of {SOURCES[source]} for source={source!r}, got {cohort!r}"
        )
    return c


def load_cohort(
    cohort: str,
    source: str = "survpgc",
    n_templates: int | None = 1,
    rna: bool = True,
    manifest: PathLike | None = None,
    progress: bool = False,
) -> MultimodalCohort:
    """:func:`read_cohort` on the manifest's files (fetched, or imported with
    ``survlib fetch --import``): metadata, clinical, the ``n_templates`` prompts
    (``None``: none; SurvPGC only) and, where the cohort has them and ``rna``, SurvPath's RNA
    and pathways.
    """
    from survlib.data.fetch import fetch

    c = _check_cohort(cohort, source)
    if source != "survpgc":
        n_templates = None  # only the SurvPGC repository ships prompts

    def get(n: str) -> Any:
        return fetch(n, manifest=manifest, progress=progress)

    with_rna = rna and c in _RNA_ENTRIES
    return read_cohort(
        get(f"{source}_{c}_metadata"),
        clinical=get(f"{source}_{c}_clinical"),
        rna=get(_RNA_ENTRIES[c]) if with_rna else None,
        signatures=get(_SIGNATURES_ENTRY) if with_rna else None,
        prompts=None if n_templates is None else get(f"{source}_{c}_prompt_{int(n_templates)}"),
        name=f"TCGA-{c.upper()}",
    )


def split_files(
    cohort: str, source: str = "survpgc", manifest: PathLike | None = None, progress: bool = False
) -> list[Path]:
    """The authors' five split files of ``cohort`` (e.g. ``"lihc"``), through fetch."""
    from survlib.data.fetch import fetch

    c = _check_cohort(cohort, source)
    return [
        fetch(f"{source}_{c}_splits_{k}", manifest=manifest, progress=progress) for k in range(5)
    ]


def load_splits(
    cohort: MultimodalCohort,
    source: str = "survpgc",
    protocol: str = "honest",
    val_fraction: float = 0.2,
    seed: int = 0,
    manifest: PathLike | None = None,
    progress: bool = False,
) -> list[Any]:
    """:func:`read_splits` on the authors' five split files of ``cohort`` (a loaded cohort)."""
    paths = split_files(str(cohort.attrs.get("name", "")), source, manifest, progress)
    return read_splits(
        paths,
        cohort.clinical.index,
        protocol=protocol,
        event=cohort.event,
        val_fraction=val_fraction,
        seed=seed,
    )
