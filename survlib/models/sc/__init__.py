"""scSurvival: survival modelling from single cells (ZIG-VAE + attention multiple-instance Cox).

The model follows the six-step workflow of scSurvival (Cancer Discovery, 2026): a
zero-inflated Gaussian variational autoencoder (ZIG-VAE) turns each cell's log-normalised
expression into a batch-corrected embedding; an attention-based multiple-instance Cox
regression (AMICR) pools a patient's cell embeddings with multi-head gated attention into a
patient representation, scores it with a hazard network and is trained with the Cox partial
likelihood over the patients of a minibatch plus an attention-entropy penalty.  The
procedure is: pretrain the VAE on all cells -> train AMICR on frozen embeddings -> jointly
fine-tune Cox + reconstruction + entropy.  Outputs: patient risk (log relative hazard),
per-cell attention and per-cell attention-adjusted hazard score.

This is an independent implementation written from the paper's description and the issue
text; it shares no code with the authors' GPL-3 package.

Modules, each readable on its own:

- **Module maths** (pure ``torch``, no AnnData): :mod:`~survlib.models.sc.vae`
  (:func:`zig_nll`, :func:`kl_free_bits`, :class:`ZIGVAE`) and :mod:`~survlib.models.sc.amicr`
  (:func:`attention_entropy`, :func:`entropy_penalty`, :class:`GatedMultiHeadAttention`,
  :class:`AMICR`); PCA features in :mod:`~survlib.models.sc.features`.
- **Data access**: :mod:`~survlib.models.sc.reader` (:class:`CellReader`: log-normalised rows
  of an in-memory or *backed* AnnData, so training streams minibatches and memory does not grow
  with the number of cells) and :mod:`~survlib.models.sc.cohort` (the patient table).
- **Configuration**: :mod:`~survlib.models.sc.config` (:class:`ScSurvivalConfig`,
  :data:`PRESETS`).
- **User-facing model**: :mod:`~survlib.models.sc.model` (:class:`ScSurvival`, scvi-tools
  style), its training stages in :mod:`~survlib.models.sc.training` (all through
  :func:`survlib.train.fit`) and its prediction pass in :mod:`~survlib.models.sc.inference`::

       ScSurvival.setup_anndata(adata, patient_key="patient_id", time_key="time",
                                event_key="event", batch_key="batch")
       model = ScSurvival(adata, preset="fast")
       model.train()
       risk = model.predict_risk(adata)          # one row per patient

Risk-cell calls and their metrics live one layer up, in :mod:`survlib.explain.risk_cells`
(``identify_risk_cells(model, adata)``); the scaling benchmark in
:mod:`survlib.protocols.scsurvival`.

Conventions: ``event = 1`` means death observed; times are in months; higher risk = worse
outcome.  ``adata.X`` holds raw counts (the default) and is log-normalised on the fly
(``log1p(1e4 * x / total)``, :func:`survlib.data.sc.log_normalise`), or is already
log-normalised when ``expression="log-normalized"``.
"""

from survlib.models.sc.amicr import (
    AMICR,
    GatedMultiHeadAttention,
    attention_entropy,
    entropy_penalty,
)
from survlib.models.sc.config import PRESETS, ScSurvivalConfig
from survlib.models.sc.model import ScSurvival
from survlib.models.sc.reader import CellReader, csr_to_dense_tensor
from survlib.models.sc.vae import ZIGVAE, kl_free_bits, zig_nll

__all__ = [
    "AMICR",
    "CellReader",
    "GatedMultiHeadAttention",
    "PRESETS",
    "ScSurvival",
    "ScSurvivalConfig",
    "ZIGVAE",
    "attention_entropy",
    "csr_to_dense_tensor",
    "entropy_penalty",
    "kl_free_bits",
    "zig_nll",
]
