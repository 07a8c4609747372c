r"""Survival losses: pure functions of tensors whose gradients flow to the model output.

- :func:`cox_partial_likelihood`: negative log Cox partial likelihood (Efron / Breslow ties);
- :func:`nll_discrete`: logistic-hazard negative log-likelihood (SurvPath / SurvPGC).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from survlib._core.validation import check_bin_indices, check_time_event_tensors
from survlib.survival._arrays import ArrayLike

__all__ = ["cox_partial_likelihood", "nll_discrete"]


def _as_tensor(x: ArrayLike, like: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` as a tensor on ``like``'s device (no copy when it already is one there)."""
    if isinstance(x, torch.Tensor):
        return x.to(like.device)
    try:
        return torch.as_tensor(np.asarray(x), device=like.device)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric, could not convert: {err}") from err


def _flatten_scores(x: torch.Tensor, name: str) -> torch.Tensor:
    """Accept ``[N]`` or ``[N, 1]`` and return ``[N]``."""
    if x.ndim == 2 and x.shape[1] == 1:
        return x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"{name} must have shape [N] or [N, 1], got {tuple(x.shape)}")
    return x


def cox_partial_likelihood(
    log_hz: torch.Tensor,
    time: ArrayLike,
    event: ArrayLike,
    ties: Literal["efron", "breslow"] = "efron",
) -> torch.Tensor:
    r"""Negative log Cox partial likelihood, averaged over the observed events.

    Let :math:`\eta_i` be the log relative hazard of patient :math:`i` (``log_hz``), the
    distinct event times :math:`t_1 < t_2 < \dots`, :math:`H_k` the patients who die at
    :math:`t_k` (:math:`m_k = |H_k|`), :math:`R_k = \{j : T_j \ge t_k\}` the risk set,
    :math:`D_k = \sum_{j \in R_k} e^{\eta_j}` and :math:`E_k = \sum_{i \in H_k} e^{\eta_i}`.

    Breslow's handling of tied event times:

    .. math::

        \ell = \sum_k \Big[\sum_{i \in H_k} \eta_i - m_k \log D_k\Big]

    Efron's (the default; also lifelines' and R ``coxph``'s default):

    .. math::

        \ell = \sum_k \Big[\sum_{i \in H_k} \eta_i
               - \sum_{r=0}^{m_k - 1} \log\big(D_k - \tfrac{r}{m_k} E_k\big)\Big]

    Without ties both equal Cox's partial likelihood. The function returns
    :math:`-\ell / \sum_i \delta_i` (mean over events, not over unique event times), so its
    value does not depend on the batch size and its minimiser is the Cox estimate.

    Implementation: one sort by time, reverse cumulative sums for the risk sets and
    ``index_add`` over the unique times for the tied groups (no loop over samples). The risk
    sets are summed in log space (``logcumsumexp``) and Efron's correction is applied as
    :math:`\log D_k + \log(1 - \tfrac{r}{m_k} E_k / D_k)`, so the loss and its gradient stay
    finite however far apart the log hazards are (a spread beyond ~87 underflows float32
    exponentials and made the old shifted-exponential form return NaN gradients). Times are tied
    when they are exactly equal.

    Args:
        log_hz: float tensor ``[N]`` or ``[N, 1]``, the model's log relative hazard (higher =
            earlier death). Gradients flow to it.
        time: ``[N]`` follow-up times (tensor or array).
        event: ``[N]`` 1 = death observed, 0 = censored (bool, int or float).
        ties: ``"efron"`` or ``"breslow"``.

    Returns:
        Scalar tensor (same dtype and device as ``log_hz``).

    Raises:
        ValueError: shapes disagree, ``ties`` unknown, or the batch has no observed event
            (the partial likelihood is then undefined: use batches that contain events).

    Example:
        >>> import torch
        >>> log_hz = torch.tensor([0.0, 0.6931, 0.0], requires_grad=True)
        >>> loss = cox_partial_likelihood(log_hz, time=[1.0, 1.0, 2.0], event=[1, 1, 0])
        >>> round(loss.item(), 4)  # -(log 2 - log 4 - log 2.5) / 2
        0.8047
        >>> loss.backward()
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    if not isinstance(log_hz, torch.Tensor):
        raise ValueError(f"log_hz must be a torch.Tensor, got {type(log_hz).__name__}")
    eta = _flatten_scores(log_hz, "log_hz")
    t = _flatten_scores(_as_tensor(time, eta, "time"), "time")
    e = _flatten_scores(_as_tensor(event, eta, "event"), "event")
    if not (eta.shape[0] == t.shape[0] == e.shape[0]):
        raise ValueError(
            f"cox_partial_likelihood: log_hz has {eta.shape[0]} values, time {t.shape[0]}, "
            f"event {e.shape[0]}; they must match"
        )
    check_time_event_tensors(t, e, "cox_partial_likelihood")
    e = e != 0
    n_events = int(e.sum().item())
    if n_events == 0:
        raise ValueError(
            "cox_partial_likelihood: no observed events in this batch (all censored); the "
            "partial likelihood is undefined. Use larger batches or stratify batches by event."
        )

    order = torch.argsort(t.detach(), stable=True)
    t_s, e_s, eta_s = t[order], e[order], eta[order]
    # log risk-set sums: at sorted position i, log sum_{j >= i} exp(eta_j), a reverse
    # log-cum-sum-exp (no exponential of a large or very negative eta is ever formed, so risk
    # sets whose terms underflow in float32 still give finite values and gradients)
    log_rev_cum = torch.flip(torch.logcumsumexp(torch.flip(eta_s, [0]), 0), [0])
    _, group, counts = torch.unique_consecutive(t_s, return_inverse=True, return_counts=True)
    first = torch.cumsum(counts, 0) - counts  # first sorted position of each unique time
    ev_group = group[e_s]  # unique-time index of each event
    log_d_ev = log_rev_cum[first][ev_group]  # log D_k for every event

    if ties == "breslow":
        log_den = log_d_ev
    else:
        n_unique = counts.shape[0]
        # E_k / D_k = sum_{i in H_k} exp(eta_i - log D_k), each term in (0, 1]
        ratio = torch.zeros(n_unique, dtype=eta_s.dtype, device=eta_s.device).index_add(
            0, ev_group, torch.exp(eta_s[e_s] - log_d_ev)
        )
        m = torch.zeros(n_unique, dtype=eta_s.dtype, device=eta_s.device).index_add(
            0, ev_group, torch.ones_like(log_d_ev)
        )  # m_k
        cum_events = torch.cumsum(e_s.long(), 0)  # events up to and including position i
        before = cum_events[first] - e_s[first].long()  # events before each unique time
        rank = (cum_events[e_s] - 1 - before[ev_group]).to(eta_s.dtype)  # r = 0 .. m_k - 1
        # log(D_k - r/m_k E_k) = log D_k + log(1 - r/m_k * E_k/D_k); the argument is >= 1/m_k
        log_den = log_d_ev + torch.log1p(-(rank / m[ev_group]) * ratio[ev_group])

    log_lik = (eta_s[e_s] - log_den).sum()
    return -log_lik / n_events


def nll_discrete(
    logits: torch.Tensor,
    bin_index: ArrayLike,
    event: ArrayLike,
    alpha: float = 0.0,
) -> torch.Tensor:
    r"""Logistic-hazard negative log-likelihood of a discrete-time survival model.

    The model outputs one logit per time bin; the hazard of bin :math:`k` is
    :math:`h_k = \sigma(z_k)` (probability of dying in bin :math:`k` having survived to it) and
    the survival through bin :math:`k` is :math:`S_k = \prod_{j \le k} (1 - h_j)`,
    :math:`S_{-1} = 1`. For a patient whose time falls in bin :math:`y`:

    .. math::

        \mathcal{L}_\text{unc} = -\delta\,\big[\log S_{y-1} + \log h_y\big], \qquad
        \mathcal{L}_\text{cens} = -(1 - \delta)\,\log S_y

    (a censored patient survives through its own bin), and

    .. math::

        \mathcal{L} = \frac{1}{N}\sum_i (1-\alpha)\,(\mathcal{L}_\text{unc} +
        \mathcal{L}_\text{cens}) + \alpha\,\mathcal{L}_\text{unc}

    which is the form of SurvPath's / SurvPGC's ``NLLSurvLoss`` (``alpha`` up-weights the
    uncensored term; the papers use ``alpha = 0``). Logs are computed with ``logsigmoid``
    (:math:`\log h = \log\sigma(z)`, :math:`\log(1-h) = \log\sigma(-z)`), so no clamping is
    needed; the reference codes clamp probabilities at ``1e-7`` instead, which only matters
    for extreme logits.

    Args:
        logits: float tensor ``[N, K]`` (K = number of bins).
        bin_index: ``[N]`` integer bin of each patient's time, in ``[0, K-1]`` (see
            :meth:`TimeBins.transform`).
        event: ``[N]`` 1 = death observed, 0 = censored.
        alpha: weight of the extra uncensored term, in ``[0, 1]``.

    Returns:
        Scalar tensor: the mean over patients.

    Example:
        >>> import torch
        >>> logits = torch.zeros(2, 2)  # every hazard is 1/2
        >>> loss = nll_discrete(logits, bin_index=[1, 0], event=[1, 0])
        >>> round(loss.item(), 4)  # (2 log 2 + log 2) / 2
        1.0397
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError(
            f"logits must be a tensor of shape [N, K], got "
            f"{tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}"
        )
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    n, k = logits.shape
    y_raw = _as_tensor(bin_index, logits, "bin_index").reshape(-1)
    e_raw = _as_tensor(event, logits, "event").reshape(-1)
    if y_raw.shape[0] == n == e_raw.shape[0] and n:
        check_bin_indices(y_raw, k, "nll_discrete", event=e_raw)
    y = y_raw.long()
    e = e_raw.to(logits.dtype)
    if y.shape[0] != n or e.shape[0] != n:
        raise ValueError(
            f"nll_discrete: logits has {n} rows, bin_index {y.shape[0]}, event {e.shape[0]}"
        )
    if n == 0:
        raise ValueError("nll_discrete: empty batch")
    if int(y.min().item()) < 0 or int(y.max().item()) >= k:
        raise ValueError(
            f"nll_discrete: bin_index must lie in [0, {k - 1}] for {k} bins, got range "
            f"[{int(y.min().item())}, {int(y.max().item())}]"
        )
    log_h = F.logsigmoid(logits)  # log h_k
    log_s = torch.cumsum(F.logsigmoid(-logits), dim=1)  # log S_k
    log_s_pad = torch.cat([torch.zeros_like(log_s[:, :1]), log_s], dim=1)  # log S_{k-1}, k=0..K
    y1 = y.unsqueeze(1)
    log_s_prev = log_s_pad.gather(1, y1).squeeze(1)  # log S_{y-1}
    log_h_this = log_h.gather(1, y1).squeeze(1)  # log h_y
    log_s_this = log_s_pad.gather(1, y1 + 1).squeeze(1)  # log S_y
    uncensored = -e * (log_s_prev + log_h_this)
    censored = -(1.0 - e) * log_s_this
    loss = (1.0 - alpha) * (uncensored + censored) + alpha * uncensored
    return loss.mean()
