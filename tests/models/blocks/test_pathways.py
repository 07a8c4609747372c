"""The pathway encoder (survlib.models.blocks.pathways): the grouped block-sparse layer equals
SurvPath's per-pathway ``nn.ModuleList``, each token depends only on its pathway's genes, and a
wrong gene count is named."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from survlib.models import PathwayMembership, count_parameters
from survlib.models.blocks import PathwayEncoder, SNNBlock
from tests.models.zoo_batch import N_GENES, make_pathways

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pathways() -> PathwayMembership:
    return make_pathways()


class PerPathwayReference(nn.Module):
    """SurvPath's formulation: one SNN per pathway in an nn.ModuleList, looped over."""

    def __init__(self, pathways: PathwayMembership, hidden: tuple[int, int]) -> None:
        super().__init__()
        self.members = [row.nonzero().flatten() for row in pathways.matrix]
        self.nets = nn.ModuleList(
            nn.Sequential(SNNBlock(len(m), hidden[0], 0.25), SNNBlock(hidden[0], hidden[1], 0.25))
            for m in self.members
        )

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        return torch.stack(
            [net(genes[:, m]) for net, m in zip(self.nets, self.members, strict=True)], dim=1
        )


def test_pathway_encoder_equals_per_pathway_modules(pathways: PathwayMembership) -> None:
    torch.manual_seed(0)
    enc = PathwayEncoder(pathways, hidden=(16, 8)).eval()
    ref = PerPathwayReference(pathways, (16, 8)).eval()
    with torch.no_grad():
        for p, net in enumerate(ref.nets):
            net[0][0].weight.copy_(enc.pathway_weight(p))
            net[0][0].bias.copy_(enc.bias1[p])
            net[1][0].weight.copy_(enc.layers[0].weight[p].T)
            net[1][0].bias.copy_(enc.layers[0].bias[p])
    genes = torch.randn(4, N_GENES)
    torch.testing.assert_close(enc(genes), ref(genes), atol=1e-5, rtol=1e-5)
    assert count_parameters(enc) == count_parameters(ref)
    assert enc(genes).shape == (4, pathways.n_pathways, 8)


def test_pathway_tokens_depend_only_on_their_genes(pathways: PathwayMembership) -> None:
    enc = PathwayEncoder(pathways, hidden=(16, 8)).eval()
    genes = torch.randn(2, N_GENES, requires_grad=True)
    for p in range(pathways.n_pathways):
        (g,) = torch.autograd.grad(enc(genes)[:, p].sum(), genes)
        outside = ~pathways.matrix[p]
        assert (g[:, outside] == 0).all()
        assert g[:, pathways.matrix[p]].abs().sum() > 0


def test_pathway_encoder_rejects_wrong_gene_count(pathways: PathwayMembership) -> None:
    enc = PathwayEncoder(pathways, hidden=(8,))
    with pytest.raises(ValueError, match=rf"genes must have shape \[B, {N_GENES}\]"):
        enc(torch.randn(2, N_GENES + 1))
