"""Data: fetch external files (pooch + manifest), simulators with known truth, bundled data.

Simulated data is labelled as simulated wherever it appears (``attrs['simulated'] = True`` on
data frames, ``uns['simulated'] = True`` on AnnData objects).
"""

from survlib._core.validation import censorship_to_event, require_columns, validate_survival
from survlib.data.fetch import (
    DataIntegrityError,
    DataUnavailableError,
    ImportReport,
    cache_dir,
    cached_path,
    describe,
    fetch,
    import_files,
    load_manifest,
)
from survlib.data.sc import (
    SC_SETTINGS,
    check_same_genes,
    pbmc68k_counts,
    semi_synthetic_pbmc_cohort,
    simulate_sc_cohort,
    validate_sc_cohort,
)
from survlib.data.slides import LabelMask, SyntheticSlide, read_label_mask, write_synthetic_slide
from survlib.data.tcga import (
    attach_slide_features,
    describe_splits,
    load_cohort,
    load_splits,
    read_cohort,
    read_splits,
)

__all__ = [
    "LabelMask",
    "SyntheticSlide",
    "read_label_mask",
    "write_synthetic_slide",
    "SC_SETTINGS",
    "check_same_genes",
    "pbmc68k_counts",
    "semi_synthetic_pbmc_cohort",
    "simulate_sc_cohort",
    "validate_sc_cohort",
    "DataIntegrityError",
    "DataUnavailableError",
    "ImportReport",
    "cache_dir",
    "cached_path",
    "import_files",
    "censorship_to_event",
    "describe",
    "fetch",
    "load_manifest",
    "require_columns",
    "attach_slide_features",
    "describe_splits",
    "load_cohort",
    "load_splits",
    "read_cohort",
    "read_splits",
    "validate_survival",
]
