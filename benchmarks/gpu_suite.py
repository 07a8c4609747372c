"""The GPU benchmark in one command: scSurvival on 1M cells, the multimodal benchmark and every
chapter's smoke run on one CUDA device, inside a wall-clock budget, into ONE JSON::

    python benchmarks/gpu_suite.py --out benchmarks/results/gpu_suite.json
    python benchmarks/gpu_suite.py --dry-run --out benchmarks/results/gpu_suite_dry.json  # CPU

Parts, in this order (``--parts`` picks a subset):

- ``scsurvival``: :func:`survlib.protocols.scsurvival.benchmark_run` end to end (simulate to a
  backed ``.h5ad``, load, train, predict, identify): 100 patients x 10,000 cells x 2,000 genes,
  the ``fast`` preset.
- ``multimodal``: ``benchmarks/bench_multimodal.py`` with ``--device`` and ``--out`` (and the
  size flags it has), run as its own process; its JSON is embedded.
- ``chapters``: ``survlib run NN --profile smoke`` for every chapter with ``SURVLIB_DEVICE`` set
  (so each chapter's ``pick_device("auto")`` lands on the device), ``--chapter-jobs`` at once.
- ``scsurvival_bf16``: the training again on the same cohort file with ``SURVLIB_PRECISION=bf16``
  (bf16 autocast in :func:`survlib.train.fit`); the F1 scores show whether the numbers hold.
- ``multimodal_bf16``: the multimodal benchmark with ``--precision bf16`` (skipped, with the
  reason, when the script has no such flag).

Budget: every part has a cap in seconds (``--budget PART=SECONDS``; the bf16 reruns' caps follow
from the fp32 run's time). A part starts only when its cap fits in what is left of the wall
(``--wall-seconds``, 540 = 9 minutes), else it is skipped with the reason recorded; a running part
is killed at its cap (status ``timeout``). Every part runs in a process of its own, so
``torch.cuda.max_memory_allocated`` there is that part's peak (``peak_gpu_mb``); where the work
runs in further processes (notebook kernels) the device-wide peak sampled with ``nvidia-smi``
(``peak_gpu_mb_device_sampled``, all processes) stands in. The JSON is rewritten atomically
after every part: a failing or killed part loses nothing that was already measured.

``--dry-run``: tiny sizes on the CPU (2,000 cells, 4 patients x 64 patches, a one-cell chapter
stub instead of the chapters), well under a minute: proves the script before it meets a GPU.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's survlib, as in every part (PYTHONPATH)

from survlib._core.io import atomic_write_json  # noqa: E402

MULTIMODAL_SCRIPT = ROOT / "benchmarks" / "bench_multimodal.py"
PARTS = ("scsurvival", "multimodal", "chapters", "scsurvival_bf16", "multimodal_bf16")
#: Caps in seconds (a bf16 rerun's cap is derived from its fp32 run, never above that run's cap).
#: Worst case ~10 s (device check) + 320 + 80 + 120 = 530 s < the 540 s wall. The 1M-cell run
#: gets the most: on the CPU its simulation, streaming passes and the risk-cell smoothing alone
#: extrapolate to minutes; tune these from the first GPU JSON (``--budget``).
BUDGETS = {"info": 90.0, "scsurvival": 320.0, "multimodal": 80.0, "chapters": 120.0}
DRY_BUDGETS = {"info": 30.0, "scsurvival": 45.0, "multimodal": 45.0, "chapters": 45.0}
SIZES: dict[str, Any] = {
    "scsurvival": {"n_patients": 100, "cells_per_patient": 10_000, "n_genes": 2000},
    "scsurvival_overrides": {},
    "multimodal_flags": {"--patients": 16, "--patches": 4096, "--epochs": 3},
}
DRY_SIZES: dict[str, Any] = {
    "scsurvival": {"n_patients": 4, "cells_per_patient": 500, "n_genes": 200},
    "scsurvival_overrides": {"pretrain_steps": 5, "amicr_steps": 5, "finetune_steps": 5},
    "multimodal_flags": {
        "--patients": 4,
        "--patches": 64,
        "--epochs": 1,
        "--d-patch": 32,
        "--n-genes": 500,
        "--batch-size": 2,
        "--pool": 2,
        "--threads": 1,
    },
}
#: The chapter stub of the dry run: one cell that computes on pick_device("auto").
STUB_CHAPTER = """# %% tags=["parameters"]
n = 32  # matrix size

# %%
import torch

from survlib.book import glue
from survlib.train import pick_device

device = pick_device("auto")
x = torch.randn(n, n, device=device)
glue("device", str(device))
glue("trace", float((x @ x.T).trace()))
"""


def log(message: str) -> None:
    """One progress line on stdout."""
    print(f"[gpu_suite] {message}", flush=True)


def json_safe(obj: Any) -> Any:
    """``obj`` with NaN/inf floats as None and paths/tuples/unknowns as JSON types."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if hasattr(obj, "item"):  # numpy scalars
        return json_safe(obj.item())
    return str(obj)


def script_flags(script: Path) -> set[str]:
    """The ``--flags`` a script's argparse declares (its option strings in the source)."""
    return set(re.findall(r"""["'](--[a-z][a-z0-9-]*)["']""", script.read_text()))


def tail(path: Path, chars: int = 3000) -> str:
    """The last ``chars`` characters of a log file ('' if it does not exist)."""
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# Worker side: what runs inside each part's own process
# --------------------------------------------------------------------------------------------


def cuda_peak_mb() -> float | None:
    """``torch.cuda.max_memory_allocated`` of this process in MB (None when CUDA was not used)."""
    import torch

    if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def worker_info(spec: dict[str, Any]) -> dict[str, Any]:
    """Device name, torch/CUDA versions and the machine, from a process that may touch CUDA."""
    import platform

    import torch

    from survlib.bench import machine_info
    from survlib.train import pick_device

    dev = pick_device(spec["device"])
    info: dict[str, Any] = {
        "requested": spec["device"],
        "type": dev.type,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "name": platform.processor() or platform.machine(),
    }
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        info.update(
            name=props.name,
            capability=list(torch.cuda.get_device_capability(dev)),
            total_memory_mb=props.total_memory / 2**20,
            device_count=torch.cuda.device_count(),
            bf16_supported=bool(torch.cuda.is_bf16_supported()),
        )
    return {"device": info, "machine": machine_info()}


def worker_scsurvival(spec: dict[str, Any]) -> dict[str, Any]:
    """One scSurvival run; reuses ``spec["cohort_file"]`` (no new simulation) when given."""
    from survlib._core.device import resolve_precision
    from survlib.protocols import scsurvival as protocol

    reuse = spec.get("cohort_file")
    result = protocol.benchmark_run(
        spec["n_patients"],
        spec["cells_per_patient"],
        n_genes=spec["n_genes"],
        preset="fast",
        setting="hardest",
        seed=0,
        device=spec["device"],
        workdir=spec["workdir"],
        keep_file=True,
        isolate=spec["isolate"],
        cohort_file=reuse if reuse and os.path.exists(reuse) else None,
        **spec["overrides"],
    )
    stage_peaks = [v["peak_gpu_mb"] for v in result["stages"].values() if "peak_gpu_mb" in v]
    own = cuda_peak_mb()
    peaks = stage_peaks + ([own] if own is not None else [])
    result["peak_gpu_mb"] = max(peaks) if peaks else None
    result["precision"] = resolve_precision(None)  # what fit used: SURVLIB_PRECISION or fp32
    return result


def worker_script(spec: dict[str, Any]) -> dict[str, Any]:
    """Run a benchmark script as ``__main__`` with its CLI arguments (so multiprocessing and
    argparse see the script itself), then read the JSON it wrote to ``spec["json"]``."""
    import runpy

    script = spec["script"]
    sys.argv = [script, *spec["argv"]]
    sys.path.insert(0, str(Path(script).parent))
    exit_code: Any = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        exit_code = stop.code
    if exit_code not in (0, None):
        raise RuntimeError(f"{script} exited with {exit_code!r}")
    result = json.loads(Path(spec["json"]).read_text())
    result.pop("machine", None)  # recorded once, at the top of the suite's JSON
    return {"script_json": result, "peak_gpu_mb": cuda_peak_mb()}


WORKERS = {"info": worker_info, "scsurvival": worker_scsurvival, "script": worker_script}


def worker_main(kind: str, spec_path: str, out_path: str) -> int:
    """Entry point of a part's process: run it, write its result JSON atomically."""
    spec = json.loads(Path(spec_path).read_text())
    if spec.get("threads"):
        from survlib.bench import limit_cpu_threads

        limit_cpu_threads(int(spec["threads"]))
    t0 = time.perf_counter()
    result = WORKERS[kind](spec)
    result["worker_seconds"] = time.perf_counter() - t0
    atomic_write_json(out_path, json_safe(result), sort_keys=False)
    return 0


# --------------------------------------------------------------------------------------------
# Suite side: budgets, processes, the JSON
# --------------------------------------------------------------------------------------------


class GpuMemorySampler:
    """Device-wide used GPU memory (MB, all processes), polled with ``nvidia-smi`` every 250 ms;
    ``peak`` is None when there is no ``nvidia-smi`` or the device is not CUDA."""

    def __init__(self, enabled: bool) -> None:
        self.peak: float | None = None
        self.proc: subprocess.Popen[str] | None = None
        if not enabled:
            return
        cmd = ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"]
        try:
            self.proc = subprocess.Popen(
                [*cmd, "-lms", "250"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
        except OSError:
            return
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                value = float(line.strip())
            except ValueError:
                continue
            self.peak = value if self.peak is None else max(self.peak, value)

    def stop(self) -> float | None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
        return self.peak


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """End a part's process and every process it started (its own session)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_process(cmd: list[str], env: dict[str, str], cap: float, log_path: Path) -> dict:
    """Run ``cmd`` in a session of its own, output to ``log_path``; kill it after ``cap`` s."""
    t0 = time.perf_counter()
    with open(log_path, "w") as fh:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            rc = proc.wait(timeout=max(1.0, cap))
            status = "ok" if rc == 0 else "failed"
        except subprocess.TimeoutExpired:
            kill_group(proc)
            rc, status = None, "timeout"
        except BaseException:  # Ctrl-C or SIGTERM of the suite: take the part down with it
            kill_group(proc)
            raise
    return {"status": status, "returncode": rc, "seconds": time.perf_counter() - t0}


class Suite:
    """The record of one suite run, its wall budget and the helpers every part uses."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.start = time.monotonic()
        self.out = Path(args.out)
        self.workdir = Path(tempfile.mkdtemp(prefix="gpu_suite_", dir=args.workdir))
        self.cuda = args.device.startswith("cuda")
        self.sizes = DRY_SIZES if args.dry_run else SIZES
        self.caps = {**(DRY_BUDGETS if args.dry_run else BUDGETS), **args.budget}
        self.record: dict[str, Any] = {
            "benchmark": "gpu_suite",
            "started_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": [sys.executable, *sys.argv],
            "dry_run": bool(args.dry_run),
            "device_requested": args.device,
            "budget": {"wall_s": args.wall_seconds, "caps_s": dict(self.caps)},
            "parts": {},
            "speedups": {},
            "precision_check": {},
            "complete": False,
        }

    # ------------------------------------------------------------------ time and records
    def remaining(self) -> float:
        return self.args.wall_seconds - (time.monotonic() - self.start)

    def save(self) -> None:
        self.record["elapsed_s"] = time.monotonic() - self.start
        self.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.out, json_safe(self.record), sort_keys=False)

    def env(self, precision: str = "fp32") -> dict[str, str]:
        """The environment of every part: this checkout first on the path, the device for
        ``pick_device("auto")``, the precision for ``fit``."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.setdefault("SURVLIB_REPO", str(ROOT))
        env["SURVLIB_DEVICE"] = self.args.device
        env["SURVLIB_PRECISION"] = precision
        env.setdefault("PYTHONWARNINGS", "ignore")
        if self.args.dry_run:
            env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        return env

    def worker(self, name: str, kind: str, spec: dict, cap: float, precision: str) -> dict:
        """Run one worker process; returns the run's status, seconds and the worker's result."""
        spec_path, out_path = self.workdir / f"{name}.spec.json", self.workdir / f"{name}.json"
        spec_path.write_text(json.dumps(spec))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind]
        cmd += ["--worker-spec", str(spec_path), "--worker-out", str(out_path)]
        log_path = self.workdir / f"{name}.log"
        sampler = GpuMemorySampler(self.cuda)
        try:
            run = run_process(cmd, self.env(precision), cap, log_path)
        finally:
            run_peak = sampler.stop()
        run["peak_gpu_mb_device_sampled"] = run_peak
        if run["status"] == "ok" and out_path.exists():
            run["result"] = json.loads(out_path.read_text())
        elif run["status"] == "ok":
            run["status"] = "failed"
        if run["status"] != "ok":
            run["log_tail"] = tail(log_path)
        return run

    # ------------------------------------------------------------------ one part
    def run_part(self, name: str, cap: float | None, body: Any, reason: str | None = None) -> None:
        """Skip (with ``reason``, or when ``cap`` does not fit in the wall) or run ``body(cap)``,
        then record and save."""
        left = self.remaining()
        if reason is None and cap is not None and cap > left:
            wall = self.args.wall_seconds
            reason = f"needs up to {cap:.0f} s but {left:.0f} s of the {wall:.0f} s wall remain"
        if reason is not None:
            part = {"status": "skipped", "reason": reason, "budget_s": cap}
            log(f"{name}: skipped ({reason})")
        else:
            log(f"{name}: starting (cap {cap:.0f} s, {left:.0f} s of wall left)")
            try:
                part = {"budget_s": cap, **body(cap)}
            except Exception as err:  # a bug in the suite itself: record it, keep going
                part = {
                    "status": "failed",
                    "budget_s": cap,
                    "reason": f"{type(err).__name__}: {err}",
                }
            log(f"{name}: {part['status']} in {part.get('seconds', 0):.1f} s")
        self.record["parts"][name] = part
        update_speedups(self.record)
        self.save()

    # ------------------------------------------------------------------ the parts
    def check_device(self) -> str | None:
        """Run the info worker; None when the device works, else why every part is skipped."""
        run = self.worker("info", "info", {"device": self.args.device}, self.caps["info"], "fp32")
        self.record["device_check_s"] = run["seconds"]
        if run["status"] != "ok":
            last = (run.get("log_tail") or "").strip().splitlines()[-1:] or [run["status"]]
            self.record["device"] = {"requested": self.args.device, "error": last[0]}
            return f"the device check failed: {last[0]}"
        info = run["result"]
        self.record.update(device=info["device"], machine=info["machine"])
        self.record.update(torch=info["device"]["torch"], cuda=info["device"]["cuda"])
        log(
            f"device: {info['device']['name']} (torch {info['device']['torch']}, CUDA "
            f"{info['device']['cuda']}) in {run['seconds']:.1f} s"
        )
        return None

    def scsurvival(self, name: str, precision: str, cohort_file: str | None) -> Any:
        def body(cap: float) -> dict[str, Any]:
            spec = {
                **self.sizes["scsurvival"],
                "overrides": self.sizes["scsurvival_overrides"],
                "device": self.args.device,
                "workdir": str(self.workdir),
                "isolate": not self.args.dry_run,
                "cohort_file": cohort_file,
                "threads": 1 if self.args.dry_run else None,
            }
            run = self.worker(name, "scsurvival", spec, cap, precision)
            if "result" in run:
                run.update(peak_gpu_mb=run["result"]["peak_gpu_mb"], precision=precision)
            return run

        return body

    def multimodal(self, name: str, precision: str) -> Any:
        script = Path(self.args.multimodal_script)

        def body(cap: float) -> dict[str, Any]:
            flags = script_flags(script)
            missing = [f for f in ("--device", "--out") if f not in flags]
            if missing:
                return {"status": "failed", "reason": f"{script.name} has no {missing} flag(s)"}
            out_json = self.workdir / f"{name}.script.json"
            argv = ["--device", self.args.device, "--out", str(out_json)]
            sizes = self.sizes["multimodal_flags"]
            dropped = sorted(f for f in sizes if f not in flags)
            for flag, value in sizes.items():
                argv += [flag, str(value)] if flag in flags else []
            argv += ["--precision", "bf16"] if precision == "bf16" else []
            argv += shlex.split(self.args.multimodal_args)
            spec = {"script": str(script), "argv": argv, "json": str(out_json)}
            run = self.worker(name, "script", spec, cap, precision)
            run.update(argv=argv, flags_dropped=dropped, precision=precision)
            if dropped:
                run["note"] = f"{script.name} has no {dropped}: its own defaults were used"
            if "result" in run:
                run["peak_gpu_mb"] = run["result"]["peak_gpu_mb"]
            return run

        return body

    def chapter_targets(self) -> list[tuple[str, str]]:
        """(name, what ``survlib run`` is given) for ``--chapters``: all, stub, or a list."""
        choice = self.args.chapters
        if choice == "stub":
            stub = self.workdir / "99_device_stub.py"
            stub.write_text(STUB_CHAPTER)
            return [(stub.stem, str(stub))]
        stems = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
        if choice == "all":
            return [(s, s) for s in stems]
        wanted = [c.strip() for c in choice.split(",") if c.strip()]
        picked = [s for s in stems if s in wanted or s.split("_", 1)[0] in wanted]
        if len(picked) != len(wanted):
            raise ValueError(f"--chapters {choice!r}: known chapters are {stems}")
        return [(s, s) for s in picked]

    def chapters(self, cap: float) -> dict[str, Any]:
        """Every chapter's smoke run on the device, ``--chapter-jobs`` at once, within ``cap``."""
        targets = self.chapter_targets()
        deadline = time.monotonic() + cap
        jobs = max(1, min(self.args.chapter_jobs, len(targets)))
        threads = max(1, (os.cpu_count() or 1) // jobs)
        env = self.env("fp32")
        env.update({v: str(threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")})
        (self.workdir / "chapters").mkdir(exist_ok=True)

        def one(target: tuple[str, str]) -> dict[str, Any]:
            stem, what = target
            left = deadline - time.monotonic()
            if left < 5:
                return {"status": "skipped", "reason": "the chapters' cap was spent first"}
            nb = self.workdir / "chapters" / f"{stem}.ipynb"
            cmd = [sys.executable, "-m", "survlib", "run", what, "--profile", "smoke"]
            cmd += ["-o", str(nb), "-q"]
            log_path = nb.with_suffix(".log")
            run = run_process(cmd, env, left, log_path)
            headlines = nb.with_suffix(".headlines.json")
            if run["status"] == "ok" and headlines.exists():
                record = json.loads(headlines.read_text())
                run.update(
                    device_glued=record["values"].get("device"),
                    n_headlines=len(record["values"]),
                    seconds_in_runner=record["run"].get("seconds"),
                )
            else:
                run["log_tail"] = tail(log_path)
            log(f"  chapter {stem}: {run['status']} in {run.get('seconds', 0):.1f} s")
            return run

        sampler = GpuMemorySampler(self.cuda)
        t0 = time.perf_counter()
        try:
            with ThreadPoolExecutor(jobs) as pool:
                results = dict(zip([t[0] for t in targets], pool.map(one, targets), strict=True))
        finally:
            peak = sampler.stop()
        statuses = {r["status"] for r in results.values()}
        status = "ok" if statuses == {"ok"} else "failed" if "failed" in statuses else "timeout"
        return {
            "status": status,
            "seconds": time.perf_counter() - t0,
            "chapters": results,
            "chapter_jobs": jobs,
            "threads_per_chapter": threads,
            "peak_gpu_mb": None,
            "peak_gpu_mb_note": "chapters run in Jupyter kernels (other processes): see "
            "peak_gpu_mb_device_sampled (nvidia-smi, all processes on the device)",
            "peak_gpu_mb_device_sampled": peak,
        }


# --------------------------------------------------------------------------------------------
# Speed-ups and the run
# --------------------------------------------------------------------------------------------


def _ok_result(record: dict[str, Any], name: str) -> dict[str, Any] | None:
    part = record["parts"].get(name) or {}
    return part.get("result") if part.get("status") == "ok" else None


def _ratio(slow: Any, fast: Any) -> float | None:
    ok = isinstance(slow, int | float) and isinstance(fast, int | float) and fast > 0
    return float(slow) / float(fast) if ok else None


def _epoch_times(script_json: dict[str, Any]) -> dict[str, float]:
    """Mean seconds per epoch of each implementation in a multimodal JSON ('results')."""
    results = script_json.get("results") or {}
    return {
        k: v["seconds_per_epoch_mean"]
        for k, v in results.items()
        if isinstance(v, dict) and "seconds_per_epoch_mean" in v
    }


def update_speedups(record: dict[str, Any]) -> None:
    """``speedups`` (reference seconds / these seconds: > 1 is faster) and ``precision_check``
    (the bf16 rerun's scores beside fp32's) from the parts that finished."""
    speed: dict[str, Any] = {}
    check: dict[str, Any] = {}
    mm, mm16 = _ok_result(record, "multimodal"), _ok_result(record, "multimodal_bf16")
    if mm:
        for key, value in mm["script_json"].items():
            if key.startswith("speedup") and isinstance(value, int | float):
                speed[f"multimodal_{key}"] = value
    a32, a16 = _ok_result(record, "scsurvival"), _ok_result(record, "scsurvival_bf16")
    if a32 and a16:
        speed["scsurvival_bf16_vs_fp32"] = {
            k: _ratio(a32.get(k), a16.get(k)) for k in ("seconds_end_to_end", "seconds_train")
        }
        check["scsurvival"] = {
            m: {"fp32": a32.get(m), "bf16": a16.get(m)} for m in ("macro_f1", "binary_f1")
        }
    if mm and mm16:
        t32, t16 = _epoch_times(mm["script_json"]), _epoch_times(mm16["script_json"])
        speed["multimodal_bf16_vs_fp32"] = {k: _ratio(t32[k], t16.get(k)) for k in t32}
    refs = record.get("cpu_reference", {})
    if a32 and "scsurvival" in refs:
        ref = refs["scsurvival"]
        speed["scsurvival_vs_cpu_reference"] = {
            k: _ratio(ref.get(k), a32.get(k)) for k in ("seconds_end_to_end", "seconds_train")
        }
    if mm and "multimodal" in refs:
        t_ref, t_gpu = _epoch_times(refs["multimodal"]), _epoch_times(mm["script_json"])
        speed["multimodal_vs_cpu_reference"] = {k: _ratio(t_ref[k], t_gpu.get(k)) for k in t_ref}
    record["speedups"], record["precision_check"] = speed, check


def bf16_cap(suite: Suite, base: str) -> tuple[float | None, str | None]:
    """The cap of a bf16 rerun (1.5 x the fp32 run's time + 30 s, at most the fp32 cap), or why
    it cannot run."""
    name = f"{base}_bf16"
    part = suite.record["parts"].get(base)
    if part is None:
        return None, f"needs the {base} part (not in --parts)"
    if part["status"] != "ok":
        return None, f"the fp32 {base} run did not finish ({part['status']}): nothing to compare"
    if name in suite.caps:
        return suite.caps[name], None
    seconds = part["result"].get("seconds_end_to_end", part["seconds"])  # no new simulation
    return min(suite.caps[base], 1.5 * seconds + 30.0), None


def run_suite(suite: Suite, parts: list[str]) -> None:
    """Every requested part in order (each saved as it ends)."""
    reason = suite.check_device()
    if reason is None and not suite.args.dry_run and not suite.cuda:
        log("warning: not a CUDA device; the figures are CPU figures")
    for name in parts:
        cap: float | None = suite.caps.get(name)
        why = reason
        if name == "scsurvival":
            body = suite.scsurvival(name, "fp32", None)
        elif name == "multimodal":
            body = suite.multimodal(name, "fp32")
        elif name == "chapters":
            body = suite.chapters
        else:
            base = name.removesuffix("_bf16")
            cap, why = (None, reason) if reason else bf16_cap(suite, base)
            if base == "scsurvival":
                fp32 = _ok_result(suite.record, "scsurvival") or {}
                body = suite.scsurvival(name, "bf16", fp32.get("cohort_file"))
            else:
                body = suite.multimodal(name, "bf16")
                flags = script_flags(Path(suite.args.multimodal_script))
                if why is None and "--precision" not in flags:
                    why = f"{Path(suite.args.multimodal_script).name} has no --precision flag"
        suite.run_part(name, cap, body, why)


def load_reference(spec: str) -> tuple[str, dict[str, Any]]:
    """``PART=PATH`` of a CPU benchmark JSON (bench_scsurvival.py / bench_multimodal.py)."""
    part, _, path = spec.partition("=")
    if part not in ("scsurvival", "multimodal") or not path:
        raise ValueError(f"--cpu-reference {spec!r}: use scsurvival=PATH or multimodal=PATH")
    data = json.loads(Path(path).read_text())
    data.pop("machine", None)
    data.pop("runs", None)
    return part, {**data, "path": path}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/)")
    ap.add_argument("--device", default=None, help="cuda (default) | cuda:N | cpu")
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes, CPU, < 60 s")
    ap.add_argument("--wall-seconds", type=float, default=None, help="540 (dry run: 120)")
    ap.add_argument("--budget", action="append", default=[], metavar="PART=SECONDS")
    ap.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset, in order")
    ap.add_argument("--chapters", default=None, help="all (default) | stub (dry run) | 01,03")
    ap.add_argument("--chapter-jobs", type=int, default=None, help="at once (3; dry run 1)")
    ap.add_argument("--patients", type=int, default=None, help="scsurvival: 100")
    ap.add_argument("--cells-per-patient", type=int, default=None, help="scsurvival: 10000")
    ap.add_argument("--genes", type=int, default=None, help="scsurvival: 2000")
    ap.add_argument("--multimodal-script", default=str(MULTIMODAL_SCRIPT))
    ap.add_argument("--multimodal-args", default="", help="extra flags, e.g. '--patients 32'")
    ap.add_argument("--cpu-reference", action="append", default=[], metavar="PART=JSON")
    ap.add_argument("--workdir", default=None, help="parent of the temporary folder")
    ap.add_argument("--keep-workdir", action="store_true", help="keep logs and the cohort")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-spec", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return args
    dry = args.dry_run
    args.device = args.device or ("cpu" if dry else "cuda")
    args.wall_seconds = args.wall_seconds or (120.0 if dry else 540.0)
    args.chapters = args.chapters or ("stub" if dry else "all")
    args.chapter_jobs = args.chapter_jobs or (1 if dry else 3)
    name = "gpu_suite_dry.json" if dry else "gpu_suite.json"
    args.out = args.out or str(ROOT / "benchmarks" / "results" / name)
    budgets: dict[str, float] = {}
    for item in args.budget:
        part, _, value = item.partition("=")
        try:
            budgets[part] = float(value)
        except ValueError:
            ap.error(f"--budget {item!r}: use PART=SECONDS")
        if part not in (*PARTS, "info") or budgets[part] <= 0:
            ap.error(f"--budget {item!r}: PART is one of {[*PARTS, 'info']}, SECONDS > 0")
    args.budget = budgets
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown or args.wall_seconds <= 0 or args.chapter_jobs < 1:
        ap.error(f"--parts {unknown} not in {list(PARTS)}" if unknown else "bad wall/jobs")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.worker_spec, args.worker_out)
    import shutil

    from survlib._core.signals import sigterm_raises

    suite = Suite(args)
    sizes = {k: v for k, v in (("n_patients", args.patients), ("n_genes", args.genes)) if v}
    if args.cells_per_patient:
        sizes["cells_per_patient"] = args.cells_per_patient
    suite.sizes = {**suite.sizes, "scsurvival": {**suite.sizes["scsurvival"], **sizes}}
    suite.record["sizes"] = suite.sizes
    suite.record["cpu_reference"] = dict(load_reference(s) for s in args.cpu_reference)
    log(f"{len(args.parts)} part(s) on {args.device}, wall {args.wall_seconds:.0f} s -> {args.out}")
    try:
        with sigterm_raises():
            run_suite(suite, args.parts)
        suite.record["complete"] = True
    except BaseException as err:  # Ctrl-C / SIGTERM: the parts done so far stay recorded
        suite.record["interrupted"] = f"{type(err).__name__}: {err}"
        raise
    finally:
        suite.record["finished_at"] = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        suite.save()
        if not args.keep_workdir:
            shutil.rmtree(suite.workdir, ignore_errors=True)
        log(f"wrote {suite.out} ({time.monotonic() - suite.start:.0f} s)")
    statuses = [p["status"] for p in suite.record["parts"].values()]
    device_failed = "error" in suite.record.get("device", {})
    return 0 if not device_failed and all(s in ("ok", "skipped") for s in statuses) else 1


if __name__ == "__main__":
    raise SystemExit(main())
