"""survlib.train.adam: the fused kernel where it applies, the same update as the default."""

from __future__ import annotations

import copy

import pytest
import torch

from survlib.train import adam


def _steps(model: torch.nn.Module, opt: torch.optim.Optimizer, n: int = 25) -> None:
    gen = torch.Generator().manual_seed(0)
    for _ in range(n):
        x = torch.randn(16, 8, generator=gen)
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()


def test_adam_is_fused_and_matches_the_default_kernel() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    twin = copy.deepcopy(model)
    opt = adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
    assert opt.defaults["fused"] is True and opt.defaults["weight_decay"] == 1e-3
    _steps(model, opt)
    _steps(twin, torch.optim.Adam(twin.parameters(), lr=1e-2, weight_decay=1e-3))
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_adam_falls_back_where_fused_does_not_apply() -> None:
    cpu = [torch.nn.Parameter(torch.zeros(3))]
    meta = [torch.nn.Parameter(torch.zeros(3, device="meta"))]  # no fused kernel there
    assert adam(cpu, lr=1e-3).defaults["fused"] is True
    assert not adam(meta, lr=1e-3).defaults.get("fused")
    with pytest.raises(ValueError):
        adam([], lr=1e-3)  # torch's own error for an empty parameter list
