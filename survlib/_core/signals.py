"""Turn SIGTERM into an exception for the length of a block, so ``finally`` clauses run.

Python's default SIGTERM action ends the process at once: no ``finally``, no context-manager
exit, so temporary files and folders stay behind. Inside :func:`sigterm_raises` a SIGTERM
raises :class:`Terminated` (a ``BaseException``, like ``KeyboardInterrupt``) in the main
thread; clean-up code runs and the exception propagates. Outside the main thread (where no
handler can be installed) the block runs unchanged.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["Terminated", "sigterm_raises"]


class Terminated(BaseException):
    """The process received SIGTERM while a clean-up-aware block was running."""


def _raise(signum: int, frame: Any) -> None:
    raise Terminated(f"terminated by signal {signum}")


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated`; the old handler is restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGTERM)
    if old not in (signal.SIG_DFL, None):  # someone else handles SIGTERM: leave it to them
        yield
        return
    signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
