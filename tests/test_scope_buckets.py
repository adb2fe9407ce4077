"""The dashboard, the briefing and the data page put a unit's level and a report's template in the
same filter buckets: one SQL expression each, in dashboard/scope.py."""
from __future__ import annotations

import duckdb

from dashboard.scope import LEVELS, TEMPLATES, level_bucket_sql, template_bucket_sql


def _bucket(sql: str, values: list) -> list:
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (v VARCHAR, i INTEGER)")
        con.executemany("INSERT INTO t VALUES (?, ?)", [[v, i] for i, v in enumerate(values)])
        return [r[0] for r in con.execute(f"SELECT {sql.format(col='v')} FROM t ORDER BY i").fetchall()]
    finally:
        con.close()


def test_every_other_level_is_in_the_other_bucket() -> None:
    got = _bucket(level_bucket_sql("{col}"), ["镇", "乡", "街道", "开发区", None, ""])
    assert got == ["镇", "乡", "街道", "其他", "其他", "其他"]
    assert set(got) <= set(LEVELS)


def test_templates_outside_the_national_ones_are_other_and_no_report_stays_empty() -> None:
    got = _bucket(template_bucket_sql("{col}"), ["2019", "2021", "legacy", "mixed", "unknown", None])
    assert got == ["2019", "2021", "其他", "其他", "其他", None]
    assert set(got) - {None} <= set(TEMPLATES)


def test_the_query_modules_use_the_shared_buckets() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for rel in ("dashboard/data/snapshot.py", "dashboard/data/admin.py", "dashboard/briefing_data.py"):
        text = (root / rel).read_text(encoding="utf-8")
        assert "level_bucket_sql(" in text, rel
        assert "COALESCE(u.level, '其他')" not in text and "IN ('镇', '乡', '街道')" not in text, rel
