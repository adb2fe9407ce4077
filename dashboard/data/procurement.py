"""政府采购 / 收费: the money cells of both templates."""

from __future__ import annotations

import polars as pl

from dashboard.data.snapshot import snap_query
from dashboard.data.where import where
from dashboard.scope import Scope
from ingest.templates import keys_for, template_ids


def _templates_with(key: str) -> str:
    """SQL list of the templates whose tables have this cell (the 采购 table is F2019's, 收费 F2021's)."""
    return "(" + ", ".join(f"'{t}'" for t in template_ids() if key in keys_for(t)) + ")"


_PROCUREMENT = _templates_with("s2.procurement.amount")
_FEE = _templates_with("s2.fee.amount")


def procurement_by_report(scope: Scope, only_unknown: bool = False, limit: int = 500) -> pl.DataFrame:
    """2019–2020 template reports: 采购项目数, 金额 as printed, unit, 万元 where the unit is known."""
    w, p = where(scope, template=False, prefix="m.")
    extra = " AND COALESCE(m.proc_unknown, false) AND COALESCE(m.proc_raw, '') <> ''" if only_unknown else ""
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, m.year, m.report_id, m.proc_projects AS projects,
               m.proc_raw AS raw, m.proc_value AS value, m.proc_unit AS printed_unit, m.proc_wan AS wan,
               COALESCE(m.proc_unknown, false) AS unknown_unit, COALESCE(m.proc_converted, false) AS converted
        FROM measures m {w}
          AND m.template IN {_PROCUREMENT} AND (m.proc_projects IS NOT NULL OR m.proc_raw IS NOT NULL){extra}
        ORDER BY m.region, m.unit, m.year LIMIT ?""", [*p, limit])


def procurement_totals(scope: Scope) -> dict:
    """Σ项目数, Σ金额（万元, known units only）, reports with an amount of unknown unit, reports."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT count(*) AS reports, sum(m.proc_projects) AS projects, sum(m.proc_wan) AS wan,
               count(*) FILTER (WHERE m.proc_unknown AND COALESCE(m.proc_raw, '') <> '') AS unknown,
               count(*) FILTER (WHERE m.proc_converted) AS converted
        FROM measures m {w}
          AND m.template IN {_PROCUREMENT} AND (m.proc_projects IS NOT NULL OR m.proc_raw IS NOT NULL)""", p).row(0, named=True)


def procurement_by_unit(scope: Scope, limit: int = 300) -> pl.DataFrame:
    """Per unit, 2019–2020: Σ项目数, Σ金额（万元, known units only）, count of unknown-unit amounts."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports, sum(m.proc_projects) AS projects,
               sum(m.proc_wan) AS wan, count(*) FILTER (WHERE m.proc_unknown) AS unknown,
               count(*) FILTER (WHERE m.proc_converted) AS converted
        FROM measures m {w} AND m.template IN {_PROCUREMENT}
        GROUP BY ALL ORDER BY COALESCE(wan, 0) DESC, unit LIMIT ?""", [*p, limit])


def fees_by_report(scope: Scope, limit: int = 500) -> pl.DataFrame:
    """2021+ template reports: 行政事业性收费 本年收费金额 (万元; 元 converted and flagged)."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, m.year, m.report_id, m.fee_raw AS raw, m.fee_unit AS printed_unit,
               m.fee_wan AS wan, COALESCE(m.fee_converted, false) AS converted,
               COALESCE(m.fee_unknown, false) AS unknown_unit
        FROM measures m {w} AND m.template IN {_FEE} AND m.fee_raw IS NOT NULL
        ORDER BY m.region, m.unit, m.year LIMIT ?""", [*p, limit])


def fee_totals(scope: Scope) -> dict:
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT count(*) AS reports, sum(m.fee_wan) AS wan, count(*) FILTER (WHERE m.fee_converted) AS converted
        FROM measures m {w} AND m.template IN {_FEE} AND m.fee_raw IS NOT NULL""", p).row(0, named=True)


def fees_by_unit(scope: Scope, limit: int = 300) -> pl.DataFrame:
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports, sum(m.fee_wan) AS wan,
               count(*) FILTER (WHERE m.fee_converted) AS converted
        FROM measures m {w} AND m.template IN {_FEE} AND m.fee_raw IS NOT NULL
        GROUP BY ALL ORDER BY COALESCE(wan, 0) DESC, unit LIMIT ?""", [*p, limit])
