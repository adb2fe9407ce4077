"""The rule registry: the registered evaluators and the catalogue list the same rule ids, each
one-document family emits only the ids it declares, and what a cross-report rule declares it reads
is what the store loads for it (a new rule reading a new cell fires with no other change)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pytest

from ingest.errors import RejectedFile
from ingest.rules import cross_year as X
from ingest.rules import registry
from ingest.rules.findings import catalogue, make
from ingest.store.loader import load_parsed
from tests.store_helpers import COLS, item_for, make_result


def test_registered_rules_and_the_catalogue_list_the_same_ids() -> None:
    cat = catalogue()
    ids = {entry.get("rule", name) for name, entry in cat.items()}
    # every catalogue entry is evaluated by a registered evaluator, and nothing else is
    assert set(registry.rule_ids()) == ids
    assert registry.pair_rule_ids() == ["X-1", "X-2", "X-3", "X-4", "X-6", "X-7"]
    orders = [f.order for f in registry.report_families()]
    assert orders == sorted(set(orders))


def test_each_document_rule_family_emits_only_the_ids_it_declares(tmp_path_factory: pytest.TempPathFactory,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse the whole demo corpus (every format, every injected defect) and the real samples (when
    ../shared is there) with each family watched."""
    from ingest.parse import parse_file
    from tests.demo_reference import written

    emitted: dict[int, set[str]] = {}

    def watched(family: registry.ReportRules) -> registry.ReportRules:
        def check(ctx):
            found = family.check(ctx)
            emitted.setdefault(family.order, set()).update(f.rule for f in found)
            return found
        return registry.ReportRules(family.rules, check, family.order)

    families = registry.report_families()
    monkeypatch.setattr(registry, "REPORT_RULES", [watched(f) for f in families])
    out = written(tmp_path_factory.getbasetemp())
    samples = Path(__file__).resolve().parents[2] / "shared" / "samples"
    files = [p for d in (out, samples) if d.is_dir() for p in sorted(d.rglob("*"))
             if p.suffix in {".txt", ".html", ".htm", ".docx", ".pdf"}]
    assert len(files) > 100
    for path in files:
        with contextlib.suppress(RejectedFile):
            parse_file(path)
    for family in families:
        got = emitted.get(family.order, set())
        assert got <= set(family.rules), f"{family.check.__name__} emitted undeclared {got - set(family.rules)}"


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
