"""What ScSurvival's helper modules (training stages, prediction pass) see of the model."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from survlib.models.sc.amicr import AMICR
from survlib.models.sc.cohort import _CovariateEncoder
from survlib.models.sc.config import ScSurvivalConfig, _Setup
from survlib.models.sc.reader import CellReader

__all__ = ["ModelState"]


class ModelState(Protocol):
    """The state of a :class:`~survlib.models.sc.model.ScSurvival` that its training stages and
    its prediction pass read and write (a structural type: those modules need not import the
    model, which imports them)."""

    adata: Any
    setup: _Setup
    config: ScSurvivalConfig
    reader: CellReader
    batches: list[str]
    covariates: _CovariateEncoder | None
    device: torch.device | None
    is_trained: bool
    cell_reference_: float | None
    features: torch.nn.Module | None
    amicr: AMICR | None
    patients: pd.DataFrame
    history: dict[str, list[float]]
    steps_run: dict[str, int]

    def _embed(self, x: Tensor, b: Tensor | None) -> Tensor: ...

    def _gene_order(self, adata: Any) -> np.ndarray | None: ...

    def _index(self, adata: Any) -> tuple[np.ndarray, pd.Index, np.ndarray | None]: ...
