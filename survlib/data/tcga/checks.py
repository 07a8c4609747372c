"""The cache check of chapters 5 and 6: can a chapter's real-data section run
(:func:`check_real_data`, :class:`RealDataCheck`)?"""

from __future__ import annotations

from collections.abc import Sequence

from survlib.data.tcga.loading import missing_entries
from survlib.data.tcga.tables import PathLike


class RealDataCheck:
    """What :func:`check_real_data` found: ``cohorts`` (the chosen ones, lower case),
    ``missing`` (manifest entries, or patterns matching none, not in the data cache),
    ``available`` (a cohort chosen and nothing missing) and ``message`` (Markdown for the reader
    when the section cannot run: the cache folder, the missing entries and how to fetch or import
    them; ``""`` when available)."""

    def __init__(self, cohorts: list[str], missing: list[str], message: str) -> None:
        self.cohorts, self.missing, self.message = cohorts, missing, message
        self.available = bool(cohorts) and not missing


def check_real_data(
    cohorts: str | Sequence[str],
    entries: dict[str, Sequence[str]],
    extra: Sequence[str] = (),
    manifest: PathLike | None = None,
) -> RealDataCheck:
    """Whether the real TCGA tables of a chapter's section are in the data cache (never downloads).

    Args:
        cohorts: the cohorts to run, a comma-separated string (a notebook parameter such as
            ``"lihc,brca"``) or a sequence; case and blanks are ignored.
        entries: cohort -> the manifest entries it reads (names or fnmatch patterns).
        extra: entries every cohort needs (e.g. the prompt templates).
        manifest: the data manifest (default: the repository's ``data_manifest.yaml``).

    Raises:
        ValueError: a chosen cohort is not a key of ``entries``.
    """
    from survlib.data.fetch import cache_dir

    parts = cohorts.split(",") if isinstance(cohorts, str) else list(cohorts)
    chosen = [c.strip().lower() for c in parts if c.strip()]
    unknown = sorted(set(chosen) - set(entries))
    if unknown:
        raise ValueError(
            f"real_cohorts: unknown cohort(s) {unknown}; choose from {sorted(entries)}"
        )
    missing = missing_entries([p for c in chosen for p in entries[c]] + list(extra), manifest)
    message = (
        ""
        if chosen and not missing
        else (
            f"**The real TCGA tables are not in the data cache** (`{cache_dir()}`), so the rest "
            f"of this section is skipped. Missing manifest entries: "
            f"{', '.join(f'`{m}`' for m in missing) or '(no cohort chosen)'}. With network, "
            "`survlib fetch NAME` downloads an entry and checks its sha256. Without network, "
            "put copies of the authors' repositories' files (their commits are in "
            "`data_manifest.yaml`) in a folder and run `survlib fetch --import FOLDER`: each "
            "file is matched to its entry by its hash. Then run this chapter again."
        )
    )
    return RealDataCheck(chosen, missing, message)
