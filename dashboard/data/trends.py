"""年度趋势: a measure over years and units, year-on-year changes and the 结转 chain."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.data.snapshot import snap_query
from dashboard.data.where import where
from dashboard.scope import Scope

# measure id -> (Chinese name, SQL aggregate over measures, is a rate)
MEASURES: dict[str, tuple[str, str, bool]] = {
    "received": ("本年新收申请数", "sum(received)", False),
    "carried_over": ("上年结转申请数", "sum(carried_over)", False),
    "granted": ("予以公开", "sum(granted)", False),
    "partial": ("部分公开", "sum(partial)", False),
    "deny": ("不予公开", "sum(deny)", False),
    "unable": ("无法提供", "sum(unable)", False),
    "noproc": ("不予处理", "sum(noproc)", False),
    "other": ("其他处理（两种格式已统一口径）", "sum(other)", False),
    "result_total": ("办理结果总计", "sum(result_total)", False),
    "carry_forward": ("结转下年度继续办理", "sum(carry_forward)", False),
    "rate": ("公开率（予以公开与部分公开占办理总数）",
             "sum(COALESCE(granted, 0) + COALESCE(partial, 0)) FILTER (WHERE result_total > 0)"
             " / NULLIF(sum(result_total) FILTER (WHERE result_total > 0), 0)", True),
    "reviews": ("行政复议总计", "sum(reviews)", False),
    "suits": ("行政诉讼总计", "sum(suits)", False),
    "procurement_wan": ("政府集中采购总金额（万元，2019–2020 年格式，仅单位明确者）", "sum(procurement_wan)", False),
    "fee_wan": ("行政事业性收费金额（万元，2021 年起格式）", "sum(fee_wan)", False),
    "errors": ("错误条数（未排除）", "sum(errors)", False),
}


def _msrc(measure: str) -> str:
    """The per-report table a measure reads (finding counts live in the per-file-version part)."""
    return "measures_f" if measure == "errors" else "measures"


def measure_by_unit_year(scope: Scope, measure: str, unit_ids: Sequence[str]) -> pl.DataFrame:
    _, agg, _ = MEASURES[measure]
    w, p = where(scope)
    return snap_query(f"""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label, year,
                                 {agg} AS value
                          FROM {_msrc(measure)} {w} AND list_contains(?::VARCHAR[], unit_id)
                          GROUP BY ALL ORDER BY label, year""", [*p, list(unit_ids)])


def measure_by_year(scope: Scope, measure: str) -> pl.DataFrame:
    _, agg, _ = MEASURES[measure]
    w, p = where(scope)
    return snap_query(f"SELECT year, {agg} AS value, count(*) AS reports FROM {_msrc(measure)} {w} GROUP BY year ORDER BY year",
                      p)


def measure_by_top_units(scope: Scope, measure: str, n: int) -> pl.DataFrame:
    """As :func:`measure_by_unit_year` for the ``n`` units with the highest measure in the scope
    (one query: the choice of units and their figures together)."""
    _, agg, _ = MEASURES[measure]
    w, p = where(scope)
    src = _msrc(measure)
    return snap_query(f"""WITH top AS (SELECT unit_id FROM {src} {w} GROUP BY unit_id
                                       ORDER BY {agg} DESC NULLS LAST, unit_id LIMIT ?)
                          SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label, year,
                                 {agg} AS value
                          FROM {src} {w} AND unit_id IN (SELECT unit_id FROM top)
                          GROUP BY ALL ORDER BY label, year""", [*p, n, *p])


def yoy_changes(scope: Scope, measure: str, limit: int = 300) -> pl.DataFrame:
    """Year-on-year change of a measure per unit (year Y vs Y−1 of the same unit), largest first."""
    _, agg, _ = MEASURES[measure]
    w, p = where(scope, year_lo_offset=-1)
    lo = scope.years[0] if scope.years else -10**6
    return snap_query(f"""
        WITH v AS (SELECT unit_id, year, {agg} AS value FROM {_msrc(measure)} {w} GROUP BY unit_id, year),
        c AS (SELECT a.unit_id, a.year, b.value AS prev, a.value AS value FROM v a
              JOIN v b ON b.unit_id = a.unit_id AND b.year = a.year - 1
              WHERE a.year >= ? AND a.value IS NOT NULL AND b.value IS NOT NULL
              ORDER BY abs(a.value - b.value) DESC, a.unit_id, a.year LIMIT ?)
        SELECT u.unit, u.region, c.year, c.prev, c.value, c.value - c.prev AS change,
               (c.value - c.prev) / NULLIF(abs(c.prev), 0) AS pct
        FROM c JOIN units u USING (unit_id)
        ORDER BY abs(c.value - c.prev) DESC, u.unit, c.year""", [*p, lo, limit])


def _chain_from(scope: Scope) -> tuple[str, list]:
    """Rows of the 结转 chain in the scope: every report except those of the first year of data."""
    w, p = where(scope, template=False)
    return (f"""(SELECT unit_id, unit, region, year, prev_cf AS prev_carry_forward, carried_over,
                        carried_over - prev_cf AS diff,
                        CASE WHEN NOT has_prev THEN 'no_prev'
                             WHEN carried_over IS NULL OR prev_cf IS NULL THEN 'unknown'
                             WHEN carried_over = prev_cf THEN 'ok' ELSE 'break' END AS state
                 FROM measures {w} AND year > (SELECT min(year) FROM measures))""", p)


CHAIN_STATES = ("ok", "break", "unknown", "no_prev")


def carry_chain_overview(scope: Scope, all_up_to_units: int = 60, limit: int = 500) -> tuple[dict, pl.DataFrame]:
    """The 结转 chain in one query: per unit and year, last year's 结转下年度 (总计) vs this year's
    上年结转 (总计).  ``state``: ok | break (both known, different) | unknown (a figure is missing,
    e.g. no 表三) | no_prev (no report of the unit the year before).

    Returns the number of unit-years per state and of units (``counts``), and the rows, breaks
    first and largest difference first, at most ``limit``: every state when the scope has at most
    ``all_up_to_units`` units, else only the breaks."""
    src, p = _chain_from(scope)
    counts_sql = ", ".join(f"count(*) FILTER (WHERE state = '{s}') AS \"n_{s}\"" for s in CHAIN_STATES)
    df = snap_query(f"""WITH c AS (SELECT * FROM {src}),
                             n AS (SELECT {counts_sql}, count(DISTINCT unit_id) AS n_units FROM c),
                             r AS (SELECT * FROM c WHERE state = 'break' OR (SELECT n_units FROM n) <= ?
                                   ORDER BY (state = 'break') DESC, abs(COALESCE(diff, 0)) DESC, region, unit, year
                                   LIMIT ?)
                        SELECT n.*, r.* FROM n LEFT JOIN r ON TRUE
                        ORDER BY (r.state = 'break') DESC, abs(COALESCE(r.diff, 0)) DESC, r.region, r.unit, r.year""",
                    [*p, all_up_to_units, limit])
    first = df.row(0, named=True)
    counts = {s: int(first[f"n_{s}"] or 0) for s in CHAIN_STATES}
    counts["units"] = int(first["n_units"] or 0)
    rows = df.drop([c for c in df.columns if c.startswith("n_")]).filter(pl.col("unit_id").is_not_null())
    return counts, rows
