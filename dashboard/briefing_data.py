"""What the briefing and the 整改清单 show: one read of the database for a year and a filter.

Everything is read from the store's views (``v_submission_status``, ``v_report_measures``,
``v_findings_open``) in one short read-only connection and kept as polars frames, so that the
Word document, the workbook and the charts all show the same numbers.  Aggregates use the view's
row totals of leaf rows only (never a total together with its components), and the 公开率 is the
ratio of sums: (予以公开 + 部分公开) / 办理结果总计 over all reports with a result total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import altair as alt
import duckdb
import polars as pl

from dashboard import charts as C
from dashboard.data.where import where
from dashboard.labels import OUTCOME_NAMES, REVIEW_NAMES, SEVERITY_NAMES, STATUS_NAMES
from dashboard.scope import Scope, level_bucket_sql
from ingest.store.db import connect_readonly
from ingest.store.review import STALE_NOTE
from ingest.store.schema import (
    CELLS,
    META,
    REPORTS,
    UNITS,
    V_FINDINGS_OPEN,
    V_REPORT_MEASURES,
    V_SUBMISSION_STATUS,
)

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


# 表三 办理结果 groups as the v_report_measures view names them, in template order.
OUTCOMES = tuple(OUTCOME_NAMES.items())


class BriefingError(Exception):
    """The briefing cannot be made for this database or filter; the message is plain Chinese."""


@dataclass
class BriefingData:
    year: int
    regions: list[str] | None
    townships: list[str] | None
    area: str                      # name in the title: 示例市 / 云岭区 / '' when unknown
    scope: str                     # one line: which units the figures cover
    data_date: str                 # YYYY-MM-DD of the latest load
    units: pl.DataFrame            # unit_id, unit, region, level, label (display name, unique)
    status: pl.DataFrame           # v_submission_status rows of the units, years up to ``year``
    measures: pl.DataFrame         # v_report_measures rows of the units for ``year``
    findings: pl.DataFrame         # v_findings_open rows of the units for ``year`` + location, where, what
    figures: dict[str, float | int | None] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.area + ' ' if self.area else ''}{self.year} 年度乡镇政府信息公开工作年度报告监测简报"


def split_message(message: str) -> tuple[str, str]:
    """Split a finding message into (where, what) at its first ``：`` outside “…” quotes (spec §9.3).

    ``表三 第（七）项总计 自然人列：应为 2（…），报告为 3`` → (``表三 第（七）项总计 自然人列``, ``应为 2…``).
    Messages without such a colon (missing report, late publication) have no location: ('', message).
    """
    depth = 0
    for i, ch in enumerate(message):
        if ch in "“「":
            depth += 1
        elif ch in "”」":
            depth = max(0, depth - 1)
        elif ch == "：" and depth == 0:
            return message[:i].strip(), message[i + 1:].strip()
    return "", message.strip()


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def load_briefing_data(db_path: str, *, year: int | None, region: str | Sequence[str] | None = None,
                       townships: Sequence[str] | None = None, levels: Sequence[str] | None = None,
                       name_contains: str | None = None, area: str | None = None) -> BriefingData:
    """Read everything the briefing needs for one year and a unit filter.

    ``region``: one county-level region or several; ``townships``: unit ids or unit names;
    ``levels``: 镇 / 乡 / 街道 / 其他; ``name_contains``: part of a unit name (the dashboard's
    “名称包含”).  ``area`` names the place in the title (default: the single region, else the
    database's ``meta.area_name``, else nothing).  ``year`` None: the latest year with reports.
    """
    con = connect_readonly(db_path)
    try:
        return _load(con, year, _as_list(region), _as_list(townships), _as_list(levels),
                     (name_contains or "").strip(), area)
    finally:
        con.close()


def scope_kwargs(scope) -> dict:
    """Arguments of :func:`load_briefing_data` (and the build functions) for a dashboard
    :class:`~dashboard.scope.Scope`: the last year of its range and its unit filters (the template
    and severity filters do not apply to a briefing, which lists every open problem)."""
    return {"year": scope.years[1] if scope.years else None, "region": list(scope.regions) or None,
            "townships": list(scope.units) or None, "levels": list(scope.levels) or None,
            "name_contains": scope.name or None}


def _load(con: duckdb.DuckDBPyConnection, year: int | None, regions: list[str], townships: list[str],
          levels: list[str], name: str, area: str | None) -> BriefingData:
    years = [r[0] for r in con.execute(
        f"SELECT DISTINCT year FROM {REPORTS} WHERE status = 'current' ORDER BY year").fetchall()]
    if not years:
        raise BriefingError("数据库中还没有任何报告，请先运行 python -m ingest load 导入报告")
    if year is None:
        year = years[-1]
    elif not years[0] <= year <= years[-1]:
        raise BriefingError(f"数据库中没有 {year} 年度的报告（已有年度：{years[0]}–{years[-1]}）")

    if regions:
        known = [r[0] for r in con.execute(
            f"SELECT DISTINCT region FROM {UNITS} WHERE region IS NOT NULL ORDER BY region").fetchall()]
        unknown = [r for r in regions if r not in known]
        if unknown:
            raise BriefingError(f"数据库中没有地区“{'、'.join(unknown)}”（已有地区：{'、'.join(known) or '无'}）")
    unit_ids: list[str] = []
    if townships:        # unit ids or unit names, as the command line takes them
        unit_ids = [r[0] for r in con.execute(
            f"SELECT unit_id FROM {UNITS} WHERE list_contains(?::VARCHAR[], unit_id) OR list_contains(?::VARCHAR[], name)",
            [townships, townships]).fetchall()]
    units = pl.DataFrame(schema={"unit_id": pl.String, "unit": pl.String, "region": pl.String, "level": pl.String})
    if unit_ids or not townships:
        w, p = where(Scope(regions=tuple(regions), units=tuple(unit_ids), name=name, levels=tuple(levels)),
                     years=False, template=False)
        units = con.sql(f"""SELECT unit_id, unit, region, stored_level AS level
                            FROM (SELECT unit_id, name AS unit, region, level AS stored_level,
                                         {level_bucket_sql("level")} AS level FROM {UNITS}) {w}
                            ORDER BY region NULLS LAST, unit""", params=p).pl()
    if units.is_empty():
        raise BriefingError("所选范围内没有乡镇（街道）：请检查地区、层级或乡镇名称")
    dup = units.group_by("unit").len().filter(pl.col("len") > 1)["unit"].to_list()
    units = units.with_columns(
        pl.when(pl.col("unit").is_in(dup) & pl.col("region").is_not_null())
        .then(pl.col("unit") + "（" + pl.col("region") + "）").otherwise(pl.col("unit")).alias("label"))
    ids = units["unit_id"].to_list()
    labels = units.select("unit_id", "label").with_row_index("_order")

    status = con.sql(f"SELECT unit_id, year, status, errors, warnings, infos, file_name, published "
                     f"FROM {V_SUBMISSION_STATUS} WHERE year <= ? AND unit_id IN (SELECT unnest(?))",
                     params=[year, ids]).pl().join(labels, on="unit_id", how="left").sort("_order", "year")
    measures = con.sql(f"SELECT * FROM {V_REPORT_MEASURES} WHERE year = ? AND unit_id IN (SELECT unnest(?))",
                       params=[year, ids]).pl().join(labels, on="unit_id", how="left")
    findings = _findings(con, year, ids).join(labels.drop("_order"), on="unit_id", how="left")

    data_date = _data_date(con)
    area_name = area if area is not None else (regions[0] if len(regions) == 1 else _meta(con, "area_name") or "")
    scope = _scope_text(units, regions, bool(townships), levels, name)
    data = BriefingData(year, regions or None, townships or None, area_name, scope, data_date,
                        units, status, measures, findings)
    data.figures = key_figures(data)
    return data


def _findings(con: duckdb.DuckDBPyConnection, year: int, ids: list[str]) -> pl.DataFrame:
    """Open findings of the year with the source location of the first cell they name."""
    df = con.sql(f"""
        WITH f AS (
            SELECT * FROM {V_FINDINGS_OPEN} WHERE year = ? AND unit_id IN (SELECT unnest(?))
        ), k AS (
            SELECT finding_id, report_id, unnest(keys) AS key, generate_subscripts(keys, 1) AS i
            FROM f WHERE report_id IS NOT NULL
        ), loc AS (
            SELECT k.finding_id, arg_min(c.location, k.i) AS location
            FROM k JOIN {CELLS} c ON c.report_id = k.report_id AND c.key = k.key
            WHERE c.location IS NOT NULL AND c.location <> ''
            GROUP BY k.finding_id
        )
        SELECT f.finding_id, f.unit_id, f.unit, f.region, f.year, f.report_id, f.file_name, f.rule, f.severity,
               f.keys, f.expected, f.actual, f.message, f.review_status, f.review_note, f.review_stale,
               loc.location
        FROM f LEFT JOIN loc USING (finding_id)""", params=[year, ids]).pl()
    parts = [split_message(m) for m in df["message"].to_list()]
    return df.with_columns(
        pl.Series("where", [p[0] for p in parts], dtype=pl.String),
        pl.Series("what", [p[1] for p in parts], dtype=pl.String),
        pl.col("severity").replace_strict(SEVERITY_ORDER, default=3, return_dtype=pl.Int8).alias("sev_order"),
    ).sort(["region", "unit", "sev_order", "rule", "message"], nulls_last=True)


def _data_date(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(f"SELECT max(ingested_at) FROM {REPORTS} WHERE status = 'current'").fetchone()
    when = row[0] if row else None
    return when.strftime("%Y-%m-%d") if isinstance(when, datetime) else datetime.now().strftime("%Y-%m-%d")


def _meta(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = con.execute(f"SELECT value FROM {META} WHERE name = ?", [name]).fetchone()
    return row[0] if row and row[0] else None


def _scope_text(units: pl.DataFrame, regions: list[str], picked: bool, levels: list[str], name: str) -> str:
    """“范围：…，共 n 个乡镇（街道）” naming the regions, the filters and, when picked one by one, the units."""
    n = units.height
    parts = []
    present = [r for r in units["region"].unique(maintain_order=True).to_list() if r]
    if regions or present:
        parts.append("、".join(regions or present))
    if levels:
        parts.append("层级：" + "、".join(levels))
    if name:
        parts.append(f"名称包含“{name}”")
    if picked:
        names = units["label"].to_list()
        parts.append("、".join(names[:12]) + (" 等" if n > 12 else ""))
    head = "；".join(parts) if parts else "全部"
    return f"范围：{head}，共 {n} 个乡镇（街道）"


def _sum(df: pl.DataFrame, col: str) -> float:
    return float(df[col].fill_null(0).sum()) if df.height else 0.0


def key_figures(d: BriefingData) -> dict[str, float | int | None]:
    """The numbers of the 总体情况 section (counts are ints; the rate is a fraction or None)."""
    cur = d.status.filter(pl.col("year") == d.year)
    counts = dict(cur.group_by("status").len().iter_rows())
    m = d.measures
    with_total = m.filter(pl.col("result_total") > 0)
    disclosed = _sum(with_total, "granted") + _sum(with_total, "partial")
    total = _sum(with_total, "result_total")
    sev = dict(d.findings.group_by("severity").len().iter_rows())
    return {
        "units": d.units.height,
        "published": cur.height - counts.get("missing", 0),
        "missing": counts.get("missing", 0),
        "has_errors": counts.get("has_errors", 0) + counts.get("wrong_template", 0),
        "late": counts.get("late", 0),
        "received": int(_sum(m, "received")),
        "carried_over": int(_sum(m, "carried_over")),
        "result_total": int(_sum(m, "result_total")),
        "disclosed": int(disclosed),
        "disclosure_rate": disclosed / total if total else None,
        "reviews": int(_sum(m, "reviews")),
        "suits": int(_sum(m, "suits")),
        "errors": sev.get("error", 0),
        "warnings": sev.get("warning", 0),
        "infos": sev.get("info", 0),
        "units_with_problems": d.findings["unit_id"].n_unique() if d.findings.height else 0,
    }


# ------------------------------------------------------------------ tables

def fmt_number(v: float | int | None) -> str:
    """Numbers as printed in the document: whole numbers without decimals, others with up to 2."""
    if v is None:
        return "—"
    f = float(v)
    if f.is_integer():
        return f"{int(f):,}"
    return f"{f:,.2f}".rstrip("0").rstrip(".")


def ranking_table(d: BriefingData) -> pl.DataFrame:
    """One row per unit in scope: report status, applications, rate and open problems; most problems first."""
    cur = d.status.filter(pl.col("year") == d.year).select("unit_id", "status", "errors", "warnings", "infos")
    m = d.measures.select("unit_id", "received", "result_total", "disclosure_rate")
    df = (d.units.join(cur, on="unit_id", how="left").join(m, on="unit_id", how="left")
          .with_columns(pl.col("errors", "warnings", "infos").fill_null(0))
          .sort(["errors", "warnings", "received", "label"], descending=[True, True, True, False], nulls_last=True))
    return pl.DataFrame({
        "排名": list(range(1, df.height + 1)),
        "乡镇（街道）": df["label"],
        "所属地区": df["region"],
        "报告状态": [STATUS_NAMES.get(s or "missing", s) for s in df["status"].to_list()],
        "本年新收申请（件）": df["received"],
        "办理结果总计（件）": df["result_total"],
        "公开率": df["disclosure_rate"],
        "错误（条）": df["errors"],
        "警告（条）": df["warnings"],
        "提示（条）": df["infos"],
    }, strict=False)


PROBLEM_COLUMNS = ("序号", "乡镇（街道）", "所属地区", "年度", "严重程度", "规则", "问题所在", "问题说明", "应为",
                   "报告为", "原文位置", "报告文件", "审核状态", "审核备注", "整改情况（由乡镇填写）")


def problem_table(findings: pl.DataFrame) -> pl.DataFrame:
    """The open problems as the 整改清单 lists them (Chinese headers, one row per finding)."""
    f = findings
    return pl.DataFrame({
        "序号": list(range(1, f.height + 1)),
        "乡镇（街道）": f["label"],
        "所属地区": f["region"],
        "年度": f["year"],
        "严重程度": [SEVERITY_NAMES.get(s, s) for s in f["severity"].to_list()],
        "规则": f["rule"],
        "问题所在": [w or "—" for w in f["where"].to_list()],
        "问题说明": f["what"],
        "应为": f["expected"],
        "报告为": f["actual"],
        "原文位置": f["location"],
        "报告文件": f["file_name"],
        "审核状态": [REVIEW_NAMES["open"] if stale else REVIEW_NAMES.get(s, s)
                 for s, stale in zip(f["review_status"].to_list(), f["review_stale"].to_list(), strict=True)],
        "审核备注": [STALE_NOTE if stale else note
                 for note, stale in zip(f["review_note"].to_list(), f["review_stale"].to_list(), strict=True)],
        "整改情况（由乡镇填写）": [None] * f.height,
    }, schema_overrides={"整改情况（由乡镇填写）": pl.String, "审核备注": pl.String, "原文位置": pl.String,
                         "报告文件": pl.String, "所属地区": pl.String}, strict=False)


# ------------------------------------------------------------------ charts

_AXIS = {"labelFontSize": 12, "titleFontSize": 13}


def chart_applications(d: BriefingData) -> alt.Chart:
    """Applications received (表三 第一项 本年新收, 总计列) per township, most first."""
    df = d.measures.select(pl.col("label").alias("乡镇（街道）"),
                           pl.col("received").fill_null(0).cast(pl.Int64).alias("本年新收申请（件）"))
    df = df.sort(["本年新收申请（件）", "乡镇（街道）"], descending=[True, False])
    n = max(df.height, 1)
    base = alt.Chart(df).encode(
        y=alt.Y("乡镇（街道）:N", sort=None, title=None, axis=alt.Axis(labelLimit=220, **_AXIS)),
        x=alt.X("本年新收申请（件）:Q", title="本年新收申请（件）", axis=alt.Axis(tickMinStep=1, **_AXIS)),
    )
    bars = base.mark_bar(color="#1f5fa8")
    text = base.mark_text(align="left", dx=3, fontSize=11, color="#333333").encode(text="本年新收申请（件）:Q")
    return (bars + text).properties(width=460, height=min(22 * n, 700))


def outcome_frame(d: BriefingData) -> pl.DataFrame:
    """Σ of each 办理结果 group over the reports of the scope, with its share."""
    values = [(name, int(_sum(d.measures, col))) for col, name in OUTCOMES]
    total = sum(v for _, v in values)
    return pl.DataFrame({
        "办理结果": [n for n, _ in values],
        "件数": [v for _, v in values],
        "占比": [v / total if total else 0.0 for _, v in values],
        "标注": [f"{v} 件（{(v / total if total else 0):.1%}）" for _, v in values],
    })


def chart_outcomes(d: BriefingData) -> alt.Chart:
    """Shares of the 表三 第三项 办理结果 groups (予以公开 … 其他处理)."""
    df = outcome_frame(d)
    order = [n for _, n in OUTCOMES]
    base = alt.Chart(df).encode(
        y=alt.Y("办理结果:N", sort=order, title=None, axis=alt.Axis(**_AXIS)),
        x=alt.X("占比:Q", title="占办理结果总数的比例", axis=alt.Axis(format="%", **_AXIS),
                scale=alt.Scale(domain=[0, 1])),
    )
    bars = base.mark_bar().encode(color=alt.Color("办理结果:N", scale=C.outcome_scale(), legend=None))
    text = base.mark_text(align="left", dx=3, fontSize=11, color="#333333").encode(text="标注:N")
    return (bars + text).properties(width=420, height=6 * 30)


def chart_submission(d: BriefingData) -> alt.TopLevelMixin:
    """Unit × year matrix of report status: the dashboard's own heatmap (same colours and marks)."""
    return C.status_heatmap(d.status, "年度报告发布情况")
