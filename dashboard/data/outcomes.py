"""办理结果: the six outcome groups per unit, their totals and the reason rows."""

from __future__ import annotations

import polars as pl

from dashboard.data.snapshot import REASON_ROWS, snap_query
from dashboard.data.where import where
from dashboard.labels import OUTCOME_NAMES
from dashboard.scope import Scope
from ingest.store.measures import GROUP_MEASURES
from ingest.templates import key_infos, s3_group_rows, s3_leaf_rows, template_ids, template_name


def outcomes_by_unit(scope: Scope, limit: int = 300, order: str = "handled") -> pl.DataFrame:
    """Per unit (the ``limit`` with most handled applications, or highest 公开率 when ``order="rate"``):
    the six outcome groups (其他处理 harmonised), 办理总数 and 公开率; units that handled nothing are left out."""
    w, p = where(scope)
    groups = ",\n".join(f"sum({c}) AS {c}" for c in OUTCOME_NAMES)
    by = "rate DESC NULLS LAST, handled DESC" if order == "rate" else "handled DESC"
    return snap_query(f"""
        SELECT unit_id, unit, region, count(*) AS reports, {groups},
               sum(result_total) FILTER (WHERE result_total > 0) AS handled,
               sum(COALESCE(granted, 0) + COALESCE(partial, 0)) FILTER (WHERE result_total > 0) AS disclosed,
               sum(COALESCE(granted, 0) + COALESCE(partial, 0)) FILTER (WHERE result_total > 0)
                   / NULLIF(sum(result_total) FILTER (WHERE result_total > 0), 0) AS rate
        FROM measures {w}
        GROUP BY unit_id, unit, region
        HAVING sum(result_total) FILTER (WHERE result_total > 0) > 0
        ORDER BY {by}, unit LIMIT ?""", [*p, limit])


def outcome_totals(scope: Scope) -> dict:
    w, p = where(scope)
    groups = ", ".join(f"sum({c}) AS {c}" for c in OUTCOME_NAMES)
    return snap_query(f"""
        SELECT {groups}, sum(result_total) FILTER (WHERE result_total > 0) AS handled
        FROM measures {w}""", p).row(0, named=True)


def reason_totals(scope: Scope) -> pl.DataFrame:
    """Σ of each reason row (不予公开 / 无法提供 / 不予处理 items, and the 其他处理 rows of both formats)."""
    w, p = where(scope, prefix="m.")
    cols = ", ".join(f"sum(m.t_{r}) AS {r}" for r in REASON_ROWS)
    wide = snap_query(f"SELECT {cols} FROM measures m {w}", p)
    rows = []
    ids = template_ids()
    for r in REASON_ROWS:
        having = [t for t in ids if r in s3_leaf_rows(t)]
        label = key_infos()[having[0]][f"s3.{r}.natural"].row_label
        group, _, item = label.partition(" ")
        item = item or group
        if len(having) < len(ids):           # a row of some templates only: say which
            item = f"{item}（{'、'.join(template_name(t) for t in having)}）"
        rows.append({"row": r, "group": OUTCOME_NAMES[_group_of(r)], "reason": item,
                     "n": wide[r][0] if wide.height else None})
    return pl.DataFrame(rows, schema={"row": pl.String, "group": pl.String, "reason": pl.String, "n": pl.Float64})


def _group_of(row: str) -> str:
    """The outcome group (a measure) that adds up this reason row, in any template."""
    for g in GROUP_MEASURES:
        if any(row in s3_group_rows(t, g) for t in template_ids()):
            return g
    return row
