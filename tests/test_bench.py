"""survlib.bench: thread limits and the machine record of benchmark results."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from survlib.bench import THREAD_ENV_VARS, limit_cpu_threads, machine_info


def test_limit_cpu_threads_caps_every_pool():
    # in a fresh interpreter, so this test process keeps its own pools
    code = (
        "import json, os\n"
        "from survlib.bench import limit_cpu_threads, THREAD_ENV_VARS\n"
        "n = limit_cpu_threads(1)\n"
        "from threadpoolctl import threadpool_info\n"
        "import numpy, torch\n"
        "print(json.dumps({'n': n, 'torch': torch.get_num_threads(),\n"
        "  'env': [os.environ[v] for v in THREAD_ENV_VARS],\n"
        "  'pools': [p['num_threads'] for p in threadpool_info()]}))\n"
    )
    out = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert out["n"] == 1 and out["torch"] == 1
    assert out["env"] == ["1"] * len(THREAD_ENV_VARS)
    assert out["pools"] and set(out["pools"]) == {1}


def test_limit_cpu_threads_zero_keeps_defaults_and_rejects_negative(monkeypatch):
    import torch

    for var in THREAD_ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    before = torch.get_num_threads()
    assert limit_cpu_threads(0) == before
    assert not any(var in os.environ for var in THREAD_ENV_VARS)
    with pytest.raises(ValueError, match="threads must be >= 0"):
        limit_cpu_threads(-1)


def test_machine_info_names_the_machine():
    info = machine_info()
    assert info["cpu_count"] >= 1 and "torch" in info["versions"]


def test_limit_cpu_threads_after_numba_started_keeps_numba_compiling():
    """Once numba's pool runs, a changed NUMBA_NUM_THREADS would make every later compile fail;
    limit_cpu_threads caps the running pool instead (checked in a fresh process)."""
    import subprocess
    import sys

    code = """
import os
import numba
import numpy as np

@numba.njit(parallel=True)
def total(x):
    s = 0.0
    for i in numba.prange(x.size):
        s += x[i]
    return s

total(np.ones(10))  # launches the pool
before = os.environ.get("NUMBA_NUM_THREADS")
from survlib.bench import limit_cpu_threads
limit_cpu_threads(1)
assert os.environ.get("NUMBA_NUM_THREADS") == before, os.environ.get("NUMBA_NUM_THREADS")
assert numba.get_num_threads() == 1
assert numba.njit(lambda y: y + 1)(1) == 2  # a new compile still works
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
