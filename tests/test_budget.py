"""The per-file time budget turns a runaway parse into a plain refusal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest import parse
from ingest.budget import ParseTimeout, time_budget
from ingest.errors import RejectedFile


def test_budget_interrupts_slow_work() -> None:
    with pytest.raises(ParseTimeout), time_budget(0.2):
        time.sleep(5)


def test_budget_is_cleared_after_use() -> None:
    with time_budget(0.2):
        pass
    time.sleep(0.4)          # no stray alarm fires afterwards


def test_slow_reader_is_refused_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.sniff

    def slow_reader(data: bytes, source: str):
        while True:
            time.sleep(0.05)

    monkeypatch.setattr(ingest.sniff, "read_document", slow_reader)
    monkeypatch.setattr(parse, "PARSE_SECONDS", 0.3)
    monkeypatch.setattr("ingest.budget.PARSE_SECONDS", 0.3)
    import ingest.budget

    original = ingest.budget.time_budget
    monkeypatch.setattr(ingest.budget, "time_budget", lambda seconds=0.3: original(0.3))
    p = tmp_path / "slow.txt"
    p.write_text("x", encoding="utf-8")
    with pytest.raises(RejectedFile) as e:
        parse.parse_file(p)
    assert e.value.code == "timeout" and "解析超时" in e.value.reason
