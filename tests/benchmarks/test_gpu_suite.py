"""benchmarks/gpu_suite.py on the CPU: the dry run writes one complete JSON (every part, its
timings, the device, the speed-ups), a failing or overrunning part is recorded without losing
the others, and a part that does not fit in the wall is skipped with its reason.

The multimodal benchmark is replaced by a stub script with the same command-line contract
(``--device``, ``--out``, sizes, ``--precision``) so that these tests depend only on that
contract, not on the benchmark's own running time."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "benchmarks" / "gpu_suite.py"

STUB_MULTIMODAL = """
import argparse, json, os, sys, time
p = argparse.ArgumentParser()
for flag in ("--device", "--out", "--precision", "--mode"):
    p.add_argument(flag, default="fp32" if flag == "--precision" else None)
for flag in ("--patients", "--patches", "--epochs"):
    p.add_argument(flag, type=int)
a = p.parse_args()
if a.mode == "fail":
    sys.exit("stub exploded")
if a.mode == "hang":
    time.sleep(120)
per_epoch = 0.5 if a.precision == "bf16" else 1.0
json.dump({
    "speedup_mean": 2.0,
    "results": {"ours": {"seconds_per_epoch_mean": per_epoch},
                "naive": {"seconds_per_epoch_mean": 2 * per_epoch}},
    "argv": sys.argv[1:],
    "env": {k: os.environ.get(k) for k in ("SURVLIB_DEVICE", "SURVLIB_PRECISION")},
    "machine": {"dropped": True},
}, open(a.out, "w"))
"""


def _run_suite(tmp_path: Path, *args: str, mode: str | None = None) -> tuple[dict, float, str]:
    stub = tmp_path / "stub_multimodal.py"
    stub.write_text(STUB_MULTIMODAL)
    out = tmp_path / "suite.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SURVLIB_REPO": str(ROOT)}
    env.update(OMP_NUM_THREADS="1", SURVLIB_DEVICE="", SURVLIB_PRECISION="")
    cmd = [sys.executable, str(SUITE), "--dry-run", "--out", str(out)]
    cmd += ["--multimodal-script", str(stub), "--workdir", str(tmp_path), *args]
    if mode:
        cmd += ["--multimodal-args", f"--mode {mode}"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    seconds = time.perf_counter() - t0
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), seconds, proc.stdout + f"\nrc={proc.returncode}"


def test_dry_run_writes_every_part_into_one_json(tmp_path):
    sizes = ("--patients", "4", "--cells-per-patient", "200", "--genes", "100")
    record, seconds, stdout = _run_suite(tmp_path, "--wall-seconds", "300", *sizes)
    # ~25 s on an idle 2-core machine; the bound only catches a dry run that stopped being dry
    assert seconds < 120, f"the dry run took {seconds:.0f} s"
    assert record["benchmark"] == "gpu_suite" and record["dry_run"] and record["complete"]
    assert record["device"]["type"] == "cpu" and record["device"]["name"]
    assert record["torch"] == record["device"]["torch"] and "cuda" in record
    assert record["machine"]["cpu_count"] >= 1 and record["budget"]["wall_s"] == 300
    parts = record["parts"]
    assert list(parts) == [
        "scsurvival",
        "multimodal",
        "chapters",
        "scsurvival_bf16",
        "multimodal_bf16",
    ]
    for name, part in parts.items():
        assert part["status"] == "ok", (name, part.get("log_tail") or part.get("reason"))
        assert 0 < part["seconds"] <= part["budget_s"], name
        assert "peak_gpu_mb" in part and part["peak_gpu_mb"] is None  # no CUDA here
        assert f"[gpu_suite] {name}: ok" in stdout  # one progress line per part

    fp32, bf16 = parts["scsurvival"]["result"], parts["scsurvival_bf16"]["result"]
    assert 400 <= fp32["n_cells"] <= 1200 and fp32["n_genes"] == 100
    assert fp32["precision"] == "fp32" and bf16["precision"] == "bf16"
    assert bf16["cohort_reused"] and bf16["n_cells"] == fp32["n_cells"]  # same file, no resim
    assert "simulate" in fp32["stages"] and "simulate" not in bf16["stages"]
    assert bf16["steps"] == fp32["steps"] == {"pretrain": 5, "amicr": 5, "finetune": 5}

    mm = parts["multimodal"]
    assert mm["result"]["script_json"]["env"] == {
        "SURVLIB_DEVICE": "cpu",
        "SURVLIB_PRECISION": "fp32",
    }
    assert mm["argv"][:2] == ["--device", "cpu"] and "--patches" in mm["argv"]
    assert "--d-patch" in mm["flags_dropped"] and "machine" not in mm["result"]["script_json"]
    assert "--precision" in parts["multimodal_bf16"]["argv"]

    chapter = parts["chapters"]["chapters"]["99_device_stub"]
    assert chapter["status"] == "ok" and chapter["device_glued"] == "cpu"  # SURVLIB_DEVICE

    speed = record["speedups"]
    assert speed["multimodal_speedup_mean"] == 2.0
    assert speed["multimodal_bf16_vs_fp32"] == {"ours": 2.0, "naive": 2.0}
    ratio = speed["scsurvival_bf16_vs_fp32"]["seconds_end_to_end"]
    assert ratio > 0 and math.isfinite(ratio)
    f1 = record["precision_check"]["scsurvival"]["macro_f1"]
    assert 0 <= f1["fp32"] <= 1 and 0 <= f1["bf16"] <= 1
    assert not any(p.name.startswith("gpu_suite_") for p in tmp_path.iterdir())  # cleaned up


def test_failed_and_overrunning_parts_are_recorded_and_the_rest_goes_on(tmp_path):
    parts = "multimodal,chapters,multimodal_bf16"
    common = ("--parts", parts, "--wall-seconds", "200", "--budget", "chapters=500")
    record, _, stdout = _run_suite(tmp_path, *common, mode="fail")
    failed = record["parts"]["multimodal"]
    assert failed["status"] == "failed" and "stub exploded" in failed["log_tail"]
    assert record["parts"]["chapters"]["status"] == "skipped"
    assert "500 s" in record["parts"]["chapters"]["reason"]  # the cap that did not fit
    bf16 = record["parts"]["multimodal_bf16"]
    assert bf16["status"] == "skipped" and "did not finish (failed)" in bf16["reason"]
    assert record["complete"] and "rc=1" in stdout  # a failed part makes the exit code 1


def test_a_part_over_its_cap_is_killed_with_its_children(tmp_path):
    suite = _suite_module()
    pid_file = tmp_path / "child.pid"
    # a part that starts a grandchild and then hangs: both must go when the cap is reached
    code = (
        "import subprocess, sys, time; "
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(pid_file)!r}, 'w').write(str(c.pid)); time.sleep(120)"
    )
    run = suite.run_process([sys.executable, "-c", code], dict(os.environ), 3.0, tmp_path / "log")
    assert run["status"] == "timeout" and run["returncode"] is None
    assert 3.0 <= run["seconds"] < 20
    grandchild = Path(f"/proc/{int(pid_file.read_text())}/stat")
    time.sleep(0.5)
    if grandchild.parent.parent.is_dir():  # Linux: gone, or a zombie nobody reaped yet
        assert not grandchild.exists() or grandchild.read_text().split(")")[1].split()[0] == "Z"
    assert (
        suite.run_process([sys.executable, "-c", "raise SystemExit(4)"], {}, 30, tmp_path / "l")[
            "returncode"
        ]
        == 4
    )


def _suite_module():
    spec = importlib.util.spec_from_file_location("gpu_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_helpers_json_flags_and_arguments(tmp_path):
    suite = _suite_module()
    assert suite.json_safe({"a": float("nan"), "b": (1, float("inf")), 3: Path("x")}) == {
        "a": None,
        "b": [1, None],
        "3": "x",
    }
    script = tmp_path / "s.py"
    script.write_text('p.add_argument("--device")\np.add_argument(\n    "--out", "-o")\n')
    assert suite.script_flags(script) == {"--device", "--out"}
    assert suite.script_flags(ROOT / "benchmarks" / "bench_multimodal.py") >= {
        "--device",
        "--out",
        "--patients",
        "--patches",
        "--epochs",
        "--precision",  # so the suite's multimodal_bf16 part runs instead of being skipped
    }
    args = suite.parse_args(["--dry-run"])
    assert args.device == "cpu" and args.chapters == "stub" and args.parts == list(suite.PARTS)
    assert suite.parse_args([]).device == "cuda" and suite.parse_args([]).wall_seconds == 540
    for bad in (["--budget", "nope=3"], ["--budget", "chapters=x"], ["--parts", "gpu"]):
        with pytest.raises(SystemExit):
            suite.parse_args(bad)


def test_speedups_against_a_cpu_reference_and_the_wall_skip(tmp_path):
    suite = _suite_module()
    mm = {"speedup_mean": 3.0, "results": {"ours": {"seconds_per_epoch_mean": 2.0}}}
    record = {
        "parts": {
            "scsurvival": {
                "status": "ok",
                "result": {"seconds_end_to_end": 50.0, "seconds_train": 20.0, "macro_f1": 0.9},
            },
            "multimodal": {"status": "ok", "result": {"script_json": mm}},
            "multimodal_bf16": {"status": "timeout"},
        },
        "cpu_reference": {
            "scsurvival": {"seconds_end_to_end": 500.0, "seconds_train": 400.0},
            "multimodal": {"results": {"ours": {"seconds_per_epoch_mean": 10.0}}},
        },
    }
    suite.update_speedups(record)
    assert record["speedups"] == {
        "multimodal_speedup_mean": 3.0,
        "scsurvival_vs_cpu_reference": {"seconds_end_to_end": 10.0, "seconds_train": 20.0},
        "multimodal_vs_cpu_reference": {"ours": 5.0},
    }
    assert record["precision_check"] == {}  # no bf16 run finished

    args = suite.parse_args(
        ["--dry-run", "--out", str(tmp_path / "s.json"), "--wall-seconds", "50"]
    )
    args.workdir = str(tmp_path)
    runner = suite.Suite(args)
    runner.run_part("scsurvival", 60.0, lambda cap: pytest.fail("must not start"))
    part = json.loads((tmp_path / "s.json").read_text())["parts"]["scsurvival"]
    assert part["status"] == "skipped" and "needs up to 60 s" in part["reason"]
    runner.run_part("chapters", 10.0, lambda cap: 1 / 0)  # a bug in a part is recorded too
    part = json.loads((tmp_path / "s.json").read_text())["parts"]["chapters"]
    assert part["status"] == "failed" and "ZeroDivisionError" in part["reason"]
