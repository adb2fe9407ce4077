"""The per-file time budget turns a runaway parse into a plain refusal.

The budget counts CPU time, so these tests stop CPU-bound work and let sleeping work through;
neither outcome depends on how fast or how busy the machine is.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from ingest import limits, parse
from ingest.budget import ParseTimeout, time_budget
from ingest.errors import RejectedFile


def _spin() -> None:
    while True:
        pass


def test_cpu_bound_runaway_is_stopped() -> None:
    with pytest.raises(ParseTimeout) as e, time_budget(0.2, wall_seconds=600):
        _spin()
    assert e.value.kind == "cpu"


def test_sleeping_work_is_not_stopped_by_the_cpu_budget() -> None:
    """Wall time far above the CPU budget (a busy machine, a slow disk) is not a runaway."""
    with time_budget(0.1, wall_seconds=600):
        time.sleep(0.5)


def test_default_wall_backstop_is_far_above_the_cpu_budget() -> None:
    assert limits.PARSE_WALL_FACTOR >= 10


def test_wall_backstop_stops_blocked_work() -> None:
    with pytest.raises(ParseTimeout) as e, time_budget(600, wall_seconds=0.2):
        time.sleep(30)
    assert e.value.kind == "wall"


def test_budget_is_cleared_after_use() -> None:
    with time_budget(0.1, wall_seconds=0.2):
        pass
    time.sleep(0.4)          # no stray alarm fires afterwards
    t_end = time.process_time() + 0.3
    while time.process_time() < t_end:   # nor a stray CPU timer
        pass


def test_outer_cpu_timer_is_left_alone() -> None:
    import signal

    fired: list[int] = []
    previous = signal.signal(signal.SIGPROF, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_PROF, 600)
    try:
        with time_budget(0.05, wall_seconds=600):
            time.sleep(0.01)
        assert signal.getitimer(signal.ITIMER_PROF)[0] > 0
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    assert not fired


def test_runaway_reader_is_refused_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.sniff

    def runaway_reader(data: bytes, source: str):
        _spin()

    monkeypatch.setattr(ingest.sniff, "read_document", runaway_reader)
    monkeypatch.setattr(limits, "PARSE_SECONDS", 0.3)
    p = tmp_path / "slow.txt"
    p.write_text("x", encoding="utf-8")
    with pytest.raises(RejectedFile) as e:
        parse.parse_file(p)
    assert e.value.code == "timeout" and "解析超时" in e.value.reason and "0.3 秒" in e.value.reason


def test_slow_but_idle_reader_is_not_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader waiting longer than the CPU budget (a loaded machine) still gets its file read."""
    import ingest.sniff

    real_reader = ingest.sniff.read_document

    def waiting_reader(data: bytes, source: str):
        time.sleep(1.5)
        return real_reader(data, source)

    p = tmp_path / "report.txt"
    p.write_text("x", encoding="utf-8")
    with contextlib.suppress(RejectedFile):
        parse.parse_file(p)                      # first use imports the readers: not part of the test
    monkeypatch.setattr(ingest.sniff, "read_document", waiting_reader)
    monkeypatch.setattr(limits, "PARSE_SECONDS", 1.0)
    monkeypatch.setattr(limits, "PARSE_WALL_FACTOR", 1000)
    try:
        parse.parse_file(p)
    except RejectedFile as e:
        assert e.code != "timeout", e.reason


def test_blocked_reader_is_refused_by_the_backstop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.sniff

    monkeypatch.setattr(ingest.sniff, "read_document", lambda data, source: time.sleep(30))
    monkeypatch.setattr(limits, "PARSE_SECONDS", 100)
    monkeypatch.setattr(limits, "PARSE_WALL_FACTOR", 0.002)
    p = tmp_path / "blocked.txt"
    p.write_text("x", encoding="utf-8")
    with pytest.raises(RejectedFile) as e:
        parse.parse_file(p)
    assert e.value.code == "timeout" and "0.2 秒" in e.value.reason


def _budget_outcome_in_worker() -> str:
    try:
        with time_budget(0.2, wall_seconds=600):
            _spin()
    except ParseTimeout as e:
        return e.kind
    return "not stopped"


def test_budget_works_in_a_pool_worker() -> None:
    """The loader parses in worker processes: the CPU timer must fire there too."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(_budget_outcome_in_worker).result(timeout=300) == "cpu"
