"""A time budget for parsing one file, so that no single hostile document can stall a batch.

pdfminer may spend minutes on a large damaged PDF before refusing it (bench/fuzz_parse.py found
one); the budget turns that into a plain refusal.  It uses SIGALRM and therefore works only in a
process's main thread — the CLI and the loader's worker processes; elsewhere it is a no-op.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from ingest.limits import PARSE_SECONDS


class ParseTimeout(BaseException):
    """Raised inside a parse that ran out of time (a BaseException: no reader's catch-all hides it)."""


def _alarm(signum, frame):  # pragma: no cover - exercised through the public context manager
    raise ParseTimeout()


@contextlib.contextmanager
def time_budget(seconds: float = PARSE_SECONDS) -> Iterator[None]:
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() \
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        yield                                    # not the main thread, or someone else's timer is running
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
