"""The cross-report rule registry: rule ids agree with the catalogue, and what a rule declares it
reads is what the store loads for it (a new rule reading a new cell fires with no other change)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.rules import cross_year as X
from ingest.rules import registry
from ingest.rules.findings import catalogue, make
from ingest.store.loader import load_parsed
from tests.store_helpers import COLS, item_for, make_result


def test_registered_rules_and_the_catalogue_list_the_same_ids() -> None:
    cat = catalogue()
    ids = {entry.get("rule", name) for name, entry in cat.items()}
    registered = list(registry.rule_ids())
    assert len(registered) == len(set(registered))
    assert set(registered) <= ids
    # every cross-year rule of the catalogue is evaluated by a registered rule, none is forgotten
    assert {i for i in ids if i.startswith("X-")} == {r for r in registered if r.startswith("X-")}
    assert [r.rule for r in registry.PAIR_RULES] == ["X-1", "X-2", "X-3", "X-4", "X-6", "X-7"]


def test_a_rule_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        registry.pair_rule("X-1", registry.Needs())(lambda prev, cur: [])


@pytest.fixture
def review_rule(monkeypatch):
    """A temporary Y−1 → Y rule on a 表四 cell that no real cross-year rule reads."""
    monkeypatch.setitem(catalogue(), "X-99", {"severity": "info",
                                              "message": "行政复议 尚未审结 {prev_year}年为 {expected}，本年为 {actual}"})

    def x99(prev: X.YearReport, cur: X.YearReport) -> list[dict]:
        a, b = prev.cells.get("s4.review.pending"), cur.cells.get("s4.review.pending")
        if a is None or b is None or a == b:
            return []
        return [make("X-99", [f"s4.review.pending@{cur.year}", f"s4.review.pending@{prev.year}"],
                     expected=a, actual=b, prev_year=prev.year).to_dict()]

    registry.pair_rule("X-99", registry.Needs(keys=("s4.review.pending",)))(x99)
    yield
    registry.unregister("X-99")


def test_a_new_rule_reading_a_new_cell_fires_after_a_real_load(tmp_path: Path, review_rule) -> None:
    assert "s4.review.pending" in registry.needed().keys
    a = make_result(year=2021, overrides={"s4.review.pending": 1})
    co = {c: a["cells"][f"s3.carry_forward.{c}"] for c in COLS}
    b = make_result(year=2022, carried_over=co, overrides={"s4.review.pending": 4})
    db = tmp_path / "n.duckdb"
    load_parsed(db, [item_for(a, "/in/a.txt"), item_for(b, "/in/b.txt")])
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute("SELECT year, keys, message FROM findings WHERE rule = 'X-99'").fetchall()
    finally:
        con.close()
    assert got == [(2022, ["s4.review.pending@2021", "s4.review.pending@2022"], "行政复议 尚未审结 2021年为 1，本年为 4")]


def test_an_unregistered_rule_is_gone_and_its_cell_is_not_loaded() -> None:
    assert "X-99" not in registry.rule_ids()
    assert "s4.review.pending" not in registry.needed().keys
