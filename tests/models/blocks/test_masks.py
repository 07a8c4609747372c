"""Masked operations (survlib.models.blocks.masks): the masked mean and the masked softmax ignore
padded entries exactly."""

from __future__ import annotations

import torch

from survlib.models.blocks import masked_mean, masked_softmax


def test_masked_helpers() -> None:
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    m = torch.tensor([[True, True, False]])
    assert masked_mean(x, m).item() == 2.0
    w = masked_softmax(torch.tensor([[0.0, 0.0, 50.0]]), m)
    torch.testing.assert_close(w, torch.tensor([[0.5, 0.5, 0.0]]))
