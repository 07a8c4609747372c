"""Explaining the models: what drives a prediction, and which instances matter.

Modules:

- :mod:`~survlib.explain.attribution`: integrated gradients over the fused vector of the
  multimodal models (captum), modality shares, attention maps and top patches;
- :mod:`~survlib.explain.neighbours`: means over each cell's nearest neighbours in an
  embedding (:func:`knn_mean`), exact or by a partitioned approximate search that scales
  linearly with the cells, and the neighbour tables (:func:`knn_indices`);
- :mod:`~survlib.explain.risk_cells`: scSurvival's risk-associated cells: calls from the
  per-cell scores (:func:`identify_risk_cells`), the 2-means threshold, neighbour smoothing,
  precision / recall / F1, batch mixing and a supervised reference.
"""

from survlib.explain.attribution import (
    IGResult,
    attention_maps,
    integrated_gradients,
    modality_attribution,
    patient_attention,
    risk_from_logits,
    top_patches,
)
from survlib.explain.neighbours import knn_indices, knn_mean
from survlib.explain.risk_cells import (
    batch_mixing,
    identify_risk_cells,
    neighbour_mean,
    risk_cell_metrics,
    supervised_risk_cell_probe,
    two_means_threshold,
)

__all__ = [
    "IGResult",
    "attention_maps",
    "batch_mixing",
    "identify_risk_cells",
    "integrated_gradients",
    "knn_indices",
    "knn_mean",
    "modality_attribution",
    "neighbour_mean",
    "patient_attention",
    "risk_cell_metrics",
    "risk_from_logits",
    "supervised_risk_cell_probe",
    "top_patches",
    "two_means_threshold",
]
