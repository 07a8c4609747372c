"""Benchmark SurvPath-shaped training: survlib's batched model vs a naive reference, s/epoch.

Both train the same network (SurvPath: 331 pathway tokens <-> patch tokens co-attention,
width 256, 4 time bins) on the same patients, with Adam, in one run:

- ``ours``: :class:`survlib.models.fusion.SurvPath`: patients batched (``--batch-size``,
  padded bags + mask), all pathway networks as one block-sparse + grouped layer
  (:class:`survlib.models.blocks.PathwayEncoder`), one optimizer step per batch.
- ``naive``: written here, in the style of the reference code: one patient at a time (batch
  of 1, one optimizer step per patient), one small SNN per pathway in an ``nn.ModuleList``
  looped over in Python, and the co-attention computed with explicit attention matrices (as
  SurvPath's ``MMAttention``; here the same survlib block with ``need_weights=True``, so the
  maths and the parameters are identical).

A ``breakdown`` section times each difference on its own, per patient: the pathway networks
(loop vs grouped layer), the co-attention (explicit weights vs fused attention), the optimizer
step (per patient vs per batch), and the part both share (patch projection).

Pathway sizes: the real SurvPath signatures (``combine_signatures.csv``, through
:func:`survlib.data.multimodal.load_survpath_pathways`) when ``survpath_combine_signatures`` is
already in the :func:`survlib.data.fetch.fetch` cache (``--fetch`` downloads it); otherwise
**simulated** sizes with the same make-up as that file (50 sets with the MSigDB Hallmark sizes,
281 small Reactome-like sets, log-normal with median 8 genes), labelled
``"pathway_sizes": "simulated"`` in the JSON. Patch features are
random (``--patches`` x ``--d-patch``, default 4096 x 1024 as SurvPath's training sampler).

Epochs of the two implementations alternate (naive, ours, naive, ours, ...) after one untimed
warm-up epoch each, so drifting load on a shared machine hits both alike. The JSON holds the
machine, the parameters, every epoch time, mean/min seconds per epoch and the speed-up::

    .venv/bin/python benchmarks/bench_multimodal.py                     # ~2-3 min on 2 cores
    .venv/bin/python benchmarks/bench_multimodal.py --patients 64 --epochs 3 --threads 2
"""

from __future__ import annotations

import argparse
import datetime as _dt
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from survlib._core.io import atomic_write_json
from survlib.bench import limit_cpu_threads, machine_info
from survlib.data.multimodal import load_survpath_pathways
from survlib.models import count_parameters, discrete_loss
from survlib.models.blocks import (
    CoAttentionFusion,
    DiscreteHead,
    PathwayMembership,
    SNNBlock,
    SurvivalBatch,
)
from survlib.models.fusion import SurvPath
from survlib.survival import nll_discrete
from survlib.train import pick_device

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Sizes of the 50 MSigDB Hallmark gene sets (v7), the Hallmark part of SurvPath's 331.
HALLMARK_SIZES = [
    200,
    200,
    100,
    36,
    200,
    44,
    161,
    112,
    74,
    138,
    200,
    150,
    200,
    200,
    200,
    200,
    158,
    200,
    200,
    36,
    200,
    200,
    200,
    87,
    200,
    97,
    200,
    200,
    200,
    200,
    200,
    200,
    58,
    200,
    32,
    200,
    200,
    40,
    104,
    105,
    96,
    49,
    135,
    54,
    200,
    113,
    144,
    158,
    42,
    200,
]


# --------------------------------------------------------------------------------------------
# Pathways
# --------------------------------------------------------------------------------------------


def simulated_pathways(n_genes: int = 4999, seed: int = 0) -> PathwayMembership:
    """331 simulated pathways shaped like SurvPath's: the 50 Hallmark sizes and 281 small
    Reactome-like sets (log-normal, median 8 genes, clipped to [2, 120]), over ``n_genes``."""
    rng = np.random.default_rng(seed)
    reactome = np.clip(np.round(rng.lognormal(np.log(8.0), 0.9, size=281)), 2, 120).astype(int)
    sizes = list(reactome) + HALLMARK_SIZES
    return PathwayMembership.random(len(sizes), n_genes, sizes=sizes, seed=seed)


# --------------------------------------------------------------------------------------------
# The naive reference (one patient at a time, one module per pathway)
# --------------------------------------------------------------------------------------------


class NaiveSurvPath(nn.Module):
    """SurvPath as the reference code runs it: a Python loop over per-pathway SNNs."""

    def __init__(
        self,
        d_patch: int,
        pathways: PathwayMembership,
        n_bins: int,
        d: int = 256,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        for p, row in enumerate(pathways.matrix):
            self.register_buffer(f"members_{p}", row.nonzero().flatten(), persistent=False)
        self.n_pathways = pathways.n_pathways
        self.sig_networks = nn.ModuleList(
            nn.Sequential(SNNBlock(len(m), d, 0.25), SNNBlock(d, d, 0.25)) for m in self.members
        )
        self.patch_projection = nn.Linear(d_patch, d)
        self.path = CoAttentionFusion(d, d // 2, dropout=dropout)
        self.head = DiscreteHead(d, n_bins, d_hidden=d // 4)

    @property
    def members(self) -> list[torch.Tensor]:
        return [getattr(self, f"members_{p}") for p in range(self.n_pathways)]

    def forward(self, patches: torch.Tensor, genes: torch.Tensor) -> torch.Tensor:
        tokens = torch.stack(
            [net(genes[:, m]) for net, m in zip(self.sig_networks, self.members, strict=True)],
            dim=1,
        )
        x_p = self.patch_projection(patches)
        mask = torch.ones(patches.shape[:2], dtype=torch.bool, device=patches.device)
        g_bar, p_bar, _ = self.path(tokens, x_p, mask, need_weights=True)
        return self.head(torch.cat([g_bar, p_bar], dim=1))


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock times are complete."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_data(
    n_patients: int, n_patches: int, d_patch: int, n_genes: int, n_bins: int, pool: int, seed: int
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    """``pool`` distinct random bags (patient i uses bag i % pool), genes and targets."""
    g = torch.Generator().manual_seed(seed)
    bags = [torch.randn(n_patches, d_patch, generator=g) for _ in range(min(pool, n_patients))]
    genes = torch.randn(n_patients, n_genes, generator=g)
    bins = torch.randint(0, n_bins, (n_patients,), generator=g)
    events = (torch.rand(n_patients, generator=g) < 0.3).long()
    return bags, genes, bins, events


def epoch_naive(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    bags: list[torch.Tensor],
    genes: torch.Tensor,
    bins: torch.Tensor,
    events: torch.Tensor,
) -> float:
    model.train()
    _sync(genes.device)
    t0 = time.perf_counter()
    for i in range(genes.shape[0]):
        opt.zero_grad(set_to_none=True)
        logits = model(bags[i % len(bags)].unsqueeze(0), genes[i : i + 1])
        nll_discrete(logits, bins[i : i + 1], events[i : i + 1]).backward()
        opt.step()
    _sync(genes.device)
    return time.perf_counter() - t0


def epoch_ours(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    bags: list[torch.Tensor],
    genes: torch.Tensor,
    bins: torch.Tensor,
    events: torch.Tensor,
    batch_size: int,
) -> float:
    model.train()
    _sync(genes.device)
    t0 = time.perf_counter()
    n = genes.shape[0]
    for start in range(0, n, batch_size):
        idx = list(range(start, min(n, start + batch_size)))
        patches = torch.stack([bags[i % len(bags)] for i in idx])
        batch = SurvivalBatch(
            patches=patches,
            patch_mask=torch.ones(patches.shape[:2], dtype=torch.bool, device=patches.device),
            genes=genes[idx],
            bin_index=bins[idx],
            event=events[idx],
        )
        opt.zero_grad(set_to_none=True)
        discrete_loss(model, batch).backward()
        opt.step()
    _sync(genes.device)
    return time.perf_counter() - t0


def _best_of(fn: Any, device: torch.device, repeats: int = 2) -> float:
    """Best wall time of ``fn`` over ``repeats`` runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return min(times)


def breakdown(
    ours: SurvPath,
    naive: NaiveSurvPath,
    bags: list[torch.Tensor],
    genes: torch.Tensor,
    batch_size: int,
) -> dict[str, dict[str, float]]:
    """Seconds per patient of each part, forward + backward (training mode), ours vs naive."""
    b = min(batch_size, genes.shape[0])
    dev = genes.device
    patches = torch.stack([bags[i % len(bags)] for i in range(b)])
    mask = torch.ones(patches.shape[:2], dtype=torch.bool, device=dev)
    g = genes[:b]
    ours.train()
    naive.train()

    def enc_ours() -> None:
        ours.pathway_encoder(g).sum().backward()

    def enc_naive() -> None:
        tokens = [net(g[:1, m]) for net, m in zip(naive.sig_networks, naive.members, strict=True)]
        torch.stack(tokens, dim=1).sum().backward()

    tokens = torch.randn(b, naive.n_pathways, 256, device=dev)
    x_p = torch.randn(b, patches.shape[1], 256, device=dev)

    def attn(path: nn.Module, n: int, need_weights: bool) -> None:
        m_bar, p_bar, _ = path(tokens[:n], x_p[:n], mask[:n], need_weights=need_weights)
        (m_bar.sum() + p_bar.sum()).backward()

    def projection() -> None:
        ours.patch_projection(patches).sum().backward()

    def step(model: nn.Module) -> float:
        opt = torch.optim.Adam(model.parameters(), lr=1e-6)
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        t = _best_of(opt.step, dev)
        model.zero_grad(set_to_none=True)
        return t

    out = {
        "pathway_networks": {
            "ours": _best_of(enc_ours, dev) / b,
            "naive": _best_of(enc_naive, dev),
        },
        "co_attention": {
            "ours": _best_of(lambda: attn(ours.path, b, False), dev) / b,
            "naive": _best_of(lambda: attn(naive.path, 1, True), dev),
        },
        "optimizer_step": {"ours": step(ours) / b, "naive": step(naive)},
        "patch_projection_shared": {"ours": _best_of(projection, dev) / b},
    }
    out["patch_projection_shared"]["naive"] = out["patch_projection_shared"]["ours"]
    ours.zero_grad(set_to_none=True)
    naive.zero_grad(set_to_none=True)
    return out


def bench(args: argparse.Namespace) -> dict[str, Any]:
    pathways = load_survpath_pathways(download=args.fetch)
    source = "SurvPath combine_signatures.csv (real)" if pathways is not None else "simulated"
    if pathways is None:
        pathways = simulated_pathways(args.n_genes, args.seed)
    sizes = pathways.sizes
    device = pick_device(args.device)
    torch.manual_seed(args.seed)
    ours = SurvPath(args.d_patch, pathways, args.n_bins).to(device)
    torch.manual_seed(args.seed)
    naive = NaiveSurvPath(args.d_patch, pathways, args.n_bins).to(device)
    opt_ours = torch.optim.Adam(ours.parameters(), lr=args.lr)
    opt_naive = torch.optim.Adam(naive.parameters(), lr=args.lr)
    bags, genes, bins, events = make_data(
        args.patients,
        args.patches,
        args.d_patch,
        pathways.n_genes,
        args.n_bins,
        args.pool,
        args.seed,
    )
    bags = [b.to(device) for b in bags]
    genes, bins, events = genes.to(device), bins.to(device), events.to(device)

    def run_naive() -> float:
        return epoch_naive(naive, opt_naive, bags, genes, bins, events)

    def run_ours() -> float:
        return epoch_ours(ours, opt_ours, bags, genes, bins, events, args.batch_size)

    parts = breakdown(ours, naive, bags, genes, args.batch_size)
    warmup = {"naive": run_naive(), "ours": run_ours()}
    times: dict[str, list[float]] = {"naive": [], "ours": []}
    for _ in range(args.epochs):
        times["naive"].append(run_naive())
        times["ours"].append(run_ours())
    summary = {
        k: {
            "seconds_per_epoch_mean": statistics.mean(v),
            "seconds_per_epoch_min": min(v),
            "seconds_per_epoch_all": v,
            "seconds_per_patient_mean": statistics.mean(v) / args.patients,
            "warmup_seconds": warmup[k],
        }
        for k, v in times.items()
    }
    return {
        "device": str(device),
        "pathways": {
            "source": source,
            "pathway_sizes": "real" if "real" in source else "simulated",
            "n_pathways": pathways.n_pathways,
            "n_genes": pathways.n_genes,
            "gene_pathway_pairs": int(sizes.sum()),
            "size_min": int(sizes.min()),
            "size_median": float(np.median(sizes)),
            "size_max": int(sizes.max()),
        },
        "parameters_model": {
            "ours": count_parameters(ours),
            "naive": count_parameters(naive),
            "naive_modules_in_pathway_list": len(naive.sig_networks),
        },
        "results": summary,
        "breakdown_seconds_per_patient": parts,
        "speedup_mean": summary["naive"]["seconds_per_epoch_mean"]
        / summary["ours"]["seconds_per_epoch_mean"],
        "speedup_min": summary["naive"]["seconds_per_epoch_min"]
        / summary["ours"]["seconds_per_epoch_min"],
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=16, help="patients per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per implementation")
    parser.add_argument("--patches", type=int, default=4096, help="patches per patient")
    parser.add_argument("--d-patch", type=int, default=1024, help="patch feature width")
    parser.add_argument("--n-genes", type=int, default=4999, help="genes (simulated pathways)")
    parser.add_argument("--n-bins", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8, help="patients per batch (ours)")
    parser.add_argument("--pool", type=int, default=8, help="distinct random bags kept in memory")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads of torch and BLAS (shared CPUs; 0: library defaults)",
    )
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    parser.add_argument(
        "--fetch",
        action="store_true",
        help="download the SurvPath signatures if they are not cached",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default benchmarks/results/)"
    )
    args = parser.parse_args(argv)
    limit_cpu_threads(args.threads)

    record = {
        "benchmark": "bench_multimodal",
        "timestamp": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        **bench(args),
    }
    out = args.out
    if out is None:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS_DIR / f"bench_multimodal_{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, record)
    r = record["results"]
    print(
        f"pathways: {record['pathways']['source']} ({record['pathways']['n_pathways']}, "
        f"{record['pathways']['gene_pathway_pairs']} gene-pathway pairs)"
    )
    print(
        f"naive: {r['naive']['seconds_per_epoch_mean']:.2f} s/epoch, ours: "
        f"{r['ours']['seconds_per_epoch_mean']:.2f} s/epoch, speed-up "
        f"{record['speedup_mean']:.2f}x ({args.patients} patients x {args.patches} patches)"
    )
    for part, v in record["breakdown_seconds_per_patient"].items():
        print(f"  {part:26s} s/patient  naive {v['naive']:.3f}  ours {v['ours']:.3f}")
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
