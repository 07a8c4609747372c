r"""The survival core: losses, time bins, survival curves and metrics.

Conventions (the whole book follows them): ``event = 1`` means death observed, ``0`` censored;
times are in **months**; a higher risk score means an earlier expected death.

Losses (pure functions of tensors, gradients flow to the model output)
    :func:`cox_partial_likelihood`  negative log Cox partial likelihood (Efron / Breslow ties)
    :func:`nll_discrete`            logistic-hazard negative log-likelihood (SurvPath / SurvPGC)

Targets and curves
    :class:`TimeBins`, :func:`make_time_bins`   time discretisation as a fitted transformer
    :func:`discrete_survival`, :func:`discrete_risk`, :func:`survival_at_times`,
    :func:`breslow_survival`

Metrics (thin wrappers over scikit-survival and lifelines; inputs are validated)
    :func:`concordance`, :func:`uno_concordance`, :func:`td_auc`, :func:`iauc`,
    :func:`integrated_brier`, :func:`km_curve`, :func:`logrank_p`, :func:`median_split`

Evaluation window of the IPCW metrics (Uno's C, td-AUC, iAUC, integrated Brier)
    These metrics weight test patients by the inverse of the *training* censoring
    distribution, which is only estimable up to the largest training follow-up time
    ``t_max``. Test patients followed beyond ``t_max`` are therefore administratively censored
    at ``t_max`` (a warning says how many). This leaves every quantity evaluated before
    ``t_max`` unchanged. Requested evaluation times must lie in
    ``[min test time, max test time)`` (scikit-survival's rule, after that censoring); with
    ``out_of_range="drop"`` (default) a time outside it gives ``NaN`` (and is left out of the
    integrals) with a warning, with ``out_of_range="raise"`` it is an error. Times are never
    silently moved: an "AUC at 60 months" is computed at 60 months or not at all.

Modules::

    :mod:`~survlib.survival.losses`     the two likelihoods (tensors in, scalar tensor out)
    :mod:`~survlib.survival.bins`       time bins and survival curves (discrete, Breslow)
    :mod:`~survlib.survival.metrics`    C-index, Uno's C, td-AUC, iAUC, Brier, the fold metrics,
                                        :data:`DEFAULT_TIMES`
    :mod:`~survlib.survival.km`         Kaplan-Meier curves, log-rank test, risk groups
    :mod:`~survlib.survival.bootstrap`  bootstrap CIs (C-index, a mean over seeds) and a paired
                                        test of the C-index
"""

from survlib.survival.bins import (
    TimeBins,
    breslow_survival,
    discrete_risk,
    discrete_survival,
    make_time_bins,
    survival_at_times,
)
from survlib.survival.bootstrap import bootstrap_cindex, bootstrap_mean_ci, paired_bootstrap_cindex
from survlib.survival.km import km_curve, logrank_p, median_split
from survlib.survival.losses import cox_partial_likelihood, nll_discrete
from survlib.survival.metrics import (
    DEFAULT_TIMES,
    concordance,
    fold_metrics,
    iauc,
    integrated_brier,
    released_td_auc,
    td_auc,
    uno_concordance,
)

__all__ = [
    "DEFAULT_TIMES",
    "TimeBins",
    "bootstrap_cindex",
    "bootstrap_mean_ci",
    "breslow_survival",
    "concordance",
    "cox_partial_likelihood",
    "discrete_risk",
    "discrete_survival",
    "fold_metrics",
    "iauc",
    "integrated_brier",
    "km_curve",
    "logrank_p",
    "make_time_bins",
    "median_split",
    "nll_discrete",
    "paired_bootstrap_cindex",
    "released_td_auc",
    "survival_at_times",
    "td_auc",
    "uno_concordance",
]
