"""The benchmark scripts' ``main`` caps the CPU threads of the process it runs in
(:func:`survlib.bench.limit_cpu_threads` sets ``NUMBA_NUM_THREADS`` and friends, and torch's
thread count). Called in-process by these tests, that would leak into every later test: numba
refuses a ``NUMBA_NUM_THREADS`` that differs from the pool it has already launched. Each test
here therefore gets the environment and torch's thread count back as they were."""

import os
from collections.abc import Iterator

import pytest

from survlib.bench import THREAD_ENV_VARS


@pytest.fixture(autouse=True)
def _restore_thread_settings() -> Iterator[None]:
    import torch

    saved = {var: os.environ.get(var) for var in THREAD_ENV_VARS}
    torch_threads = torch.get_num_threads()
    yield
    for var, value in saved.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value
    torch.set_num_threads(torch_threads)
