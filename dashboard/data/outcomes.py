"""办理结果: the six outcome groups per unit, their totals and the reason rows."""

from __future__ import annotations

import polars as pl

from dashboard.data.snapshot import REASON_ROWS, snap_query
from dashboard.data.where import where
from dashboard.labels import OUTCOME_NAMES
from dashboard.scope import Scope
from ingest.templates import key_infos

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
        SELECT {groups}, sum(result_total) FILTER (WHERE result_total > 0) AS handled,
               count(*) FILTER (WHERE template = '2019') AS n2019, count(*) FILTER (WHERE template = '2021') AS n2021
        FROM measures {w}""", p).row(0, named=True)


def reason_totals(scope: Scope) -> pl.DataFrame:
    """Σ of each reason row (不予公开 / 无法提供 / 不予处理 items, and the 其他处理 rows of both formats)."""
    w, p = where(scope, prefix="m.")
    cols = ", ".join(f"sum(m.t_{r}) AS {r}" for r in REASON_ROWS)
    wide = snap_query(f"SELECT {cols} FROM measures m {w}", p)
    rows = []
    infos = {**key_infos()["2019"], **key_infos()["2021"]}
    for r in REASON_ROWS:
        label = infos[f"s3.{r}.natural"].row_label
        group, _, item = label.partition(" ")
        if r == "other":
            item = "其他处理（2019 年格式，单行）"
        elif r.startswith("other_"):
            item = f"{item}（2021 年格式）"
        rows.append({"row": r, "group": OUTCOME_NAMES[_group_of(r)], "reason": item or group,
                     "n": wide[r][0] if wide.height else None})
    return pl.DataFrame(rows, schema={"row": pl.String, "group": pl.String, "reason": pl.String, "n": pl.Float64})


def _group_of(row: str) -> str:
    for g in ("deny", "unable", "noproc", "other"):
        if row.startswith(g):
            return g
    return row
