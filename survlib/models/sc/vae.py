"""The ZIG-VAE of scSurvival: a zero-inflated Gaussian variational autoencoder with batch as a
conditional input (:class:`ZIGVAE`), its likelihood (:func:`zig_nll`) and the free-bits KL term
(:func:`kl_free_bits`). Pure ``torch``; no AnnData."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ZIGVAE", "kl_free_bits", "zig_nll"]

_LOG_2PI = math.log(2.0 * math.pi)


def zig_nll(x: Tensor, mean: Tensor, logvar: Tensor, pi_logit: Tensor) -> Tensor:
    r"""Negative log-likelihood of a zero-inflated Gaussian, per cell (summed over genes).

    With dropout probability :math:`\pi = \sigma(\ell)` and Gaussian
    :math:`\mathcal N(\mu, \sigma^2)`:

    .. math::

        \log p(x) = \begin{cases}
            \log\big(\pi + (1-\pi)\,\mathcal N(0; \mu, \sigma^2)\big) & x = 0 \\
            \log(1-\pi) + \log \mathcal N(x; \mu, \sigma^2) & x > 0
        \end{cases}

    computed in log space (``logsigmoid``/``logaddexp``) for stability.

    Args:
        x: observed log-normalised expression ``[N, G]``.
        mean: Gaussian means ``[N, G]``.
        logvar: Gaussian log-variances, broadcastable to ``[N, G]`` (one per gene here).
        pi_logit: logits of the zero-inflation probability ``[N, G]``.

    Returns:
        ``[N]`` tensor: :math:`-\sum_g \log p(x_{ng})`.
    """
    log_normal = -0.5 * (_LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar))
    log_pi = F.logsigmoid(pi_logit)
    log_not_pi = F.logsigmoid(-pi_logit)
    log_p_zero = torch.logaddexp(log_pi, log_not_pi + log_normal)
    log_p_pos = log_not_pi + log_normal
    log_p = torch.where(x == 0, log_p_zero, log_p_pos)
    return -log_p.sum(dim=-1)


def kl_free_bits(mu: Tensor, logvar: Tensor, tau: float = 0.2) -> Tensor:
    r"""KL divergence of :math:`q(z|x)=\mathcal N(\mu, e^{\text{logvar}})` from
    :math:`\mathcal N(0, I)` with "free bits": per latent dimension
    :math:`\max(0, \tfrac12(\mu^2 + e^{\text{logvar}} - 1 - \text{logvar}) - \tau)`, summed over
    dimensions.  Returns ``[N]``."""
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return torch.clamp(kl - tau, min=0.0).sum(dim=-1)


class ZIGVAE(nn.Module):
    """Zero-inflated Gaussian VAE with batch as a conditional input.

    Encoder: ``LayerNorm(x) [+ one-hot batch] -> MLP -> (mu, logvar)``.  Decoder: the latent
    ``z`` with the one-hot batch appended at *every* layer -> Gaussian mean and zero-inflation
    logit per gene; one learned log-variance per gene.  Because the decoder is told the batch,
    the latent code does not need to carry it: this is what makes the embedding batch-corrected
    (as in scVI).  The cell embedding used downstream is the posterior mean ``mu``.

    Args:
        n_genes: number of genes (input width).
        n_batches: number of batches (0 or 1: no batch conditioning).
        n_latent: latent dimension.
        n_hidden: width of the hidden layers.
        n_layers: hidden layers in the encoder and the decoder.
        encode_batch: also feed the batch to the encoder (off by default so that cells from a
            batch never seen in training can still be embedded).
        dropout: dropout in the encoder.
    """

    def __init__(
        self,
        n_genes: int,
        n_batches: int = 0,
        n_latent: int = 32,
        n_hidden: int = 128,
        n_layers: int = 2,
        encode_batch: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.n_genes = n_genes
        self.n_batches = n_batches if n_batches > 1 else 0
        self.encode_batch = bool(encode_batch and self.n_batches)
        self.n_latent = n_latent
        self.input_norm = nn.LayerNorm(n_genes)
        # per-gene standardisation of the encoder input (set from streamed gene statistics by
        # ``set_input_scaling``); until set, the input is layer-normalised per cell
        self.register_buffer("in_mean", torch.zeros(n_genes))
        self.register_buffer("in_scale", torch.ones(n_genes))
        self.scaled_input = False
        enc: list[nn.Module] = []
        width = n_genes + (self.n_batches if self.encode_batch else 0)
        for _ in range(n_layers):
            enc += [nn.Linear(width, n_hidden), nn.ReLU()]
            if dropout > 0:
                enc.append(nn.Dropout(dropout))
            width = n_hidden
        self.encoder = nn.Sequential(*enc)
        self.fc_mu = nn.Linear(n_hidden, n_latent)
        self.fc_logvar = nn.Linear(n_hidden, n_latent)
        self.decoder_layers = nn.ModuleList()
        width = n_latent
        for _ in range(n_layers):
            self.decoder_layers.append(nn.Linear(width + self.n_batches, n_hidden))
            width = n_hidden
        self.fc_mean = nn.Linear(n_hidden + self.n_batches, n_genes)
        self.fc_pi = nn.Linear(n_hidden + self.n_batches, n_genes)
        self.gene_logvar = nn.Parameter(torch.zeros(n_genes))

    def _batch_onehot(self, batch: Tensor | None, like: Tensor) -> Tensor | None:
        if not self.n_batches:
            return None
        if batch is None:
            raise ValueError("this ZIG-VAE is conditioned on batch: pass the batch codes")
        return F.one_hot(batch.long(), self.n_batches).to(like.dtype)

    def set_input_scaling(self, mean: np.ndarray, sd: np.ndarray) -> None:
        """Feed the encoder per-gene z-scores ``clip((x - mean) / sd, -10, 10)`` instead of a
        per-cell layer norm, so that weakly expressed genes are not drowned by strong ones."""
        self.in_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.in_scale.copy_(
            torch.as_tensor(1.0 / np.where(sd > 1e-6, sd, 1.0), dtype=torch.float32)
        )
        self.scaled_input = True

    def encode(self, x: Tensor, batch: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Posterior mean and log-variance ``([N, L], [N, L])`` of the latent code."""
        if self.scaled_input:
            h = ((x - self.in_mean) * self.in_scale).clamp(-10.0, 10.0)
        else:
            h = self.input_norm(x)
        if self.encode_batch:
            h = torch.cat([h, self._batch_onehot(batch, x)], dim=-1)
        h = self.encoder(h)
        return self.fc_mu(h), self.fc_logvar(h).clamp(-10.0, 10.0)

    def decode(self, z: Tensor, batch: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Gaussian mean and zero-inflation logit ``([N, G], [N, G])`` given ``z`` and batch."""
        b = self._batch_onehot(batch, z)
        h = z
        for layer in self.decoder_layers:
            h = F.relu(layer(h if b is None else torch.cat([h, b], dim=-1)))
        if b is not None:
            h = torch.cat([h, b], dim=-1)
        return self.fc_mean(h), self.fc_pi(h)

    def loss(
        self,
        x: Tensor,
        batch: Tensor | None = None,
        beta: float = 0.1,
        tau: float = 0.2,
        mu: Tensor | None = None,
        logvar: Tensor | None = None,
    ) -> Tensor:
        r"""Per-cell negative ELBO with free bits: ``zig_nll(x | z) + beta * KL_tau``, ``[N]``.

        ``z = mu + exp(logvar / 2) * eps`` (reparameterisation).  Pass ``mu``/``logvar`` when
        the encoder has already been run on ``x``.
        """
        if mu is None or logvar is None:
            mu, logvar = self.encode(x, batch)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        mean, pi_logit = self.decode(z, batch)
        logvar_g = self.gene_logvar.clamp(-10.0, 10.0)
        return zig_nll(x, mean, logvar_g, pi_logit) + beta * kl_free_bits(mu, logvar, tau)
