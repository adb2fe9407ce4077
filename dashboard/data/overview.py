"""总览: key figures, findings per severity, the submission matrix, missing reports."""

from __future__ import annotations

import polars as pl

from dashboard.data.findings import open_findings_from
from dashboard.data.snapshot import snap_query
from dashboard.data.where import where
from dashboard.scope import Scope


def overview_kpis(scope: Scope) -> dict:
    """Key figures for the scope (one query); 公开率 = (予以公开 + 部分公开) / 办理结果总计 over reports
    that report a total above 0; ``findings``: open findings per severity."""
    w, p = where(scope)
    wu, pu = where(scope, years=False, template=False)
    ws, ps = where(scope, template=False)
    wf, pf = where(scope, severity=True)
    m = snap_query(f"""
        WITH m AS (
            SELECT count(*) AS reports,
                   sum(received) AS received, sum(carried_over) AS carried_over,
                   sum(COALESCE(granted, 0) + COALESCE(partial, 0)) FILTER (WHERE result_total > 0) AS disclosed,
                   sum(result_total) FILTER (WHERE result_total > 0) AS handled
            FROM measures {w}),
        u AS (SELECT count(*) AS units FROM units {wu}),
        s AS (SELECT count(*) FILTER (WHERE status = 'missing') AS missing FROM status {ws}),
        f AS (SELECT count(*) FILTER (WHERE severity = 'error') AS f_error,
                     count(*) FILTER (WHERE severity = 'warning') AS f_warning,
                     count(*) FILTER (WHERE severity = 'info') AS f_info
              FROM {open_findings_from()} {wf})
        SELECT * FROM m, u, s, f""", [*p, *pu, *ps, *pf]).row(0, named=True)
    m["rate"] = (m["disclosed"] / m["handled"]) if m["handled"] else None
    m["findings"] = {k: int(m.pop(f"f_{k}") or 0) for k in ("error", "warning", "info")}
    return m


def findings_by_severity(scope: Scope) -> dict[str, int]:
    """Open (not dismissed) findings per severity, in the scope (template filter: reports of that template)."""
    w, p = where(scope, severity=True)
    df = snap_query(f"SELECT severity, count(*) AS n FROM {open_findings_from()} {w} GROUP BY severity", p)
    return {s: int(n) for s, n in df.iter_rows()}


MATRIX_MAX_UNITS = 60
MATRIX_MAX_REGIONS = 60


def submission_matrix(scope: Scope) -> tuple[str, pl.DataFrame]:
    """Unit × year status when at most ``MATRIX_MAX_UNITS`` units are in scope, else region × year counts
    (the ``MATRIX_MAX_REGIONS`` regions with the most missing reports).

    Returns ``("unit", df)`` or ``("region", df)``.  The template filter does not apply here: a
    missing report has no template.
    """
    w, p = where(scope, template=False)
    wu, pu = where(scope, years=False, template=False)
    n = snap_query(f"SELECT count(*) AS n FROM units {wu}", pu)["n"][0]
    if n <= MATRIX_MAX_UNITS:
        return "unit", snap_query(f"""
            SELECT unit_id, unit, region, year, report_id, status, errors, warnings, infos,
                   unit || COALESCE('（' || region || '）', '') AS label
            FROM status {w} ORDER BY region, unit, year""", p)
    return "region", snap_query(f"""
        WITH g AS (
            SELECT COALESCE(region, '（未知县市区）') AS region, year, count(*) AS units,
                   count(*) FILTER (WHERE status = 'missing') AS missing,
                   count(*) FILTER (WHERE status = 'has_errors') AS has_errors,
                   count(*) FILTER (WHERE status = 'wrong_template') AS wrong_template,
                   count(*) FILTER (WHERE status = 'late') AS late,
                   count(*) FILTER (WHERE status = 'published') AS published
            FROM status {w} GROUP BY ALL),
        top AS (SELECT region FROM g GROUP BY region ORDER BY sum(missing) DESC, region LIMIT ?)
        SELECT g.* FROM g SEMI JOIN top USING (region) ORDER BY region, year""", [*p, MATRIX_MAX_REGIONS])


def missing_reports(scope: Scope, limit: int = 500) -> pl.DataFrame:
    w, p = where(scope, template=False)
    return snap_query(f"""SELECT unit, region, year FROM status {w} AND status = 'missing'
                          ORDER BY year DESC, region, unit LIMIT ?""", [*p, limit])
