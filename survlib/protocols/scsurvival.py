"""Chapter 3's experiment: the time and memory of every stage of scSurvival on simulated cohorts
of growing size (:func:`benchmark_run`), shared by ``notebooks/03_scsurvival_scaling.py``,
``benchmarks/bench_scsurvival.py`` and the tests; with the memory sampler it uses
(:class:`MemorySampler`) and the straight-line fit of the scaling plots (:func:`linear_fit`)."""

from __future__ import annotations

import time as _time
from collections.abc import Sequence
from typing import Any

import numpy as np

from survlib.data.sc import simulate_sc_cohort
from survlib.explain.risk_cells import identify_risk_cells, risk_cell_metrics
from survlib.models.sc import ScSurvival
from survlib.train import pick_device

__all__ = ["MemorySampler", "benchmark_run", "linear_fit"]


def _rss_bytes() -> int:
    """Resident memory of this process now (Linux ``/proc``; else psutil; else 0)."""
    try:
        with open("/proc/self/statm") as fh:
            import os

            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        try:
            import psutil

            return int(psutil.Process().memory_info().rss)
        except ImportError:
            return 0


class MemorySampler:
    """Samples resident memory every ``interval`` seconds in a background thread.

    ``peak(start, end)`` is the highest sample taken in a ``time.perf_counter`` window, so
    one sampler gives the peak of every stage of a run.  On CUDA, also read
    ``torch.cuda.max_memory_allocated`` per stage (see :func:`benchmark_run`).
    """

    def __init__(self, interval: float = 0.01) -> None:
        import threading

        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((_time.perf_counter(), _rss_bytes()))
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        inside = [m for t, m in self.samples if start <= t <= end]
        return max(inside) if inside else _rss_bytes()


def _simulate_to_file(
    path: str, n_patients: int, cells_per_patient: int, n_genes: int, setting: str, seed: int
) -> dict[str, float]:
    """Simulate a cohort into ``path`` (streamed); seconds and peak memory of doing so."""
    with MemorySampler() as mem:
        t0 = _time.perf_counter()
        adata = simulate_sc_cohort(
            n_patients, cells_per_patient, n_genes, setting, seed, write_h5ad=path
        )
        adata.file.close()
        t1 = _time.perf_counter()
    return {"seconds": t1 - t0, "peak_rss_mb": mem.peak(t0, t1) / 2**20}


def benchmark_run(
    n_patients: int,
    cells_per_patient: int,
    n_genes: int,
    preset: str = "fast",
    setting: str = "hardest",
    backed: bool = True,
    workdir: str | None = None,
    seed: int = 0,
    device: str = "auto",
    keep_file: bool = False,
    isolate: bool = True,
    cohort_file: str | None = None,
    **train_overrides: Any,
) -> dict[str, Any]:
    """Time and memory of every stage of one scSurvival run on a simulated cohort.

    Stages: ``simulate`` (counts streamed to an ``.h5ad`` when ``backed``), ``load`` (open it
    backed, ``backed="r"``), ``setup`` (validation and model creation), the training stages
    ``checks`` / ``pretrain`` / ``amicr`` / ``finetune``, ``predict`` (every cell streamed
    once: embeddings, per-cell scores, patient risk) and ``identify`` (the default risk-cell
    rule, :func:`survlib.explain.identify_risk_cells`).  For each: seconds, peak resident memory
    (MB) during the stage, and on CUDA the peak allocated GPU memory.

    With ``isolate`` (default, backed runs only) the simulation runs in one fresh process and
    the measured run (load -> identify) in another, so the peak memory of a stage is that of
    the model alone: memory a previous stage freed but the allocator kept, or a previous
    cohort left behind, does not count.

    ``keep_file`` keeps the simulated ``.h5ad`` (its path is ``cohort_file`` in the result);
    ``cohort_file`` measures a run on such a file, simulated before with the same cohort
    arguments (e.g. an fp32 and a bf16 run on one cohort): no ``simulate`` stage, and the file
    is left where it is.

    Returns a JSON-ready dict with the stages, ``cells_per_second`` (cells / end-to-end seconds
    excluding simulation), the device and versions, ``cohort_file`` (the kept or reused file,
    else None) and ``cohort_reused``.
    """
    import os
    import tempfile

    if cohort_file is not None:
        if not backed:
            raise ValueError("benchmark_run: cohort_file needs backed=True (it is read backed)")
        if not os.path.isfile(cohort_file):
            raise FileNotFoundError(f"benchmark_run: cohort_file {cohort_file!r} does not exist")
    tmp = None
    if backed and workdir is None and cohort_file is None:
        tmp = tempfile.TemporaryDirectory(prefix="scsurvival_bench_")
        workdir = tmp.name
    if cohort_file is not None:
        path: str | None = cohort_file
    elif backed:
        assert workdir is not None
        name = f"cohort_{n_patients}x{cells_per_patient}x{n_genes}_{seed}.h5ad"
        path = os.path.join(workdir, name)
    else:
        path = None
    sim_args = (n_patients, cells_per_patient, n_genes, setting, seed)
    try:
        if backed and isolate:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            sim = None
            if cohort_file is None:
                with ctx.Pool(1) as pool:
                    sim = pool.apply(_simulate_to_file, (path, *sim_args))
            with ctx.Pool(1) as pool:
                result = pool.apply(
                    _measure_run, (path, sim_args, preset, device, seed, train_overrides)
                )
            if sim is not None:
                result["stages"] = {"simulate": sim, **result["stages"]}
        else:
            sim = _simulate_to_file(path, *sim_args) if backed and cohort_file is None else None
            result = _measure_run(path, sim_args, preset, device, seed, train_overrides)
            if sim is not None:
                result["stages"] = {"simulate": sim, **result["stages"]}
    finally:
        if path and not keep_file and cohort_file is None and os.path.exists(path):
            os.remove(path)
        if tmp is not None:
            tmp.cleanup()
    stages = result["stages"]
    result["peak_rss_mb"] = max(v["peak_rss_mb"] for v in stages.values())
    result["backed"], result["isolated"] = backed, bool(backed and isolate)
    result["cohort_file"] = path if path and (keep_file or cohort_file is not None) else None
    result["cohort_reused"] = cohort_file is not None
    return result


def _measure_run(
    path: str | None,
    sim_args: tuple,
    preset: str,
    device: str,
    seed: int,
    train_overrides: dict[str, Any],
) -> dict[str, Any]:
    """The measured part of :func:`benchmark_run`: load (or simulate in memory) -> predict."""
    import torch as _torch

    n_patients, cells_per_patient, n_genes, setting, _ = sim_args
    dev = pick_device(device)
    cuda = dev.type == "cuda"
    stages: dict[str, dict[str, float]] = {}
    with MemorySampler() as mem:

        def record(name: str, t0: float, t1: float) -> None:
            stages[name] = {"seconds": t1 - t0, "peak_rss_mb": mem.peak(t0, t1) / 2**20}

        t0 = _time.perf_counter()
        if path is not None:
            import anndata as ad

            adata = ad.read_h5ad(path, backed="r")
            record("load", t0, _time.perf_counter())
        else:
            adata = simulate_sc_cohort(*sim_args)
            record("simulate", t0, _time.perf_counter())
        t0 = _time.perf_counter()
        ScSurvival.setup_anndata(adata)
        model = ScSurvival(adata, preset=preset)
        record("setup", t0, _time.perf_counter())
        if cuda:
            _torch.cuda.reset_peak_memory_stats()
        model.train(device=device, seed=seed, progress=False, **train_overrides)
        for name, (a, b) in model.stage_windows.items():
            record(name, a, b)
        if cuda:
            stages["finetune"]["peak_gpu_mb"] = _torch.cuda.max_memory_allocated() / 2**20
            _torch.cuda.reset_peak_memory_stats()
        t0 = _time.perf_counter()
        risk = model.predict_risk(adata)
        if cuda:
            _torch.cuda.synchronize()
        record("predict", t0, _time.perf_counter())
        if cuda:
            stages["predict"]["peak_gpu_mb"] = _torch.cuda.max_memory_allocated() / 2**20
        t0 = _time.perf_counter()
        identify_risk_cells(model, adata, recompute=False)
        record("identify", t0, _time.perf_counter())
        scores = risk_cell_metrics(adata.obs["risk_group"], adata.obs["predicted_risk_group"])
        n_cells = int(adata.n_obs)
        if path is not None:
            adata.file.close()
    measured = {k: v for k, v in stages.items() if k != "simulate"}
    end_to_end = sum(v["seconds"] for v in measured.values())
    return {
        "n_patients": n_patients,
        "cells_per_patient": cells_per_patient,
        "n_cells": n_cells,
        "n_genes": n_genes,
        "preset": preset,
        "setting": setting,
        "seed": seed,
        "device": str(dev),
        "torch": _torch.__version__,
        "torch_threads": _torch.get_num_threads(),
        "stages": stages,
        "steps": dict(model.steps_run),
        "seconds_end_to_end": end_to_end,
        "seconds_train": sum(model.timings.values()),
        "seconds_streaming": sum(
            stages[k]["seconds"] for k in ("load", "checks", "predict") if k in stages
        ),
        "cells_per_second": n_cells / end_to_end if end_to_end > 0 else float("nan"),
        "peak_rss_mb_after_simulate": max(v["peak_rss_mb"] for v in measured.values()),
        "macro_f1": scores["macro_f1"],
        "binary_f1": scores["binary_f1"],
        "n_patients_risk": int(len(risk)),
        "overrides": dict(train_overrides),
    }


def linear_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least-squares line ``y = intercept + slope * x`` and its R^2."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    slope, intercept = np.polyfit(xa, ya, 1)
    pred = intercept + slope * xa
    ss_res = float(((ya - pred) ** 2).sum())
    ss_tot = float(((ya - ya.mean()) ** 2).sum())
    return {
        "slope": float(slope),
        "intercept": float(intercept),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
    }
