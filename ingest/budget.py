"""A time budget for parsing one file, so that no single hostile document can stall a batch.

pdfminer may spend minutes on a large damaged PDF before refusing it (bench/fuzz_parse.py found
one); the budget turns that into a plain refusal.

The budget counts the process's CPU time (ITIMER_PROF / SIGPROF), not wall time: on a machine busy
with other work a good file takes longer by the clock but not in CPU, and must not be refused.  A
wall-clock backstop (ITIMER_REAL / SIGALRM) far above the CPU budget stops a parse that is blocked
rather than computing.  Signals reach only a process's main thread, so the budget works in the CLI
and in the loader's worker processes; elsewhere it is a no-op.  A timer someone else has already
started (pytest-timeout, an outer fuzz budget) is left alone and that limit is simply not added.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Literal

from ingest import limits

TimeoutKind = Literal["cpu", "wall"]


class ParseTimeout(BaseException):
    """Raised inside a parse that ran out of time (a BaseException: no reader's catch-all hides it).

    ``kind`` says which limit was hit: ``"cpu"`` (the CPU budget) or ``"wall"`` (the backstop)."""

    def __init__(self, kind: TimeoutKind = "cpu") -> None:
        super().__init__(kind)
        self.kind: TimeoutKind = kind


def _cpu_over(signum, frame):  # pragma: no cover - exercised through the public context manager
    raise ParseTimeout("cpu")


def _wall_over(signum, frame):  # pragma: no cover - exercised through the public context manager
    raise ParseTimeout("wall")


@contextlib.contextmanager
def _timer(which: int, signum: int, handler, seconds: float) -> Iterator[None]:
    """Arm one interval timer for the block, unless it is already in use."""
    if seconds <= 0 or signal.getitimer(which)[0] > 0:
        yield
        return
    previous = signal.signal(signum, handler)
    signal.setitimer(which, seconds)
    try:
        yield
    finally:
        signal.setitimer(which, 0)
        signal.signal(signum, previous)


@contextlib.contextmanager
def time_budget(seconds: float | None = None, wall_seconds: float | None = None) -> Iterator[None]:
    """Raise :class:`ParseTimeout` in the block after ``seconds`` of CPU time or ``wall_seconds``
    of wall time, whichever comes first.

    The defaults are read from :mod:`ingest.limits` at call time: ``PARSE_SECONDS`` and
    ``PARSE_WALL_FACTOR`` × the CPU budget.
    """
    cpu = limits.PARSE_SECONDS if seconds is None else seconds
    wall = cpu * limits.PARSE_WALL_FACTOR if wall_seconds is None else wall_seconds
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _timer(signal.ITIMER_REAL, signal.SIGALRM, _wall_over, wall), \
            _timer(signal.ITIMER_PROF, signal.SIGPROF, _cpu_over, cpu):
        yield
