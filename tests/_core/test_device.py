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


# ------------------------------------------------------------------------------------------
# SURVLIB_DEVICE: what "auto" picks
# ------------------------------------------------------------------------------------------


def test_device_env_overrides_auto_only(monkeypatch):
    from survlib._core.device import DEVICE_ENV

    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert tr.pick_device("auto") == torch.device("cpu")  # also on a GPU machine
    monkeypatch.setenv(DEVICE_ENV, " CPU ")
    assert tr.pick_device("auto") == torch.device("cpu")
    for unset in ("", "auto"):
        monkeypatch.setenv(DEVICE_ENV, unset)
        assert tr.pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv(DEVICE_ENV, "meta")
    assert tr.pick_device("cpu") == torch.device("cpu")  # an explicit device wins
    assert tr.pick_device("auto") == torch.device("meta")


def test_device_env_bad_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("SURVLIB_DEVICE", "gpu-please")
    with pytest.raises(ValueError, match="SURVLIB_DEVICE='gpu-please'"):
        tr.pick_device("auto")
    if not torch.cuda.is_available():
        monkeypatch.setenv("SURVLIB_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="SURVLIB_DEVICE='cuda'.*CUDA is not available"):
            tr.pick_device("auto")
    else:  # pragma: no cover - GPU machines
        monkeypatch.setenv("SURVLIB_DEVICE", f"cuda:{torch.cuda.device_count()}")
        with pytest.raises(RuntimeError, match="SURVLIB_DEVICE"):
            tr.pick_device("auto")


# ------------------------------------------------------------------------------------------
# precision: resolve_precision and autocast
# ------------------------------------------------------------------------------------------


def test_resolve_precision(monkeypatch):
    from survlib._core.device import PRECISION_ENV, resolve_precision

    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert resolve_precision() == "fp32"
    assert resolve_precision("bf16") == "bf16" and resolve_precision("BFloat16") == "bf16"
    assert resolve_precision("float32") == "fp32"
    monkeypatch.setenv(PRECISION_ENV, "bf16")
    assert resolve_precision() == "bf16"
    assert resolve_precision("fp32") == "fp32"  # an explicit choice wins
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(ValueError, match="SURVLIB_PRECISION .*got 'fp16'"):
        resolve_precision()
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("half")
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision(16)  # type: ignore[arg-type]


def test_autocast_context():
    from survlib._core.device import autocast

    a = torch.randn(4, 8)
    b = torch.randn(8, 3)
    with autocast("cpu", "fp32"):
        assert (a @ b).dtype == torch.float32
    with autocast("cpu", "bf16"):
        out = a @ b
        assert out.dtype == torch.bfloat16
        loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out, dtype=torch.float32))
        assert loss.dtype == torch.float32  # on CPU autocast's float32 list
    assert (a @ b).dtype == torch.float32  # nothing leaks out of the context
    with pytest.raises(ValueError, match="not on 'mps'"):
        autocast("mps", "bf16")
    with pytest.raises(ValueError, match="precision must be one of"):
        autocast("cpu", "fp16")
