r"""Hyper-parameters of AMKD's student objective and its training (:class:`AMKDConfig`), and the
:math:`\varepsilon` of :math:`L_{ARR}`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ARR_EPS", "AMKDConfig"]


#: The small constant the paper adds inside the logarithms of :math:`L_{ARR}` (Sec. 2.5).
ARR_EPS: float = 1e-6


@dataclass
class AMKDConfig:
    r"""Hyper-parameters of the student objective and its training.

    Attributes:
        alpha: :math:`\alpha` of :func:`amkd_objective` (paper: 0.75).
        tau_ge: temperature of :math:`L_{GE}`.
        tau_kd: temperature of :math:`L_{KD}`.
        use_ge: include :math:`L_{GE}` (Table 5: "w/o L_ARR and L_GE" sets False).
        use_arr: include :math:`L_{ARR}` (False is the same as ``alpha = 1``).
        eps: :math:`\varepsilon` of :math:`L_{ARR}`.
        lr, weight_decay: Adam (paper: 5e-5 and 1e-5 for 100 epochs on UNI features; our
            small simulated cohorts train faster with a larger rate).
        batch_size: patients per mini-batch (the Cox loss needs events in each batch).
        max_epochs, patience: early stopping on the validation Cox loss.
        grad_clip: gradient-norm clip.
        arr_warmup: epochs trained with ``alpha = 1`` before :math:`L_{ARR}` is switched on
            (ours, documented in :func:`fit_student`; 0 = from the first step, as written).
    """

    alpha: float = 0.75
    tau_ge: float = 1.0
    tau_kd: float = 1.0
    use_ge: bool = True
    use_arr: bool = True
    eps: float = ARR_EPS
    lr: float = 1e-3
    weight_decay: float = 1e-5
    batch_size: int = 32
    max_epochs: int = 60
    patience: int = 10
    grad_clip: float | None = 5.0
    arr_warmup: int = 0
