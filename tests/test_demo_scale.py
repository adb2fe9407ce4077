"""Scale mode writes a database in the schema of a real load whose numbers and findings are consistent:
the store's own checks, run over it, find exactly the findings the generator wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.demo import labels as L
from ingest.demo.scale import build_scale_db, unit_names
from ingest.store.checks import run_checks
from ingest.store.schema import TABLES, VIEWS


@pytest.fixture(scope="module")
def scale_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    db = tmp_path_factory.mktemp("scale") / "scale.duckdb"
    info = build_scale_db(db, units=120, years=7, seed=3)
    return db, info


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_tables_views_and_counts(scale_db: tuple[Path, dict]) -> None:
    db, info = scale_db
    names = {r[0] for r in _rows(db, "SELECT table_name FROM information_schema.tables")}
    assert set(TABLES) | set(VIEWS) <= names
    assert info["units"] == 120 and info["years"] == 7 and info["bytes"] > 0
    (n_units,), = _rows(db, "SELECT count(*) FROM units")
    (n_reports, n_years), = _rows(db, "SELECT count(*), count(DISTINCT year) FROM reports WHERE status = 'current'")
    (n_missing,), = _rows(db, "SELECT count(*) FROM findings WHERE rule = 'MISSING'")
    assert n_units == 120 and n_years == 7
    assert n_reports + n_missing == 120 * 7 and n_reports == info["reports"]
    per = dict(_rows(db, "SELECT r.template, count(*) / count(DISTINCT r.report_id) FROM cells c "
                         "JOIN reports r USING (report_id) GROUP BY 1"))
    assert per == {"2019": len(L.template_keys("2019")), "2021": len(L.template_keys("2021"))}
    (bad_ids,), = _rows(db, "SELECT count(*) FROM reports r LEFT JOIN units u USING (unit_id) WHERE u.unit_id IS NULL")
    assert bad_ids == 0


def test_identities_hold_except_where_placed(scale_db: tuple[Path, dict]) -> None:
    db, _ = scale_db
    broken = _rows(db, """
        WITH m AS (SELECT report_id, key, value FROM cells)
        SELECT n.report_id FROM m n
        JOIN m c ON c.report_id = n.report_id AND c.key = 's3.carried_over.total'
        JOIN m r ON r.report_id = n.report_id AND r.key = 's3.result_total.total'
        JOIN m f ON f.report_id = n.report_id AND f.key = 's3.carry_forward.total'
        WHERE n.key = 's3.new_received.total' AND n.value + c.value <> r.value + f.value""")
    placed = _rows(db, "SELECT DISTINCT report_id FROM findings WHERE rule = 'S3-1'")
    assert {r[0] for r in broken} == {r[0] for r in placed}
    rows3 = _rows(db, """SELECT report_id, row_key FROM cells WHERE section = 's3' GROUP BY ALL
        HAVING sum(value) FILTER (WHERE col_key <> 'total') <> max(value) FILTER (WHERE col_key = 'total')""")
    assert rows3 == []


def test_store_checks_find_exactly_the_written_findings(scale_db: tuple[Path, dict], tmp_path: Path) -> None:
    db, _ = scale_db
    written = {(u, y, r, tuple(k)) for u, y, r, k in
               _rows(db, "SELECT unit_id, year, rule, list_sort(keys) FROM findings")}
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    con = duckdb.connect(str(copy))
    try:
        run_checks(con)
        rechecked = {(u, y, r, tuple(k)) for u, y, r, k in
                     con.execute("SELECT unit_id, year, rule, list_sort(keys) FROM findings").fetchall()}
    finally:
        con.close()
    assert written == rechecked, (sorted(written - rechecked)[:5], sorted(rechecked - written)[:5])
    assert {r for _, _, r, _ in written} >= {"S3-1", "N-1", "X-1", "D07", "MISSING"}


def test_same_seed_same_numbers(tmp_path: Path) -> None:
    a = build_scale_db(tmp_path / "a.duckdb", units=20, years=3, seed=9)
    b = build_scale_db(tmp_path / "b.duckdb", units=20, years=3, seed=9)
    assert a["cells"] == b["cells"]
    q = "SELECT report_id, key, value FROM cells ORDER BY 1, 2"
    assert _rows(tmp_path / "a.duckdb", q) == _rows(tmp_path / "b.duckdb", q)


def test_unit_names_are_unique_and_synthetic() -> None:
    names, levels, regions = unit_names(40000)
    ids = {f"{r}/{n}" for r, n in zip(regions, names, strict=True)}
    assert len(ids) == 40000
    assert all(r.startswith("示例") for r in regions)
    assert set(levels) == {"镇", "乡", "街道"} and all(n.endswith(lv) for n, lv in zip(names, levels, strict=True))
