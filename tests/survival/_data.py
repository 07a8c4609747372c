"""Simulated survival data shared by the survival tests (not a test module)."""

from __future__ import annotations

import numpy as np


def _simulated(n: int = 300, seed: int = 0):
    """Exponential times with a planted linear risk and uniform censoring (simulated)."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    t_event = rng.exponential(30.0 * np.exp(-risk))
    t_cens = rng.uniform(0, 120, size=n)
    time = np.minimum(t_event, t_cens) + 0.1
    event = (t_event <= t_cens).astype(int)
    return risk, time, event


def _split():
    risk, time, event = _simulated(400, seed=7)
    return risk, time, event, np.arange(400) < 250
