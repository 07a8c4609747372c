r"""AMKD's losses: :math:`L_{GE}`, :math:`L_{KD}`, :math:`L_{ARR}` (with its minimiser and the
candidate sign readings of the extracted formula), the student objective, and all terms on one
batch (:func:`amkd_losses`). Pure functions of tensors; equations in each docstring."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from survlib.models.blocks import masked_mean
from survlib.models.distill.config import ARR_EPS, AMKDConfig
from survlib.models.distill.networks import StudentOutput, TeacherOutput
from survlib.survival import cox_partial_likelihood

__all__ = [
    "ARR_READINGS",
    "AMKDLosses",
    "amkd_losses",
    "amkd_objective",
    "arr_minimiser",
    "arr_readings",
    "loss_arr",
    "loss_ge",
    "loss_kd",
]


def _check_tau(tau: float) -> float:
    tau = float(tau)
    if not tau > 0:
        raise ValueError(f"the temperature tau must be > 0, got {tau}")
    return tau


def loss_ge(
    student_g2p: torch.Tensor,
    teacher_g2p: torch.Tensor,
    tau: float = 1.0,
    patch_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Gene-enhancement loss :math:`L_{GE}` (Sec. 2.4): KL between feature distributions.

    For every patch :math:`i` the ``d`` features of the teacher's gene-guided representation
    :math:`h^t_{g2p,i}` and of the student's :math:`\tilde h^s_{g2p,i}` are turned into
    distributions by a softmax **along the feature dimension** at temperature :math:`\tau`,

    .. math::

        p^t_i = \mathrm{softmax}(h^t_{g2p,i}/\tau), \qquad
        p^s_i = \mathrm{softmax}(\tilde h^s_{g2p,i}/\tau),

    .. math::

        L_{GE} = \frac1B \sum_b \frac{1}{|\mathcal R_b|} \sum_{i \in \mathcal R_b}
                 D_{KL}(p^t_{bi} \,\|\, p^s_{bi})
               = \frac1B \sum_b \frac{1}{|\mathcal R_b|} \sum_{i \in \mathcal R_b} \sum_j
                 p^t_{bij}\,(\log p^t_{bij} - \log p^s_{bij})

    where :math:`\mathcal R_b` are patient :math:`b`'s real (unpadded) patches. The teacher is
    frozen: ``teacher_g2p`` is detached, so gradients reach the student only.

    **Reconstruction.** The paper writes :math:`D_{KL}(p^s\|p^t)`; we use the teacher-first
    direction of Hinton et al. (what ``F.kl_div(log p_s, p_t)`` computes). No :math:`\tau^2`
    factor (the paper writes none). The reduction (mean over a patient's patches, then over
    patients) is ours: the paper does not give one.

    Args:
        student_g2p: ``[B, N, d]`` (or ``[N, d]``) student features :math:`\tilde h^s_{g2p}`.
        teacher_g2p: same shape, teacher features :math:`h^t_{g2p}`.
        tau: temperature :math:`\tau > 0`.
        patch_mask: ``[B, N]`` bool (``True`` = real patch); ``None`` = all real.

    Returns:
        Scalar tensor, >= 0; exactly 0 when the two feature tensors are equal (or differ by a
        constant per patch, which the softmax ignores).

    Example:
        >>> import math, torch
        >>> s = torch.tensor([[[math.log(3.0), 0.0]]])  # p_s = (3/4, 1/4)
        >>> t = torch.zeros(1, 1, 2)                     # p_t = (1/2, 1/2)
        >>> round(loss_ge(s, t).item(), 6)               # (1/2) log(4/3)
        0.143841
    """
    tau = _check_tau(tau)
    if student_g2p.shape != teacher_g2p.shape:
        raise ValueError(
            f"loss_ge: student features {tuple(student_g2p.shape)} and teacher "
            f"features {tuple(teacher_g2p.shape)} must have the same shape"
        )
    s, t = student_g2p, teacher_g2p.detach()
    if s.ndim == 2:
        s, t = s.unsqueeze(0), t.unsqueeze(0)
        if patch_mask is not None and patch_mask.ndim == 1:
            patch_mask = patch_mask.unsqueeze(0)
    if s.ndim != 3:
        raise ValueError(f"loss_ge: features must be [B, N, d] or [N, d], got {tuple(s.shape)}")
    log_ps = F.log_softmax(s / tau, dim=-1)
    log_pt = F.log_softmax(t / tau, dim=-1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(dim=-1)  # [B, N]
    if patch_mask is None:
        return kl.mean()
    if patch_mask.shape != kl.shape:
        raise ValueError(
            f"loss_ge: patch_mask must have shape {tuple(kl.shape)}, got {tuple(patch_mask.shape)}"
        )
    return masked_mean(kl.unsqueeze(-1), patch_mask)[:, 0].mean()


def loss_kd(student_out: torch.Tensor, teacher_out: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    r"""Knowledge-distillation loss :math:`L_{KD}` on the survival outputs (Sec. 2.4).

    With the sigmoid :math:`\sigma` and temperature :math:`\tau`, each output unit :math:`u`
    (one log hazard for a Cox head, one hazard logit per bin for a discrete head) defines a
    Bernoulli probability, :math:`q^t_u = \sigma(L^t_u/\tau)`, :math:`q^s_u = \sigma(L^s_u/\tau)`:

    .. math::

        L_{KD} = \frac1B \sum_b \sum_u \Big[q^t_{bu} \log\frac{q^t_{bu}}{q^s_{bu}}
                 + (1-q^t_{bu}) \log\frac{1-q^t_{bu}}{1-q^s_{bu}}\Big]

    computed with ``logsigmoid`` (stable for large logits). The teacher output is detached.

    **Reconstruction.** The extracted text reads ``LKD=DKL(σ(Ls/τ)σ(Lt/τ))`` and "... and
    [symbol lost] is a temperature hyperparameter"; we use the teacher-first KL direction (see
    :func:`loss_ge`) and sum the Bernoulli KLs over output units.

    Args:
        student_out: ``[B]`` or ``[B, K]`` student logits :math:`L^s`.
        teacher_out: same shape, teacher logits :math:`L^t`.
        tau: temperature :math:`\tau > 0`.

    Returns:
        Scalar tensor >= 0, zero iff the outputs are equal.

    Example:
        >>> import math, torch
        >>> round(loss_kd(torch.tensor([math.log(3.0)]), torch.tensor([0.0])).item(), 6)
        0.143841
    """
    tau = _check_tau(tau)
    if student_out.shape != teacher_out.shape:
        raise ValueError(
            f"loss_kd: student output {tuple(student_out.shape)} and teacher "
            f"output {tuple(teacher_out.shape)} must have the same shape"
        )
    s, t = student_out / tau, teacher_out.detach() / tau
    if s.ndim == 1:
        s, t = s.unsqueeze(-1), t.unsqueeze(-1)
    log_qt, log_1mqt = F.logsigmoid(t), F.logsigmoid(-t)
    log_qs, log_1mqs = F.logsigmoid(s), F.logsigmoid(-s)
    kl = log_qt.exp() * (log_qt - log_qs) + log_1mqt.exp() * (log_1mqt - log_1mqs)
    return kl.sum(dim=-1).mean()


def loss_arr(
    l_kd: torch.Tensor,
    surv_student: torch.Tensor | float,
    surv_teacher: torch.Tensor | float,
    eps: float = ARR_EPS,
    detach_ratio: bool = True,
) -> torch.Tensor:
    r"""Adaptive redundancy-reduction loss :math:`L_{ARR}` (Sec. 2.5, reconstructed).

    With :math:`p = 2\sigma(L_{KD}) - 1 = \tanh(L_{KD}/2) \in [0, 1)` (the distillation gap
    mapped to a probability; :math:`1 - p = 2 - 2\sigma(L_{KD})`) and the survival-loss ratio
    :math:`r = L^s_{SURV} / L^t_{SURV}`:

    .. math::

        L_{ARR} = -\log\big(2\sigma(L_{KD}) - 1 + \varepsilon\big)
                  - \frac{L^s_{SURV}}{L^t_{SURV}}\,\log\big(2 - 2\sigma(L_{KD}) + \varepsilon\big)

    a binary cross-entropy with weight 1 on ":math:`p`" and weight :math:`r` on
    ":math:`1-p`". As a function of :math:`L_{KD}` it is convex (:math:`-\log\tanh(L/2)` plus
    :math:`r` times a softplus) with a unique minimiser (for :math:`\varepsilon \to 0`)

    .. math:: p^\star = \frac{1}{1 + r} = \frac{L^t_{SURV}}{L^t_{SURV} + L^s_{SURV}},
              \qquad L_{KD}^\star = \log\Big(1 + \frac{2}{r}\Big)

    (:func:`arr_minimiser`). The second term is the teacher supervision (it pulls
    :math:`L_{KD}` down), weighted by :math:`r`; the first is a barrier that keeps the student
    from collapsing onto the teacher (the "redundancy"):

    * student much **worse** than the teacher (:math:`r \to \infty`): :math:`L^\star_{KD}
      \to 0`, full reliance on the teacher;
    * student much **better** (:math:`r \to 0`): :math:`L^\star_{KD} \to \infty`, the teacher's
      pull vanishes and the student is not forced back toward an inferior solution;
    * equal (:math:`r = 1`): :math:`p^\star = 1/2`, :math:`L^\star_{KD} = \log 3`.

    **Reconstruction.** The extracted formula reads
    ``LARR=log(2σ(LKD)1)+LSURVsLSURVtlog(22σ(LKD)+ε)``: the minus signs (U+2212) were lost,
    as elsewhere in the extraction (the NLL of Sec. 2.1 lost its leading minus). Inside the
    logs, ``2σ(LKD)1`` and ``22σ(LKD)`` can only be :math:`2\sigma-1` and :math:`2-2\sigma`
    (the arguments must lie in [0, 1]). Of the sign patterns that keep the surviving ``+``,
    the literal :math:`\log(2\sigma-1) + r\log(2-2\sigma)` has its stationary point as a
    *maximum*: minimising it drives :math:`L_{KD}` to 0 or to infinity (clamped only by
    :math:`\varepsilon`), and its repelling term grows when the student is *worse*, the
    opposite of the text ("down-weights teacher supervision when the student demonstrates
    stronger survival prediction ability"). The negative weighted log-likelihood above
    (the ``-[...]`` bracket lost in extraction) is bounded below, has one minimiser, and
    behaves as the text says in both limits. The paper adds :math:`\varepsilon` to "the
    logarithm arguments" (plural) but prints it in the second only; we add it to both (the
    first is :math:`\log 0` at :math:`L_{KD} = 0`). The ratio is computed with
    :math:`L^t_{SURV} + \varepsilon` in the denominator and detached by default (a weight, not
    an objective; the paper does not say).

    Args:
        l_kd: scalar tensor :math:`L_{KD} \ge 0` (gradients flow through it).
        surv_student: :math:`L^s_{SURV} \ge 0` (scalar tensor or float).
        surv_teacher: :math:`L^t_{SURV} \ge 0` (the frozen teacher's loss on the same batch).
        eps: :math:`\varepsilon` (paper: 1e-6).
        detach_ratio: treat :math:`r` as a constant weight (default).

    Returns:
        Scalar tensor.

    Example:
        >>> import math, torch
        >>> round(loss_arr(torch.tensor(math.log(3.0)), 1.0, 1.0).item(), 4)  # 2 log 2
        1.3863
    """
    if not isinstance(l_kd, torch.Tensor):
        l_kd = torch.as_tensor(float(l_kd))
    if l_kd.ndim != 0:
        raise ValueError(f"loss_arr: l_kd must be a scalar, got shape {tuple(l_kd.shape)}")
    s = torch.as_tensor(surv_student, dtype=l_kd.dtype, device=l_kd.device)
    t = torch.as_tensor(surv_teacher, dtype=l_kd.dtype, device=l_kd.device).detach()
    if bool((s.detach() < 0).any()) or bool((t < 0).any()):
        raise ValueError(
            f"loss_arr: survival losses must be >= 0, got student "
            f"{float(s.detach())}, teacher {float(t)}"
        )
    if bool((l_kd.detach() < -1e-6).any()):
        raise ValueError(f"loss_arr: L_KD must be >= 0 (a KL divergence), got {float(l_kd)}")
    ratio = s / (t + eps)
    if detach_ratio:
        ratio = ratio.detach()
    sig = torch.sigmoid(l_kd)
    return -torch.log(2.0 * sig - 1.0 + eps) - ratio * torch.log(2.0 - 2.0 * sig + eps)


def arr_minimiser(ratio: float) -> float:
    r"""Where :math:`L_{ARR}` pulls the distillation gap: :math:`L_{KD}^\star = \log(1 + 2/r)`.

    The minimiser over :math:`L_{KD}` of :func:`loss_arr` for :math:`\varepsilon \to 0` and a
    survival-loss ratio :math:`r = L^s_{SURV}/L^t_{SURV} > 0` (``inf`` for ``r = 0``).
    """
    ratio = float(ratio)
    if ratio < 0:
        raise ValueError(f"arr_minimiser: ratio must be >= 0, got {ratio}")
    return math.inf if ratio == 0 else math.log1p(2.0 / ratio)


#: The candidate sign patterns of the extracted :math:`L_{ARR}` (see :func:`arr_readings`).
ARR_READINGS: dict[str, str] = {
    "-[a + r b] (trained)": "-log(2σ-1) - r log(2-2σ)",
    "a + r b (literal)": "log(2σ-1) + r log(2-2σ)",
    "-a + r b": "-log(2σ-1) + r log(2-2σ)",
    "a - r b": "log(2σ-1) - r log(2-2σ)",
}


def arr_readings(
    l_kd: torch.Tensor | float, ratio: float, eps: float = ARR_EPS
) -> dict[str, torch.Tensor]:
    r"""Every sign pattern of the extracted :math:`L_{ARR}`, as functions of :math:`L_{KD}`.

    With :math:`a = \log(2\sigma(L_{KD}) - 1 + \varepsilon)` (increasing in :math:`L_{KD}`,
    steepest near 0) and :math:`b = \log(2 - 2\sigma(L_{KD}) + \varepsilon)` (decreasing):

    * ``"-[a + r b] (trained)"`` — :func:`loss_arr`: a barrier near 0 (pushes the student
      *away* from the teacher when :math:`L_{KD}` is small) plus a pull weighted by
      :math:`r`; one minimiser :math:`\log(1 + 2/r)`. Fits the second sentence of Sec. 2.5,
      not the first; needs a lost bracket.
    * ``"a + r b (literal)"`` — the printed signs: ``a`` pulls :math:`L_{KD}` to 0 (the first
      sentence) but ``r b`` pushes away *more* when the student is worse (against the second);
      minimised only at the :math:`\varepsilon` clamps.
    * ``"-a + r b"`` — both terms push the student away from the teacher, always.
    * ``"a - r b"`` — both terms pull toward the teacher (satisfies both sentences) but the
      printed ``+`` must then be a ``-``, and it has no interior minimiser: it only adds
      distillation (:math:`L_{KD} \to 0`), with nothing "reduced".

    Returns:
        ``{name: tensor}`` (the names of :data:`ARR_READINGS`), elementwise in ``l_kd``.
    """
    x = torch.as_tensor(l_kd, dtype=torch.float64)
    sig = torch.sigmoid(x)
    a = torch.log(2.0 * sig - 1.0 + eps)
    b = torch.log(2.0 - 2.0 * sig + eps)
    r = float(ratio)
    return {
        "-[a + r b] (trained)": -a - r * b,
        "a + r b (literal)": a + r * b,
        "-a + r b": -a + r * b,
        "a - r b": a - r * b,
    }


def amkd_objective(
    l_ge: torch.Tensor | float,
    l_kd: torch.Tensor | float,
    l_surv: torch.Tensor,
    l_arr: torch.Tensor | float,
    alpha: float = 0.75,
) -> torch.Tensor:
    r"""The student's objective (Sec. 2.5):

    .. math:: L_{STU} = \alpha\,(L_{GE} + L_{KD} + L^s_{SURV}) + (1 - \alpha)\,L_{ARR}

    ``alpha = 1`` is plain distillation (the ARR term has weight 0 and no gradient);
    ``alpha = 0`` trains on :math:`L_{ARR}` alone. The paper's best value is 0.75.
    Ablations drop a term by passing 0 for it.
    """
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    standard = l_ge + l_kd + l_surv
    if alpha == 1.0:
        return standard  # (1 - alpha) * L_ARR is exactly 0: skip it (also its eps-sized NaNs)
    return alpha * standard + (1.0 - alpha) * l_arr


@dataclass
class AMKDLosses:
    """Every term of the student objective on one batch (tensors; ``total`` is optimised)."""

    total: torch.Tensor
    ge: torch.Tensor
    kd: torch.Tensor
    surv: torch.Tensor
    arr: torch.Tensor
    surv_teacher: torch.Tensor

    def as_dict(self) -> dict[str, float]:
        return {
            k: float(getattr(self, k).detach())
            for k in ("total", "ge", "kd", "surv", "arr", "surv_teacher")
        }


def amkd_losses(
    student: StudentOutput,
    teacher: TeacherOutput,
    time: torch.Tensor,
    event: torch.Tensor,
    patch_mask: torch.Tensor,
    config: AMKDConfig | None = None,
) -> AMKDLosses:
    r"""All terms of the student objective on one batch.

    :math:`L^s_{SURV}` and :math:`L^t_{SURV}` are the Cox losses of the student's and the
    (frozen) teacher's risks on the batch; :math:`L_{GE}` compares the gene-guided patch
    features, :math:`L_{KD}` the risks; :math:`L_{ARR}` uses :math:`L_{KD}` and the ratio of
    the survival losses; ``total`` is :func:`amkd_objective`. Teacher tensors are detached.
    """
    cfg = config or AMKDConfig()
    surv = cox_partial_likelihood(student.risk, time, event)
    with torch.no_grad():
        surv_t = cox_partial_likelihood(teacher.risk.detach(), time, event)
    zero = surv.new_zeros(())
    ge = loss_ge(student.g2p, teacher.g2p, cfg.tau_ge, patch_mask) if cfg.use_ge else zero
    kd = loss_kd(student.risk, teacher.risk, cfg.tau_kd)
    use_arr = cfg.use_arr and cfg.alpha < 1.0
    arr = loss_arr(kd, surv, surv_t, eps=cfg.eps) if use_arr else zero
    total = amkd_objective(ge, kd, surv, arr, cfg.alpha if use_arr else 1.0)
    return AMKDLosses(total=total, ge=ge, kd=kd, surv=surv, arr=arr, surv_teacher=surv_t)
