"""Layer 1 of survlib: helpers every other layer may import (numerical guards, validation of
inputs).

Nothing here imports another survlib module, so any module can import it without a cycle.
"""

from survlib._core.finite import FiniteGuard, NonFiniteError, require_finite
from survlib._core.validation import (
    align_by_index,
    censorship_to_event,
    check_bin_indices,
    check_clinical_value,
    check_features,
    check_finite_number,
    check_probabilities,
    check_survival_curves,
    check_time_event_tensors,
    require_columns,
    validate_survival,
)

__all__ = [
    "FiniteGuard",
    "NonFiniteError",
    "align_by_index",
    "censorship_to_event",
    "check_bin_indices",
    "check_clinical_value",
    "check_features",
    "check_finite_number",
    "check_probabilities",
    "check_survival_curves",
    "check_time_event_tensors",
    "require_columns",
    "require_finite",
    "validate_survival",
]
