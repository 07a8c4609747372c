"""Input validation shared by every loader, simulator and model.

The checks live in :mod:`survlib._core.validation` (layer 1, importable from every module
without an import cycle); this module re-exports them under their historical names.
"""

from __future__ import annotations

from survlib._core.validation import (
    MISSING_STRINGS,
    _first,
    align_by_index,
    censorship_to_event,
    check_bin_indices,
    check_clinical_value,
    check_features,
    check_finite_number,
    check_probabilities,
    check_survival_curves,
    check_time_event_tensors,
    is_missing,
    require_columns,
    validate_survival,
)

__all__ = [
    "MISSING_STRINGS",
    "_first",
    "align_by_index",
    "censorship_to_event",
    "check_bin_indices",
    "check_clinical_value",
    "check_features",
    "check_finite_number",
    "check_probabilities",
    "check_survival_curves",
    "check_time_event_tensors",
    "is_missing",
    "require_columns",
    "validate_survival",
]
