r"""AMKD: adaptive multi-modality knowledge distillation (Xu et al., Comput Biomed 2026).

A multimodal **teacher** (pathway tokens + patch features, self- and cross-attention, Cox head)
is trained first and frozen; a pathology-only **student** (patch self-attention + a gene-guided
enhancement MLP, Cox head) is then trained to mimic it. At inference the student sees the
patches only: :meth:`AMKDStudent.forward` takes ``(patches, patch_mask)`` and nothing else.

Losses (:mod:`~survlib.models.distill.losses`; pure functions of tensors, equations in each
docstring; hyper-parameters in :mod:`~survlib.models.distill.config`)::

    :func:`loss_ge`          gene-enhancement loss, KL between softmax(./tau) of teacher and
                             student gene-guided patch features (Sec. 2.4)
    :func:`loss_kd`          distillation of the survival outputs through sigmoid(./tau)
    :func:`loss_arr`         adaptive redundancy reduction (Sec. 2.5), with
                             :func:`arr_minimiser` (where it pulls the distillation gap to)
    :func:`amkd_objective`   :math:`\alpha(L_{GE}+L_{KD}+L_{SURV}) + (1-\alpha) L_{ARR}`
    :func:`amkd_losses`      all of them from a student and a teacher output on one batch

Models (:mod:`~survlib.models.distill.networks`)::

    :class:`AMKDTeacher`     Sec. 2.3 (S-MLP pathway encoder, intra-modal self-attention,
                             both cross-attentions, concatenation, pooling, MLP head)
    :class:`AMKDStudent`     Sec. 2.4 (patch self-attention, enhancement MLP, MLP head)
    :class:`MILTeacher`      an ABMIL / TransMIL Cox model used as the teacher (Table 5)
    :class:`SparsePathwayMLP`, :class:`MILConcat`   the S-MLP and "(Cat)" baselines of Table 2

Training (:mod:`~survlib.models.distill.training`, through :func:`survlib.train.fit`; the
book's honest protocol: early stopping on a validation split, test used once)::

    :func:`fit_teacher`, :func:`fit_student`, :func:`teacher_targets`
    (risks: :func:`survlib.models.predict_risk`)

Cost (:mod:`~survlib.models.distill.cost`)::

    :func:`student_flops`

Chapter 6's benchmark (every table's models on one fold) is :mod:`survlib.protocols.amkd`.

Reconstructions
---------------
The paper's text lost symbols in extraction and is inconsistent in places. Each choice below is
documented where it is implemented and tested for its limiting behaviour.

1. **Cross-attention direction and shapes (Sec. 2.3.2 vs 2.4).** Section 2.4 states that the
   teacher's gene-guided pathology features :math:`h^t_{g2p} \in \mathbb{R}^{N_p\times d}` and
   the student's :math:`\tilde h^s_{g2p} = \mathrm{MLP}(h^s_p)` (one row per patch) are compared
   by :math:`L_{GE}`, so the distilled tensor has one row per *patch*. We therefore take
   :math:`h_{g2p} = \mathrm{softmax}(q_{g2p} k_g^\top/\sqrt d)\,v_g` with
   :math:`q_{g2p} = z_p W^q_{g2p}`: patches query the pathway tokens and each patch is
   re-described by the pathways it attends to (genomic information flows *into* the patches).
   Symmetrically :math:`h_{p2g} = \mathrm{softmax}(q_{p2g} k_p^\top/\sqrt d)\,v_p` with
   :math:`q_{p2g} = z_g W^q_{p2g}` (one row per pathway). Keys and values are those of the
   intra-modal self-attention, and only the two query matrices are new, as the paper states
   ("W^q_{g2p} and W^q_{p2g} are learnable projection matrices in the cross-attention
   module"). Section 2.3.2's bullet names the directions after the *querying* modality; under
   that naming the same two tensors swap names. :math:`H_{att}` stacks the genomic rows
   :math:`[h_g \,\|\, h_{p2g}]` and the pathology rows :math:`[h_{g2p} \,\|\, h_p]`, each
   :math:`2d` wide, giving :math:`(N_g+N_p)\times 2d` as in the paper.
2. **Survival loss.** Section 2.1 writes a discrete-time NLL and Sec. 2.4 mentions four bins,
   but Sec. 2.3.3 trains the teacher with the Cox partial likelihood and Sec. 2.5 calls both
   :math:`L^s_{SURV}` and :math:`L^t_{SURV}` "Cox negative log-likelihood losses"; their ratio
   in :math:`L_{ARR}` only compares like with like if both are the same loss. Teacher and
   student here both output one log relative hazard and train with
   :func:`survlib.survival.cox_partial_likelihood` (mean over events, Efron ties).
3. **KL directions.** The paper writes :math:`D_{KL}(p^s\|p^t)` for both KL terms. We use
   :math:`D_{KL}(p^t\|p^s)` (teacher first, Hinton et al.'s distillation), the direction that
   PyTorch's ``kl_div(log p_s, p_t)`` computes and which the paper's notation most likely
   transcribes. No :math:`\tau^2` factor is applied (the paper writes none).
4. :math:`L_{KD}` with sigmoid. :math:`\sigma(L/\tau)` of a scalar log hazard is a Bernoulli
   probability; :math:`L_{KD}` is the Bernoulli KL, summed over output units (works for
   ``[B]`` Cox outputs and ``[B, K]`` hazard logits alike).
5. :math:`L_{ARR}`. See :func:`loss_arr`: the extracted formula
   ``log(2σ(LKD)1)+LSURVsLSURVtlog(22σ(LKD)+ε)`` lost its minus signs; we read it as a weighted
   binary cross-entropy of :math:`p = 2\sigma(L_{KD}) - 1`.
6. :math:`L_{SURV}` ratio in :math:`L_{ARR}` is treated as a weight (detached): it modulates the
   distillation, it is not itself optimised through :math:`L_{ARR}`.
7. "Transformer-style" self-attention is the pre-norm residual layer
   :math:`h = z + \mathrm{softmax}(qk^\top/\sqrt d)\,v` (:math:`q, k, v` from
   :math:`\mathrm{LN}(z)`); the cross-attention outputs carry no residual.
8. Not in the paper: :attr:`AMKDConfig.arr_warmup` trains the first epochs with
   :math:`\alpha = 1` (default 0 = as printed). At initialisation :math:`L_{KD}` is tiny and the
   :math:`L_{ARR}` barrier's gradient (about :math:`(1-\alpha)/L_{KD}`) pushes every patient's
   risk away from the teacher's, i.e. toward the reverse of the teacher's ranking; the paper
   motivates :math:`L_{ARR}` by "later training stages".
"""

from survlib.models.distill.config import ARR_EPS, AMKDConfig
from survlib.models.distill.cost import student_flops
from survlib.models.distill.losses import (
    ARR_READINGS,
    AMKDLosses,
    amkd_losses,
    amkd_objective,
    arr_minimiser,
    arr_readings,
    loss_arr,
    loss_ge,
    loss_kd,
)
from survlib.models.distill.networks import (
    AMKDStudent,
    AMKDTeacher,
    MILConcat,
    MILTeacher,
    SparsePathwayMLP,
    StudentOutput,
    TeacherOutput,
)
from survlib.models.distill.training import (
    FitSummary,
    cox_batches,
    fit_student,
    fit_teacher,
    teacher_targets,
)

__all__ = [
    "ARR_EPS",
    "ARR_READINGS",
    "AMKDConfig",
    "AMKDLosses",
    "AMKDStudent",
    "AMKDTeacher",
    "FitSummary",
    "MILConcat",
    "MILTeacher",
    "SparsePathwayMLP",
    "StudentOutput",
    "TeacherOutput",
    "amkd_losses",
    "amkd_objective",
    "arr_minimiser",
    "arr_readings",
    "cox_batches",
    "fit_student",
    "fit_teacher",
    "loss_arr",
    "loss_ge",
    "loss_kd",
    "student_flops",
    "teacher_targets",
]
