"""Curves: Kaplan-Meier curves with the log-rank p (:func:`plot_km`) and time-dependent metrics
(:func:`plot_metric_over_time`), in the book's colour-blind-safe :data:`PALETTE`."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from survlib.survival import km_curve, logrank_p

__all__ = ["PALETTE", "plot_km", "plot_metric_over_time"]

# Colour-blind-safe palette (Okabe-Ito) used across the book.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def plot_km(
    time: Sequence[float] | np.ndarray,
    event: Sequence[int] | np.ndarray,
    groups: Sequence[str] | np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    show_ci: bool = True,
    at_risk_times: Sequence[float] | None = None,
    xlabel: str = "months",
) -> Axes:
    """Kaplan–Meier curves, one per group, with the log-rank p-value in the legend title.

    Args:
        time: follow-up in months.
        event: 1 = death observed, 0 = censored.
        groups: a label per patient (e.g. ``median_split(risk)``); ``None`` draws one curve.
        ax: axes to draw on (a new figure if ``None``).
        title: axes title.
        show_ci: shade the 95 % confidence band.
        at_risk_times: if given, print the number at risk per group under the x axis.
        xlabel: x-axis label.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(int)
    labels = np.full(time.shape, "all", dtype=object) if groups is None else np.asarray(groups)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    levels = list(pd.unique(labels))
    for colour, level in zip(PALETTE, levels, strict=False):
        sel = labels == level
        curve = km_curve(time[sel], event[sel])
        ax.step(
            curve["time"],
            curve["survival"],
            where="post",
            color=colour,
            label=f"{level} (n={int(sel.sum())})",
        )
        if show_ci:
            ax.fill_between(
                curve["time"],
                curve["lower"],
                curve["upper"],
                step="post",
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
        censored = sel & (event == 0)
        if censored.any():
            surv_at = np.interp(time[censored], curve["time"], curve["survival"])
            ax.plot(time[censored], surv_at, "|", color=colour, markersize=6, alpha=0.7)
    legend_title = None
    if len(levels) > 1:
        p = logrank_p(time, event, labels)
        legend_title = f"log-rank p = {p:.2g}"
    ax.legend(title=legend_title, frameon=False, fontsize=8, title_fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("survival probability")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    if title:
        ax.set_title(title)
    if at_risk_times is not None:
        rows = []
        for level in levels:
            t_sel = time[labels == level]
            counts = "  ".join(str(int((t_sel >= t).sum())) for t in at_risk_times)
            rows.append(f"{level}: " + counts)
        ax.text(
            0,
            -0.32,
            "at risk (" + ", ".join(f"{t:g}" for t in at_risk_times) + " mo)\n" + "\n".join(rows),
            transform=ax.transAxes,
            fontsize=7,
            va="top",
        )
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_metric_over_time(
    times: Sequence[float],
    values: dict[str, Sequence[float]],
    ax: Axes | None = None,
    ylabel: str = "time-dependent AUC",
    chance: float | None = 0.5,
) -> Axes:
    """Lines of a time-dependent metric (AUC, Brier) for several models."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.4))
    for colour, (name, vals) in zip(PALETTE, values.items(), strict=False):
        ax.plot(times, vals, "o-", color=colour, label=name)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("months")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
