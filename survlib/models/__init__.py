"""Survival models: tabular (:mod:`~survlib.models.omics`), MIL (:mod:`~survlib.models.mil`),
multimodal fusion (:mod:`~survlib.models.fusion`), knowledge distillation
(:mod:`~survlib.models.distill`), single-cell (:mod:`~survlib.models.sc`); their shared layers
are in :mod:`~survlib.models.blocks`, the discrete-time recipe in :mod:`~survlib.models.discrete`.

The multimodal models share one calling convention: a model's class attribute ``inputs``
names the :class:`~survlib.models.blocks.SurvivalBatch` fields its ``forward`` takes, in order,
and it returns hazard logits ``[B, n_bins]``::

    logits = predict_logits(model, batch)      # model(*[getattr(batch, k) for k in model.inputs])
    loss = discrete_loss(model, batch)          # nll_discrete(logits, batch.bin_index, batch.event)

Models with attention maps have ``model.attention(*inputs) -> dict[str, Tensor[B, N]]``
(per-patch scores, 0 on padding; SurvPGC: ``"clinic->pathology"`` and
``"genomics->pathology"``); :mod:`survlib.explain` wraps them and integrated gradients.

:data:`MODEL_ZOO` maps the names used in the book's tables to constructors that all take the
same keywords, so a chapter can loop over them::

    for name, build in MODEL_ZOO.items():
        model = build(d_patch=1024, pathways=pm, n_genes=pm.n_genes, d_text=384,
                      n_clinical=8, n_bins=4)
        print(name, count_parameters(model))
"""

from survlib.models.blocks import PathwayMembership, SurvivalBatch
from survlib.models.calling import (
    count_parameters,
    discrete_loss,
    model_inputs,
    predict_logits,
    predict_risk,
)
from survlib.models.discrete import (
    DiscreteFit,
    discrete_cv_fold,
    evaluate_discrete_model,
    fit_discrete_model,
    predict_discrete_logits,
    protocol_comparison,
)
from survlib.models.fusion import survpgc_loss
from survlib.models.zoo import MODEL_ZOO

__all__ = [
    "MODEL_ZOO",
    "DiscreteFit",
    "PathwayMembership",
    "SurvivalBatch",
    "count_parameters",
    "discrete_cv_fold",
    "discrete_loss",
    "model_inputs",
    "evaluate_discrete_model",
    "fit_discrete_model",
    "predict_discrete_logits",
    "predict_logits",
    "predict_risk",
    "protocol_comparison",
    "survpgc_loss",
]
