"""问题清单: the problem list and one finding's detail."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.data.connection import file_query
from dashboard.data.snapshot import snap_query
from dashboard.data.where import where
from dashboard.scope import Scope
from ingest.store.schema import REVIEW_STALE_SQL, REVIEW_STATUS_SQL

SEVERITY_RANK = "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"

_FL_FROM = "fl"

_FINDING_DETAIL = f"""
    SELECT f.finding_id, f.unit_id, u.name AS unit, u.region, f.year, f.report_id, f.rule, f.severity, f.keys,
           f.expected, f.actual, f.message, f.assumed_zero, f.evidence, f.defect, f.origin,
           {REVIEW_STATUS_SQL} AS review_status, v.note AS review_note, v.reviewed_by, v.reviewed_at,
           {REVIEW_STALE_SQL} AS review_stale,
           r.file_name
    FROM findings f
    LEFT JOIN units u USING (unit_id)
    LEFT JOIN finding_reviews v USING (finding_id)
    LEFT JOIN reports r ON r.report_id = f.report_id
    WHERE list_contains(?::VARCHAR[], f.finding_id)"""


def open_findings_from() -> str:
    """Open (not dismissed) findings with their unit's attributes, for counting."""
    return "(SELECT * FROM fl WHERE review_status <> 'dismissed')"


def _finding_filter(scope: Scope, rules: Sequence[str], review: Sequence[str]) -> tuple[str, list]:
    w, p = where(scope, severity=True)
    if rules:
        w += " AND list_contains(?::VARCHAR[], rule)"
        p.append(list(rules))
    if review:
        w += " AND list_contains(?::VARCHAR[], review_status)"
        p.append(list(review))
    return w, p


def findings(scope: Scope, rules: Sequence[str] = (), review: Sequence[str] = ("open", "confirmed"),
             limit: int = 200, offset: int = 0) -> pl.DataFrame:
    """The problem list, most serious first (severity, then year, then unit); without ``evidence``
    (read per finding with :func:`finding_by_id`)."""
    w, p = _finding_filter(scope, rules, review)
    return snap_query(f"""
        SELECT finding_id, severity, unit_id, unit, region, year, rule, message, expected, actual, keys,
               assumed_zero, review_status, review_note, reviewed_by, reviewed_at, review_stale, report_id, file_name
        FROM {_FL_FROM} {w}
        ORDER BY {SEVERITY_RANK}, year DESC, region, unit, rule, finding_id
        LIMIT ? OFFSET ?""", [*p, limit, offset])


def findings_count(scope: Scope, rules: Sequence[str] = (), review: Sequence[str] = ("open", "confirmed")) -> int:
    w, p = _finding_filter(scope, rules, review)
    return int(snap_query(f"SELECT count(*) AS n FROM {_FL_FROM} {w}", p)["n"][0])


def finding_rules(scope: Scope) -> pl.DataFrame:
    """Rules with open findings in the scope, with counts (for the rule filter)."""
    w, p = where(scope, severity=True)
    return snap_query(f"""SELECT rule, count(*) AS n FROM {open_findings_from()} {w}
                          GROUP BY rule ORDER BY n DESC, rule""", p)


def finding_by_id(finding_id: str) -> dict | None:
    df = file_query(_FINDING_DETAIL, [[finding_id]])
    return df.row(0, named=True) if df.height else None
