"""Benchmark SurvPath training: survlib's batched model vs the authors' SurvPath, s/epoch.

Three implementations of the same network (SurvPath: 331 pathway tokens <-> patch tokens
co-attention, width 256, 4 time bins; 24,768,068 parameters with the real signatures) train
on the same random patients, with Adam (the same update rule for all, so the comparison is of
implementations), in one run:

- ``authors``: the authors' own ``SurvPath`` (``models/model_SurvPath.py`` of
  github.com/mahmoodlab/SurvPath, imported from ``--anchors`` / ``$SURVLIB_ANCHORS``, default
  ``../shared/anchors`` next to the repository; never copied here), trained as their training
  loop does: one patient per optimizer step (batch of 1), each pathway's genes passed as
  ``x_omic1 .. x_omic331``, the bag as ``x_path [1, N, D]``, ``loss.item()`` each step.
  When the folder is absent this reference is skipped with a message (and ``null`` ratios).
- ``ours``: :class:`survlib.models.fusion.SurvPath`: ``--batch-size`` patients per step (one
  padded batch + mask), all pathway networks as one block-sparse + grouped layer, fused
  attention, and survlib's training optimizer (``--ours-adam library``:
  :func:`survlib.train.adam`, Adam with PyTorch's fused kernel; ``default``, ``foreach`` or
  ``fused`` pick one for ablations).
- ``naive`` (second reference, ``--no-naive`` skips it): written here, the same maths as
  survlib's blocks but run like the reference code: batch of 1, one ``SNNBlock`` pair per
  pathway in an ``nn.ModuleList`` looped over, explicit attention matrices.

``--precision bf16`` runs every implementation's forward pass and loss under bfloat16 autocast
(:func:`survlib._core.device.autocast`, as ``fit(precision="bf16")`` does); the backward and the
optimizer step stay outside it. The default ``fp32`` changes nothing.

Epochs alternate (authors, ours, naive, authors, ours, naive, ...) after one untimed warm-up
epoch each, so drifting load on a shared machine hits all alike. Patch features are random
(``--patches`` x ``--d-patch``, default 16 patients x 4096 x 1024 as SurvPath's sampler);
pathways are the real 331 signatures (``combine_signatures.csv``: ``--signatures``, else the
survlib cache of manifest entry ``survpath_combine_signatures``, else the offline copy in
``../shared/data``, else simulated sizes, labelled as such).

``--profile-steps K`` adds a per-part breakdown of survlib's training step (forward of the
patch projection, pathway MLPs, co-attention path and head, the loss, backward, optimizer
step; each part alone forward + backward too). Results are merged into one JSON
(``benchmarks/results/multimodal.json``): one entry per device/thread setting under ``runs``,
the speed-ups under ``ratios``, and the breakdown under ``profile[--profile-label][run]``
(e.g. ``before``: a profile-only run, ``--epochs 0``, with an older survlib first on
``PYTHONPATH`` and ``--ours-adam default``)::

    /work/locks/heavy -2 .venv/bin/python benchmarks/bench_multimodal.py --threads 2
    /work/locks/heavy .venv/bin/python benchmarks/bench_multimodal.py --threads 1
    .venv/bin/python benchmarks/bench_multimodal.py --device cuda --patients 64
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as _dt
import hashlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from survlib._core.device import autocast
from survlib._core.io import atomic_write_json
from survlib.bench import limit_cpu_threads, machine_info
from survlib.data.fetch import DataUnavailableError, cached_path, load_manifest
from survlib.data.fetch import fetch as fetch_data
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
from survlib.train import adam as library_adam
from survlib.train import pick_device

REPO = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO / "benchmarks" / "results" / "multimodal.json"
ANCHORS_ENV = "SURVLIB_ANCHORS"
SIGNATURES_ENTRY = "survpath_combine_signatures"


def shared_path(relative: str) -> Path:
    """``../shared/<relative>`` next to the repository; from a git worktree nested one level
    deeper (``/work/wt/NAME``), the first ancestor's ``shared/<relative>`` that exists."""
    for base in REPO.parents:
        if (base / "shared" / relative).exists():
            return base / "shared" / relative
    return REPO.parent / "shared" / relative


DEFAULT_ANCHORS = shared_path("anchors")
SHARED_SIGNATURES = shared_path("data/survpath/datasets_csv/metadata/combine_signatures.csv")
#: Sizes of the 50 MSigDB Hallmark gene sets (v7), the Hallmark part of SurvPath's 331.
HALLMARK_SIZES = [
    int(s)
    for s in (
        "200 200 100 36 200 44 161 112 74 138 200 150 200 200 200 200 158 200 200 36 200 200 "
        "200 87 200 97 200 200 200 200 200 200 58 200 32 200 200 40 104 105 96 49 135 54 200 "
        "113 144 158 42 200"
    ).split()
]
IMPLEMENTATIONS = ("authors", "ours", "naive")


# --------------------------------------------------------------------------------------------
# Inputs: pathways, the authors' model, data
# --------------------------------------------------------------------------------------------


def simulated_pathways(n_genes: int = 4999, seed: int = 0) -> PathwayMembership:
    """331 simulated pathways shaped like SurvPath's: the 50 Hallmark sizes and 281 small
    Reactome-like sets (log-normal, median 8 genes, clipped to [2, 120]), over ``n_genes``."""
    rng = np.random.default_rng(seed)
    reactome = np.clip(np.round(rng.lognormal(np.log(8.0), 0.9, size=281)), 2, 120).astype(int)
    return PathwayMembership.random(331, n_genes, sizes=[*reactome, *HALLMARK_SIZES], seed=seed)


def signatures_file(signatures: Path | None, fetch: bool) -> Path | None:
    """``combine_signatures.csv``: ``--signatures``, else the survlib cache (verified against
    the manifest hash; ``--fetch`` downloads it), else the offline copy in ``../shared/data``."""
    if signatures is not None:
        if not signatures.is_file():
            raise ValueError(f"--signatures {str(signatures)!r} is not a file")
        return signatures
    cached = cached_path(SIGNATURES_ENTRY)
    if cached is None and fetch:
        with contextlib.suppress(DataUnavailableError, OSError, ValueError):
            cached = fetch_data(SIGNATURES_ENTRY, progress=False)
    if cached is not None:
        return cached
    return SHARED_SIGNATURES if SHARED_SIGNATURES.is_file() else None


def load_pathways(
    signatures: Path | None, max_pathways: int | None, fetch: bool
) -> tuple[PathwayMembership, dict[str, Any]]:
    """The real SurvPath signatures (first ``max_pathways`` of them if given) and where from;
    simulated sizes when no file is found."""
    path = signatures_file(signatures, fetch)
    pathways = simulated_pathways() if path is None else load_survpath_pathways(path)
    source = "simulated" if path is None else str(path)
    if max_pathways is not None:
        names = pathways.pathway_names[:max_pathways]
        sets = {
            n: [pathways.genes[g] for g in row.nonzero().flatten().tolist()]
            for n, row in zip(names, pathways.matrix, strict=False)
        }
        pathways = PathwayMembership.from_sets(sets)
    sha = None if path is None else hashlib.sha256(path.read_bytes()).hexdigest()
    expected = load_manifest()[SIGNATURES_ENTRY].hash
    sizes = pathways.sizes
    info = {
        "source": source,
        "pathway_sizes": "simulated" if source == "simulated" else "real",
        "sha256": sha,
        "sha256_matches_manifest": None if sha is None else expected == f"sha256:{sha}",
        "n_pathways": pathways.n_pathways,
        "n_genes": pathways.n_genes,
        "gene_pathway_pairs": int(sizes.sum()),
        "size_min": int(sizes.min()),
        "size_median": float(np.median(sizes)),
        "size_max": int(sizes.max()),
    }
    return pathways, info


def resolve_anchors(anchors: Path | None) -> Path:
    """``--anchors``, else ``$SURVLIB_ANCHORS``, else ``../shared/anchors`` next to the repo."""
    if anchors is not None:
        return anchors
    env = os.environ.get(ANCHORS_ENV, "").strip()
    return Path(env) if env else DEFAULT_ANCHORS


def import_authors_survpath(anchors: Path) -> tuple[type[nn.Module] | None, str]:
    """The authors' ``SurvPath`` class from ``anchors/SurvPath`` (their ``models`` package on
    ``sys.path``), or ``None`` and the reason it is not available."""
    root = anchors / "SurvPath"
    if not (root / "models" / "model_SurvPath.py").is_file():
        return None, (
            f"no {root / 'models' / 'model_SurvPath.py'} (pass --anchors PATH or set "
            f"${ANCHORS_ENV} to the folder holding SurvPath/)"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("models.model_SurvPath")
    except ImportError as err:  # e.g. einops missing: pip install -e .[bench]
        return None, f"importing the authors' SurvPath from {root} failed: {err}"
    return module.SurvPath, str(root)


def make_data(
    n_patients: int, n_patches: int, d_patch: int, n_genes: int, n_bins: int, seed: int
) -> dict[str, torch.Tensor]:
    """One random bag per patient (``[P, N, D]``, so any batch is a view), genes, targets."""
    g = torch.Generator().manual_seed(seed)
    return {
        "patches": torch.randn(n_patients, n_patches, d_patch, generator=g),
        "genes": torch.randn(n_patients, n_genes, generator=g),
        "bins": torch.randint(0, n_bins, (n_patients,), generator=g),
        "events": (torch.rand(n_patients, generator=g) < 0.3).long(),
    }


# --------------------------------------------------------------------------------------------
# The in-file naive reference (one patient at a time, one module per pathway)
# --------------------------------------------------------------------------------------------


class NaiveSurvPath(nn.Module):
    """SurvPath as the reference code runs it, from survlib's blocks: a Python loop over
    per-pathway SNNs and the co-attention with explicit attention matrices."""

    def __init__(
        self, d_patch: int, pathways: PathwayMembership, n_bins: int, d: int = 256
    ) -> None:
        super().__init__()
        self.n_pathways = pathways.n_pathways
        for p, row in enumerate(pathways.matrix):  # buffers: they follow .to(device)
            self.register_buffer(f"members_{p}", row.nonzero().flatten(), persistent=False)
        self.sig_networks = nn.ModuleList(
            nn.Sequential(SNNBlock(len(m), d, 0.25), SNNBlock(d, d, 0.25)) for m in self.members
        )
        self.patch_projection = nn.Linear(d_patch, d)
        self.path = CoAttentionFusion(d, d // 2, dropout=0.1)
        self.head = DiscreteHead(d, n_bins, d_hidden=d // 4)

    @property
    def members(self) -> list[torch.Tensor]:
        """Gene columns of each pathway."""
        return [getattr(self, f"members_{p}") for p in range(self.n_pathways)]

    def forward(self, patches: torch.Tensor, genes: torch.Tensor) -> torch.Tensor:
        tokens = torch.stack(
            [net(genes[:, m]) for net, m in zip(self.sig_networks, self.members, strict=True)],
            dim=1,
        )
        mask = torch.ones(patches.shape[:2], dtype=torch.bool, device=patches.device)
        g_bar, p_bar, _ = self.path(tokens, self.patch_projection(patches), mask, True)
        return self.head(torch.cat([g_bar, p_bar], dim=1))


# --------------------------------------------------------------------------------------------
# One epoch of each implementation
# --------------------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock times are complete."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def authors_inputs(data: dict[str, torch.Tensor], pathways: PathwayMembership) -> list[dict]:
    """What the authors' data loader hands their loop per patient: ``x_path [1, N, D]`` and
    ``x_omic{p+1}`` = pathway ``p``'s genes (``[|G_p|]``, genes in column order)."""
    members = [row.nonzero().flatten().to(data["genes"].device) for row in pathways.matrix]
    out = []
    for i in range(data["genes"].shape[0]):
        args: dict[str, Any] = {"x_path": data["patches"][i : i + 1]}
        for p, m in enumerate(members):
            args[f"x_omic{p + 1}"] = data["genes"][i, m]
        out.append(args)
    return out


def _timed(device: torch.device, fn: Callable[[], None]) -> float:
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


def epoch_authors(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    inputs: list[dict],
    data: dict,
    precision: str = "fp32",
) -> float:
    """One epoch of the authors' loop: per patient zero_grad, forward, NLL, backward, step."""
    model.train()
    device = data["genes"].device

    def run() -> None:
        for i, kwargs in enumerate(inputs):
            opt.zero_grad()
            with autocast(device.type, precision):
                logits = model(return_attn=False, **kwargs)
                loss = nll_discrete(logits, data["bins"][i : i + 1], data["events"][i : i + 1])
            loss.item()
            loss.backward()
            opt.step()

    return _timed(data["genes"].device, run)


def epoch_naive(
    model: nn.Module, opt: torch.optim.Optimizer, data: dict, precision: str = "fp32"
) -> float:
    """One epoch of the in-file naive reference, one patient per step."""
    model.train()
    device = data["genes"].device

    def run() -> None:
        for i in range(data["genes"].shape[0]):
            opt.zero_grad(set_to_none=True)
            with autocast(device.type, precision):
                logits = model(data["patches"][i : i + 1], data["genes"][i : i + 1])
                loss = nll_discrete(logits, data["bins"][i : i + 1], data["events"][i : i + 1])
            loss.item()
            loss.backward()
            opt.step()

    return _timed(data["genes"].device, run)


def survlib_batches(data: dict, batch_size: int) -> list[SurvivalBatch]:
    """The epoch's batches (views of the data, no copy): what survlib's loader hands the loop."""
    n = data["genes"].shape[0]
    out = []
    for s in range(0, n, batch_size):
        patches = data["patches"][s : s + batch_size]
        mask = torch.ones(patches.shape[:2], dtype=torch.bool, device=patches.device)
        out.append(
            SurvivalBatch(
                patches=patches,
                patch_mask=mask,
                genes=data["genes"][s : s + batch_size],
                bin_index=data["bins"][s : s + batch_size],
                event=data["events"][s : s + batch_size],
            )
        )
    return out


def epoch_ours(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    batches: list[SurvivalBatch],
    precision: str = "fp32",
) -> float:
    """One epoch of survlib's batched model, one optimizer step per batch."""
    model.train()
    device = batches[0].genes.device

    def run() -> None:
        for batch in batches:
            opt.zero_grad(set_to_none=True)
            with autocast(device.type, precision):
                loss = discrete_loss(model, batch)
            loss.item()
            loss.backward()
            opt.step()

    return _timed(batches[0].genes.device, run)


def adam(params: Any, lr: float, kind: str, device: torch.device) -> torch.optim.Optimizer:
    """Adam: survlib's (``library``: :func:`survlib.train.adam`), or with the ``for-loop``
    (PyTorch's CPU default), ``foreach`` or ``fused`` kernel."""
    if kind == "library":
        return library_adam(params, lr=lr)
    if kind == "fused":
        return torch.optim.Adam(params, lr=lr, fused=True)
    if kind == "foreach":
        return torch.optim.Adam(params, lr=lr, foreach=True)
    if kind == "default":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"--ours-adam must be library, fused, foreach or default, got {kind!r}")


@torch.no_grad()
def authors_output_gap(
    ours: SurvPath, authors: nn.Module, data: dict, inputs: list[dict], pathways: PathwayMembership
) -> float:
    """Max |logits difference| of the authors' model given survlib's weights (eval mode, first
    patient): checks that both compute the same network, not only the same parameter count."""
    ref = copy.deepcopy(authors).eval()
    enc, path = ours.pathway_encoder, ours.path
    for p, net in enumerate(ref.sig_networks):
        net[0][0].weight.copy_(enc.pathway_weight(p))
        net[0][0].bias.copy_(enc.bias1[p])
        net[1][0].weight.copy_(enc.layers[0].weight[p].T)
        net[1][0].bias.copy_(enc.layers[0].bias[p])
    pairs = [
        (ref.wsi_projection_net[0], ours.patch_projection),
        (ref.cross_attender.norm, path.attn.norm),
        (ref.cross_attender.attn.to_qkv, path.attn.qkv),
        (ref.feed_forward.norm, path.feed_forward.norm),
        (ref.feed_forward.net[0], path.feed_forward.net[0]),
        (ref.feed_forward.net[3], path.feed_forward.net[3]),
        (ref.layer_norm, path.norm),
        (ref.to_logits[0], ours.head[0]),
        (ref.to_logits[2], ours.head[3]),
    ]
    for theirs, mine in pairs:
        theirs.load_state_dict(mine.state_dict())
    was_training = ours.training
    ours.eval()
    mask = torch.ones(1, data["patches"].shape[1], dtype=torch.bool, device=data["genes"].device)
    mine = ours(data["patches"][:1], mask, data["genes"][:1])
    ours.train(was_training)
    return float((ref(return_attn=False, **inputs[0]) - mine).abs().max())


# --------------------------------------------------------------------------------------------
# Per-part profile of survlib's training step
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _part_timers(model: nn.Module, device: torch.device, acc: dict) -> Iterator[None]:
    """Forward hooks adding the wall time of each named submodule's forward to ``acc``."""
    parts = {
        "forward: patch projection": model.patch_projection,
        "forward: pathway MLPs": model.pathway_encoder,
        "forward: co-attention path (attention + FF + LN + means)": model.path,
        "forward: head": model.head,
    }
    handles, started = [], {}
    for name, module in parts.items():

        def pre(_m: nn.Module, _a: Any, name: str = name) -> None:
            _sync(device)
            started[name] = time.perf_counter()

        def post(_m: nn.Module, _a: Any, _o: Any, name: str = name) -> None:
            _sync(device)
            acc[name] = acc.get(name, 0.0) + time.perf_counter() - started[name]

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _isolated_parts(model: SurvPath, batch: SurvivalBatch, device: torch.device) -> dict:
    """Seconds of each part alone, forward + backward (inputs of the right shape)."""
    x_p = model.patch_projection(batch.patches).detach().requires_grad_(True)
    tokens = model.pathway_encoder(batch.genes).detach().requires_grad_(True)

    def best(fn: Callable[[], torch.Tensor]) -> float:
        fn().sum().backward()
        return min(_timed(device, lambda: fn().sum().backward()) for _ in range(2))

    out = {
        "patch projection": best(lambda: model.patch_projection(batch.patches)),
        "pathway MLPs": best(lambda: model.pathway_encoder(batch.genes)),
        "co-attention path": best(
            lambda: torch.cat(model.path(tokens, x_p, batch.patch_mask)[:2], dim=1)
        ),
    }
    model.zero_grad(set_to_none=True)
    return out


def profile_step(
    model: SurvPath, opt: torch.optim.Optimizer, batch: SurvivalBatch, steps: int
) -> dict[str, Any]:
    """Mean seconds per training step of each phase of survlib's step, over ``steps`` steps."""
    device = batch.genes.device
    model.train()
    acc: dict[str, float] = {}
    total = 0.0
    for k in range(steps + 1):  # the first step is a warm-up
        phase: dict[str, float] = {}
        with _part_timers(model, device, phase):
            t0 = time.perf_counter()
            phase["zero_grad"] = _timed(device, lambda: opt.zero_grad(set_to_none=True))
            _sync(device)
            t = time.perf_counter()
            logits = model(batch.patches, batch.patch_mask, batch.genes)
            _sync(device)
            t_fwd = time.perf_counter() - t
            t = time.perf_counter()
            loss = nll_discrete(logits, batch.bin_index, batch.event)
            loss.item()
            phase["loss (forward)"] = time.perf_counter() - t
            phase["backward"] = _timed(device, loss.backward)
            phase["optimizer step"] = _timed(device, opt.step)
            t_step = time.perf_counter() - t0
        named = sum(v for n, v in phase.items() if n.startswith("forward: "))
        phase["forward: other (masks, cat)"] = t_fwd - named
        if k:
            total += t_step
            for n, v in phase.items():
                acc[n] = acc.get(n, 0.0) + v
    out: dict[str, Any] = {
        "seconds_per_step": {n: v / steps for n, v in acc.items()},
        "step_total_seconds": total / steps,
        "patients_per_step": int(batch.genes.shape[0]),
        "alone_forward_backward_seconds": _isolated_parts(model, batch, device),
    }
    return out


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def build_models(
    args: argparse.Namespace,
    pathways: PathwayMembership,
    device: torch.device,
    only_ours: bool = False,
) -> tuple[dict[str, nn.Module], dict[str, torch.optim.Optimizer], dict[str, Any]]:
    """The implementations (seeded alike) and their optimizers; info on the authors' code."""
    authors_cls, where = import_authors_survpath(resolve_anchors(args.anchors))
    if only_ours:
        authors_cls, where = None, "profile-only run (--epochs 0)"
    models: dict[str, nn.Module] = {}
    info: dict[str, Any] = {"authors_code": where if authors_cls else None}
    if authors_cls is None:
        info["authors_skipped"] = where
        if not only_ours:
            print(f"authors' SurvPath skipped: {where}")
    else:
        torch.manual_seed(args.seed)
        models["authors"] = authors_cls(
            omic_sizes=[int(s) for s in pathways.sizes],
            wsi_embedding_dim=args.d_patch,
            dropout=0.1,
            num_classes=args.n_bins,
            wsi_projection_dim=256,
        )
    torch.manual_seed(args.seed)
    models["ours"] = SurvPath(args.d_patch, pathways, args.n_bins)
    if not args.no_naive and not only_ours:
        torch.manual_seed(args.seed)
        models["naive"] = NaiveSurvPath(args.d_patch, pathways, args.n_bins)
    opts = {}
    for name, m in models.items():
        m.to(device)
        kind = args.ours_adam if name == "ours" else "default"
        opts[name] = adam(m.parameters(), args.lr, kind, device)
    info["optimizers"] = {n: ("default" if n != "ours" else args.ours_adam) for n in models}
    return models, opts, info


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Time alternating epochs of every available implementation; optional step profile."""
    pathways, path_info = load_pathways(args.signatures, args.max_pathways, args.fetch)
    device = pick_device(args.device)
    models, opts, info = build_models(args, pathways, device, only_ours=args.epochs == 0)
    cpu = make_data(
        args.patients, args.patches, args.d_patch, pathways.n_genes, args.n_bins, args.seed
    )
    data = {k: v.to(device) for k, v in cpu.items()}
    batches = survlib_batches(data, args.batch_size)
    runners: dict[str, Callable[[], float]] = {
        "ours": lambda: epoch_ours(models["ours"], opts["ours"], batches, args.precision)
    }
    if "authors" in models:
        inputs = authors_inputs(data, pathways)
        runners["authors"] = lambda: epoch_authors(
            models["authors"], opts["authors"], inputs, data, args.precision
        )
    if "naive" in models:
        runners["naive"] = lambda: epoch_naive(models["naive"], opts["naive"], data, args.precision)
    order = [n for n in IMPLEMENTATIONS if n in runners] if args.epochs else []
    warmup = {n: runners[n]() for n in order}
    times: dict[str, list[float]] = {n: [] for n in order}
    for _ in range(args.epochs):
        for n in order:
            times[n].append(runners[n]())
    results = {
        n: {
            "seconds_per_epoch_mean": statistics.mean(v),
            "seconds_per_epoch_min": min(v),
            "seconds_per_epoch_all": v,
            "warmup_seconds": warmup[n],
        }
        for n, v in times.items()
    }
    record: dict[str, Any] = {
        "device": str(device),
        "precision": args.precision,
        "threads": torch.get_num_threads(),
        "pathways": path_info,
        "parameters_model": {n: count_parameters(m) for n, m in models.items()},
        **info,
        "epoch_order": order,
        "results": results,
        "ratios": ratios(results),
    }
    if "authors" in models and order:
        record["authors_logits_max_abs_diff_same_weights"] = authors_output_gap(
            models["ours"], models["authors"], data, inputs, pathways
        )
    counts = set(record["parameters_model"].values())
    record["parameter_counts_match"] = len(counts) == 1
    if args.profile_steps:
        record["profile"] = profile_step(
            models["ours"], opts["ours"], batches[0], args.profile_steps
        )
    return record


def ratios(results: dict[str, dict[str, float]]) -> dict[str, float | None]:
    """Speed-ups of ``ours`` (reference s/epoch / ours s/epoch), mean and min; None if absent."""
    out: dict[str, float | None] = {}
    if "ours" not in results:
        return out
    for ref in ("authors", "naive"):
        for stat in ("mean", "min"):
            key = f"seconds_per_epoch_{stat}"
            out[f"{ref}_over_ours_{stat}"] = (
                results[ref][key] / results["ours"][key] if ref in results else None
            )
    return out


def _git_commit(where: Path) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        return None
    return proc.stdout.strip() or None


def _uptime() -> str | None:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return None


def merge_into(out: Path, run: dict[str, Any], key: str, profile_label: str | None) -> dict:
    """Add ``run`` under ``runs[key]`` (and its profile under ``profile[label]``) of ``out``;
    a profile-only run (no timed epochs) adds only its profile."""
    record: dict[str, Any] = {"benchmark": "bench_multimodal", "runs": {}, "profile": {}}
    if out.is_file():
        with contextlib.suppress(ValueError, OSError):
            old = json.loads(out.read_text())
            if isinstance(old, dict) and old.get("benchmark") == "bench_multimodal":
                record.update({k: old[k] for k in ("runs", "profile") if k in old})
    profile = run.pop("profile", None)
    if profile is not None and profile_label:
        record["profile"].setdefault(profile_label, {})[key] = {
            **profile,
            "survlib_commit": run["survlib_commit"],
            "survlib_code": run["survlib_code"],
            "optimizer": run["parameters"]["ours_adam"],
            "code_note": run["parameters"]["code_note"],
            "loadavg": [run["loadavg_before"], run["loadavg_after"]],
        }
    if run["results"]:
        record["runs"][key] = run
    record["ratios"] = {k: r["ratios"] for k, r in record["runs"].items()}
    return record


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--patients", type=int, default=16, help="patients per epoch")
    add("--epochs", type=int, default=3, help="timed epochs per implementation")
    add("--patches", type=int, default=4096, help="patches per patient")
    add("--d-patch", type=int, default=1024, help="patch feature width")
    add("--n-bins", type=int, default=4)
    add("--batch-size", type=int, default=16, help="patients per step (ours)")
    add("--lr", type=float, default=5e-4)
    add("--threads", type=int, default=1, help="torch/BLAS CPU threads (0: library defaults)")
    add("--device", default="auto", help="cpu | cuda | auto (cuda when available)")
    add("--anchors", type=Path, default=None, help=f"authors' codes (default ${ANCHORS_ENV})")
    add("--signatures", type=Path, default=None, help="combine_signatures.csv to use")
    add("--max-pathways", type=int, default=None, help="use only the first K signatures")
    add("--fetch", action="store_true", help="download the signatures if not cached")
    add("--no-naive", action="store_true", help="skip the in-file naive reference")
    add("--ours-adam", default="library", help="library | fused | foreach | default (for-loop)")
    add("--precision", default="fp32", help="fp32 | bf16 (autocast of every forward pass)")
    add("--profile-steps", type=int, default=0, help="profile K steps of survlib's model")
    add("--profile-label", default="after", help="key of the profile in the JSON")
    add("--code-note", default=None, help="what survlib code ran (stored with the profile)")
    add("--seed", type=int, default=0)
    add("--out", type=Path, default=RESULTS_PATH, help="JSON to merge the run into")
    args = parser.parse_args(argv)
    for name in ("patients", "patches", "d_patch", "batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.epochs < 0 or args.profile_steps < 0 or (args.epochs == 0 and not args.profile_steps):
        raise ValueError(
            f"--epochs must be >= 0 and --profile-steps >= 0, not both 0; got {args.epochs}, "
            f"{args.profile_steps}"
        )
    autocast(pick_device(args.device).type, args.precision)  # fail early: bad precision/device
    limit_cpu_threads(args.threads)
    run = {
        "timestamp": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _git_commit(REPO),
        "survlib_code": str(Path(sys.modules["survlib"].__file__).parent),
        "survlib_commit": _git_commit(Path(sys.modules["survlib"].__file__).parent),
        "loadavg_before": _uptime(),
        "machine": machine_info(),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        **bench(args),
    }
    run["loadavg_after"] = _uptime()
    key = f"{run['device']}/threads={run['threads']}"
    key += "" if args.precision == "fp32" else f"/{args.precision}"
    record = merge_into(args.out, run, key, args.profile_label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out, record)
    report(run, key, record)
    print(f"wrote {args.out}")
    return args.out


def report(run: dict[str, Any], key: str, record: dict[str, Any]) -> None:
    """Print the run's s/epoch, speed-ups, parameter counts and profile."""
    p = run["pathways"]
    print(f"[{key}] pathways: {p['source']} ({p['n_pathways']}, {p['gene_pathway_pairs']} pairs)")
    print(f"  parameters: {run['parameters_model']} (match: {run['parameter_counts_match']})")
    if "authors_logits_max_abs_diff_same_weights" in run:
        gap = run["authors_logits_max_abs_diff_same_weights"]
        print(f"  authors' logits with survlib's weights: max |diff| {gap:.2e}")
    for n, r in run["results"].items():
        mean, low = r["seconds_per_epoch_mean"], r["seconds_per_epoch_min"]
        print(f"  {n:8s} {mean:.3f} s/epoch (min {low:.3f})")
    for n, v in run["ratios"].items():
        if v is not None:
            print(f"  {n}: {v:.2f}x")
    for label, by_run in record["profile"].items():
        if key in by_run:
            prof = by_run[key]
            print(f"  profile[{label}] {prof['step_total_seconds']:.3f} s/step:")
            for part, s in prof["seconds_per_step"].items():
                print(f"    {part:58s} {s:.4f}")


if __name__ == "__main__":
    main()
