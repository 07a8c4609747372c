"""Training: the one loop (:mod:`~survlib.train.loop`), the cross-validation protocol
(:mod:`~survlib.train.cv`) and the shared optimizer (:mod:`~survlib.train.optim`).

This package is model-agnostic: it imports nothing above :mod:`survlib.survival`, so every
model family (``survlib.models``) trains through :func:`fit`. Device and seed helpers live in
:mod:`survlib._core.device` and are re-exported here, where a training script looks for them.
"""

from survlib._core.device import pick_device, seed_everything
from survlib._core.finite import NonFiniteError
from survlib.train.cv import (
    RESULT_COLUMNS,
    Split,
    cross_validate,
    cv_splits,
    summarize,
    tidy_results,
)
from survlib.train.loop import FitResult, fit
from survlib.train.optim import adam

__all__ = [
    "RESULT_COLUMNS",
    "FitResult",
    "NonFiniteError",
    "Split",
    "adam",
    "cross_validate",
    "cv_splits",
    "fit",
    "pick_device",
    "seed_everything",
    "summarize",
    "tidy_results",
]
