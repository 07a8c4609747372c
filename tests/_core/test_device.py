"""Device choice and seeds (survlib._core.device, re-exported by survlib.train)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from survlib import train as tr

# ------------------------------------------------------------------------------------------
# device and seeds
# ------------------------------------------------------------------------------------------


def test_pick_device():
    assert tr.pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert tr.pick_device("auto").type == expected
    assert tr.pick_device(torch.device("cpu")) == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            tr.pick_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        tr.pick_device("gpu-please")


def test_seed_everything_reproducible():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    tr.seed_everything(123)
    a = draw()
    tr.seed_everything(123)
    assert draw() == a
    tr.seed_everything(124)
    assert draw() != a
    with pytest.raises(ValueError):
        tr.seed_everything(1.5)  # type: ignore[arg-type]
