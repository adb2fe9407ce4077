"""申请量: applications per unit and year, per applicant column."""

from __future__ import annotations

import polars as pl

from dashboard.data.snapshot import APPLICANT_COLS, snap_query
from dashboard.data.where import where
from dashboard.scope import Scope


def applications_by_unit(scope: Scope, limit: int = 300) -> pl.DataFrame:
    """Per unit (the ``limit`` with most applications): new and carried-over applications per applicant
    column, and the 总计 column.

    Component columns and the total are kept apart (never added together); ``mismatch`` marks
    units where the printed totals differ from the sum of the components.
    """
    w, p = where(scope, prefix="m.")
    new = " + ".join(f"COALESCE(m.new_{c}, 0)" for c in APPLICANT_COLS)
    co = " + ".join(f"COALESCE(m.co_{c}, 0)" for c in APPLICANT_COLS)
    cols = ",\n".join(f"sum(COALESCE(m.new_{c}, 0)) AS new_{c}, sum(COALESCE(m.co_{c}, 0)) AS co_{c}"
                      for c in APPLICANT_COLS)
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports,
               {cols},
               sum(m.received) AS received, sum(m.carried_over) AS carried,
               sum({new}) IS DISTINCT FROM sum(m.received) OR sum({co}) IS DISTINCT FROM sum(m.carried_over)
                   AS mismatch,
               count(*) OVER () AS n_units
        FROM measures m {w}
        GROUP BY m.unit_id, m.unit, m.region
        ORDER BY COALESCE(sum(m.received), 0) + COALESCE(sum(m.carried_over), 0) DESC, m.unit
        LIMIT ?""", [*p, limit])


def count_units(scope: Scope, extra: str = "") -> int:
    """Units with at least one report in the scope (``extra``: more conditions on measures)."""
    w, p = where(scope)
    return int(snap_query(f"SELECT count(DISTINCT unit_id) AS n FROM measures {w} {extra}", p)["n"][0])


def applications_by_year(scope: Scope) -> pl.DataFrame:
    """Per year: new and carried-over applications per applicant column (components only)."""
    w, p = where(scope, prefix="m.")
    cols = ",\n".join(f"sum(COALESCE(m.new_{c}, 0)) AS new_{c}, sum(COALESCE(m.co_{c}, 0)) AS co_{c}"
                      for c in APPLICANT_COLS)
    return snap_query(f"""
        SELECT m.year, count(*) AS reports, {cols},
               sum(m.received) AS received, sum(m.carried_over) AS carried
        FROM measures m {w}
        GROUP BY m.year ORDER BY m.year""", p)


def received_unit_year(scope: Scope, limit_units: int = 300) -> pl.DataFrame:
    """本年新收 总计 per unit and year (long form), for the per-year comparison table."""
    w, p = where(scope)
    return snap_query(f"""
        WITH top AS (SELECT unit_id FROM measures {w} GROUP BY unit_id
                     ORDER BY sum(COALESCE(received, 0)) DESC, unit_id LIMIT ?)
        SELECT unit_id, unit, region, year, received FROM measures {w} AND unit_id IN (SELECT unit_id FROM top)
        ORDER BY region, unit, year""", [*p, limit_units, *p])
