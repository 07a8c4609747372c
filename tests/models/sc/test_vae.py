"""survlib.models.sc.vae: the ZIG-VAE likelihood, checked against a hand-written mixture."""

from __future__ import annotations

import numpy as np
import torch

from survlib.models.sc import zig_nll


def test_zig_nll_matches_the_formula():
    x = torch.tensor([[0.0, 1.5]])
    mean = torch.tensor([[0.5, 1.0]])
    logvar = torch.tensor([0.0, np.log(0.25)], dtype=torch.float32)
    pi_logit = torch.tensor([[0.0, -1.0]])
    pi = torch.sigmoid(pi_logit)
    normal = torch.distributions.Normal(mean, torch.exp(0.5 * logvar))
    expected = -(
        torch.log(pi[0, 0] + (1 - pi[0, 0]) * normal.log_prob(x).exp()[0, 0])
        + torch.log(1 - pi[0, 1])
        + normal.log_prob(x)[0, 1]
    )
    assert torch.allclose(zig_nll(x, mean, logvar, pi_logit), expected.reshape(1), atol=1e-5)
