"""Independent tasks on whatever executor the caller has: serial, ``concurrent.futures`` or Dask.

Three places in survlib map one function over many independent inputs: the folds x seeds of
:func:`survlib.train.cross_validate`, the slides of :func:`survlib.wsi.encode_slides` and the
points of a parameter sweep (:mod:`survlib.sweep`). They all accept an ``executor``:

- ``None``: run serially in this process (the default, what a chapter does);
- any :class:`concurrent.futures.Executor` (``ThreadPoolExecutor``, ``ProcessPoolExecutor``);
- a :class:`distributed.Client` (a ``LocalCluster``, a scheduler address, or a
  ``dask_jobqueue.SLURMCluster``).

Both kinds have ``submit(fn, *args) -> future`` with ``future.result()``; this module adds
the few things that differ: Dask's ``pure=False``/``retries``, an early picklability check
(a ``ProcessPoolExecutor`` pickles with :mod:`pickle`, Dask with ``cloudpickle``), and
"as completed" iteration.

Global random state (``random``, NumPy's global generator, torch's default generator) and
environment variables belong to a *process*. Tasks that seed and then draw from them must
not interleave in one process; :data:`PROCESS_LOCK` is held by such tasks, so threads of one
process take turns (correct, not faster) and parallelism comes from processes.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = [
    "PROCESS_LOCK",
    "SerialExecutor",
    "as_completed",
    "available_cpus",
    "cancel",
    "check_executor",
    "check_picklable",
    "is_dask_client",
    "submit",
]


def available_cpus() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


#: Held by a task while it uses process-global state (seeded RNGs, ``os.environ``).
PROCESS_LOCK = threading.RLock()


class SerialExecutor(cf.Executor):
    """An executor that runs each task at once, in the calling thread (``executor=None``).

    Exceptions are stored in the future like any executor's; ``KeyboardInterrupt`` and other
    ``BaseException`` s propagate immediately.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Run ``fn(*args, **kwargs)`` now; return a finished future holding its result or error."""
        future: cf.Future[Any] = cf.Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:  # noqa: BLE001 - stored, re-raised by future.result()
            future.set_exception(err)
        return future


def is_dask_client(executor: Any) -> bool:
    """Whether ``executor`` is a :class:`distributed.Client` (without importing distributed)."""
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(
        executor, "scheduler_info"
    )


def check_executor(executor: Any, argument: str = "executor") -> Any:
    """``None`` -> a :class:`SerialExecutor`; anything with a callable ``submit`` is returned.

    Raises:
        TypeError: naming ``argument`` and the value, if it has no ``submit`` method.
    """
    if executor is None:
        return SerialExecutor()
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"{argument} must be None (serial), a concurrent.futures Executor or a "
            f"distributed.Client (anything with .submit), got {executor!r}"
        )
    return executor


def check_picklable(obj: Any, executor: Any, argument: str) -> None:
    """Fail early, with advice, if ``obj`` cannot travel to ``executor``'s worker processes.

    A ``ProcessPoolExecutor`` pickles tasks with :mod:`pickle` (no lambdas, closures or
    functions defined inside a function); a Dask client uses ``cloudpickle`` (those are fine,
    but open files, locks and live CUDA models are not). Thread pools and the serial executor
    share memory and need nothing.
    """
    if isinstance(executor, cf.ProcessPoolExecutor):
        dumps, how = pickle.dumps, "pickle (ProcessPoolExecutor)"
    elif is_dask_client(executor):
        import cloudpickle

        dumps, how = cloudpickle.dumps, "cloudpickle (Dask)"
    else:
        return
    try:
        dumps(obj)
    except Exception as err:
        raise TypeError(
            f"{argument}={obj!r} cannot be sent to the worker processes with {how}: {err}. "
            "Define it at module level (or as a functools.partial of a module-level function), "
            "or use a Dask client, which also ships closures"
        ) from err


def submit(
    executor: Any,
    fn: Callable[..., Any],
    *args: Any,
    retries: int = 0,
    resources: dict[str, float] | None = None,
    key: str | None = None,
) -> Any:
    """Submit ``fn(*args)``; on Dask, as an impure task with ``retries`` and ``resources``.

    ``retries`` re-runs a task whose function *raised* (Dask only); a task whose *worker died*
    is rescheduled by the scheduler up to ``distributed.scheduler.allowed-failures`` times.
    ``resources`` (e.g. ``{"GPU": 1}``) restricts the task to workers that advertise them.
    """
    if is_dask_client(executor):
        extra: dict[str, Any] = {"pure": False, "retries": int(retries)}
        if resources:
            extra["resources"] = dict(resources)
        if key is not None:
            extra["key"] = key
        return executor.submit(fn, *args, **extra)
    return executor.submit(fn, *args)


def as_completed(executor: Any, futures: Iterable[Any]) -> Iterator[Any]:
    """Yield ``futures`` as they finish (Dask's or ``concurrent.futures``' own iterator)."""
    futures = list(futures)
    if is_dask_client(executor):
        from distributed import as_completed as dask_as_completed

        yield from dask_as_completed(futures)
    else:
        yield from cf.as_completed(futures)


def cancel(executor: Any, futures: Iterable[Any]) -> None:
    """Cancel every future that has not started (and, on Dask, release running ones)."""
    futures = list(futures)
    if is_dask_client(executor):
        executor.cancel(futures)
        return
    for future in futures:
        future.cancel()
