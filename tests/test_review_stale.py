"""A review applies to what was reviewed: a dismissed finding whose expected or printed values change
in a later version of the report is open again in the store, the dashboard and the 整改清单."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dashboard.briefing import build_rectification
from dashboard.data import findings as findings_q
from dashboard.data import overview as overview_q
from dashboard.data import snapshot as snapshot_q
from dashboard.scope import Scope
from ingest.store.loader import load_parsed
from ingest.store.review import STALE_NOTE, get_review, list_reviews, set_review
from tests.store_helpers import item_for, make_result

UNIT, YEAR = "泉港镇", 2021


def s42(expected: int) -> dict:
    """An S4-2 finding (表四 行政诉讼 total) of a report that prints 0 where ``expected`` is due."""
    return {"rule": "S4-2", "severity": "error", "keys": ["s4.suit_direct.total"], "expected": expected, "actual": 0,
            "message": f"表四 行政诉讼（未经复议直接起诉） 总计：应为 {expected}（结果维持、结果纠正、其他结果、尚未审结之和），报告为 0",
            "assumed_zero": []}


def load_version(db: Path, expected: int, version: int) -> None:
    """Load a new version of the unit's report (``version`` tells the files apart) with the S4-2 finding."""
    r = make_result(unit=UNIT, year=YEAR, findings=[s42(expected)], sections={"六": f"第{version}版。"},
                    source=f"{UNIT}-{YEAR}-v{version}.txt")
    load_parsed(db, [item_for(r)])


def open_ids(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT finding_id FROM v_findings_open").fetchall()}
    finally:
        con.close()


def report_errors(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT errors FROM v_report_measures").fetchone()[0]
    finally:
        con.close()


def rectification_rows(db: Path) -> list[dict]:
    ws = openpyxl.load_workbook(io.BytesIO(build_rectification(str(db), year=YEAR)))["汇总"]
    header = [c.value for c in ws[2]]                  # row 1 is the title
    return [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=3)]


@pytest.fixture
def dismissed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A database whose only finding (S4-2 “应为 1，报告为 0”) an admin dismissed; the dashboard reads it."""
    db = tmp_path / "n.duckdb"
    load_version(db, expected=1, version=1)
    con = duckdb.connect(str(db), read_only=True)
    (fid,), = con.execute("SELECT finding_id FROM findings WHERE rule = 'S4-2'").fetchall()
    con.close()
    set_review(str(db), fid, "dismissed", "已与镇政府核实", "张三")
    monkeypatch.setenv("NIANBAO_DB", str(db))
    snapshot_q.clear_caches()
    assert fid not in open_ids(db)
    yield db, fid
    snapshot_q.clear_caches()


def test_changed_values_reopen_a_dismissed_finding_everywhere(dismissed) -> None:
    db, fid = dismissed
    assert overview_q.findings_by_severity(Scope()).get("error", 0) == 0
    load_version(db, expected=10, version=2)           # corrected report: same cells, “应为 10，报告为 0”
    rev = get_review(str(db), fid)
    assert rev is not None and "应为 10" in rev["message"]
    assert (rev["review_status"], rev["review_stale"]) == ("open", True)
    # the store: open view and the per-report error count
    assert fid in open_ids(db)
    assert report_errors(db) == 1
    # the dashboard: counts and the default problem list
    assert overview_q.findings_by_severity(Scope())["error"] == 1
    assert overview_q.overview_kpis(Scope())["findings"]["error"] == 1
    listed = findings_q.findings(Scope())
    assert listed["finding_id"].to_list() == [fid]
    assert listed["review_status"].to_list() == ["open"] and listed["review_stale"].to_list() == [True]
    assert findings_q.findings_count(Scope()) == 1
    # the 整改清单 lists it as 待处理 with the note to review it again
    rows = rectification_rows(db)
    assert [(r["规则"], r["应为"], r["审核状态"], r["审核备注"]) for r in rows] == [
        ("S4-2", 10, "待处理", STALE_NOTE)]
    # the old review is kept as history
    marks = [m for m in list_reviews(str(db)) if m["finding_id"] == fid]
    assert [(m["status"], m["note"], m["reviewed_by"]) for m in marks] == [("dismissed", "已与镇政府核实", "张三")]
    assert "应为 1（" in marks[0]["message_at_review"]


def test_same_values_keep_the_dismissal(dismissed) -> None:
    db, fid = dismissed
    load_version(db, expected=1, version=2)            # a new version, the finding unchanged
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM reports WHERE status = 'superseded'").fetchone()[0] == 1
    con.close()
    rev = get_review(str(db), fid)
    assert (rev["review_status"], rev["review_stale"]) == ("dismissed", False)
    assert fid not in open_ids(db)
    assert report_errors(db) == 0
    assert overview_q.findings_by_severity(Scope()).get("error", 0) == 0
    assert findings_q.findings_count(Scope()) == 0
    assert rectification_rows(db) == []


def test_problem_table_says_why_a_reviewed_finding_is_open_again() -> None:
    import polars as pl

    from dashboard.ui import findings_frame

    df = pl.DataFrame({"severity": ["error", "error", "error"], "rule": ["S4-2"] * 3, "message": ["m"] * 3,
                       "expected": [10.0, 1.0, 2.0], "actual": [0.0, 0.0, 0.0],
                       "review_status": ["open", "dismissed", "open"], "review_stale": [True, False, None]})
    words = findings_frame(df, with_unit=False)["审核状态"].to_list()
    assert words == ["待处理（问题已变化，请重新审核）", "已排除", "待处理"]
