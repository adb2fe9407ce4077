"""The dashboard's one query layer: read-only, parameterised SQL, polars results, cached.

Design (see docs in the module functions):

* **Which file.**  The database path comes from :func:`dashboard.config.db_path`.  Every query
  takes the file's *signature* (mtime, size, inode) as part of its cache key, so when a load or
  a review swaps in a new file (``os.replace``, see ``ingest.store.db``) the next rerun misses
  the cache and reads the new file.
* **Connections.**  The file is never kept open.  A query opens an in-memory DuckDB, ``ATTACH``\\es
  the file ``READ_ONLY``, runs, and closes.  ``ATTACH`` (rather than ``duckdb.connect(path)``)
  matters: DuckDB shares one database instance per path inside a process, so a plain connect
  made while another session still holds a connection to the old file would read the *old*
  file after a swap; an in-memory instance with ``ATTACH`` always opens the file now on disk.
* **Snapshot.**  Aggregated per-report figures (one row per report, never the cells) are
  materialised once per file signature into an in-memory DuckDB (``_snapshot``): the report
  measures, applicant-column sums, outcome reason totals, money cells, the unit × year status
  grid and finding counts.  Filtered page queries then aggregate those small tables in DuckDB
  in a few milliseconds even for 40,000 units × 7 years; per-report detail (cells, findings,
  provenance) is read from the file with a ``report_id`` / ``unit_id`` filter.
* **Caching.**  ``st.cache_data`` on (path, signature, SQL, parameters); results are polars
  DataFrames.  Filter values only ever travel as parameters, never as SQL text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboard import config
from dashboard.scope import Scope
from ingest.templates import key_infos, s3_leaf_rows

# ---------------------------------------------------------------- errors


class DbUnavailable(Exception):
    """The database cannot be read; ``kind`` is missing | corrupt | schema, ``message`` plain Chinese."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _unavailable(kind: str, path: Path, detail: str = "") -> DbUnavailable:
    if kind == "missing":
        msg = f"数据库文件不存在：{path}"
    elif kind == "schema":
        msg = f"数据库文件 {path} 缺少所需的表或视图（可能由旧版本创建）"
    else:
        msg = f"数据库文件 {path} 无法读取（文件可能已损坏，或不是 nianbao 数据库）"
    if detail:
        msg += f"。详细信息：{detail}"
    return DbUnavailable(kind, msg)


# ---------------------------------------------------------------- the file


def db_path() -> Path:
    return config.db_path()


def signature(path: Path | None = None) -> tuple[int, int, int]:
    """(mtime_ns, size, inode) of the database file; raises :class:`DbUnavailable` when missing."""
    p = path or db_path()
    try:
        s = os.stat(p)
    except FileNotFoundError:
        raise _unavailable("missing", p) from None
    return (s.st_mtime_ns, s.st_size, s.st_ino)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def _attached(path: Path):
    """A short-lived in-memory connection with the file attached read-only as the default catalog."""
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"ATTACH {_sql_literal(str(path))} AS nb (READ_ONLY)")
            con.execute("USE nb")
        except duckdb.IOException as e:
            if not path.exists():
                raise _unavailable("missing", path) from None
            raise _unavailable("corrupt", path, str(e).splitlines()[0][:200]) from None
        except duckdb.Error as e:
            raise _unavailable("corrupt", path, str(e).splitlines()[0][:200]) from None
        try:
            yield con
        except duckdb.CatalogException as e:
            raise _unavailable("schema", path, str(e).splitlines()[0][:200]) from None
        except duckdb.BinderException as e:
            raise _unavailable("schema", path, str(e).splitlines()[0][:200]) from None
    finally:
        con.close()


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence) -> pl.DataFrame:
    return con.sql(sql, params=list(params)).pl()


@st.cache_data(max_entries=512, show_spinner=False)
def _file_query(path: str, sig: tuple, sql: str, params: tuple) -> pl.DataFrame:
    with _attached(Path(path)) as con:
        return _fetch(con, sql, params)


def file_query(sql: str, params: Sequence = ()) -> pl.DataFrame:
    """Run a read-only query on the database file (cached per file version)."""
    p = db_path()
    return _file_query(str(p), signature(p), sql, tuple(params))


# ---------------------------------------------------------------- the snapshot

_LEAVES = list(dict.fromkeys([*s3_leaf_rows("2019"), *s3_leaf_rows("2021")]))
REASON_ROWS = [r for r in _LEAVES if r not in ("granted", "partial")]
APPLICANT_COLS = ("natural", "commercial", "research", "public_interest", "legal_service", "other_org")
APPLICANT_NAMES = {"natural": "自然人", "commercial": "商业企业", "research": "科研机构",
                   "public_interest": "社会公益组织", "legal_service": "法律服务机构",
                   "other_org": "其他（法人或其他组织）"}

_APPS_PIVOT = ",\n    ".join(
    f"max(value) FILTER (WHERE row_key = '{row}' AND col_key = '{col}') AS {pre}_{col}"
    for row, pre in (("new_received", "new"), ("carried_over", "co")) for col in APPLICANT_COLS)
_REASON_PIVOT = ",\n    ".join(f"max(total) FILTER (WHERE row_key = '{r}') AS r_{r}" for r in REASON_ROWS)
_S3_ROW_LIST = ", ".join(f"'{r}'" for r in ["new_received", "carried_over", *REASON_ROWS])

_SNAPSHOT_SQL = f"""
CREATE TABLE units AS
SELECT unit_id, name AS unit, region, COALESCE(level, '其他') AS level FROM nb.units;

CREATE TABLE measures AS
SELECT report_id, unit_id, unit, region, COALESCE(level, '其他') AS level, year,
       CASE WHEN template IN ('2019', '2021') THEN template ELSE '其他' END AS tpl, template, published,
       received, carried_over, granted, partial, deny, unable, noproc, other, result_total, carry_forward,
       reviews, suits, procurement_projects, procurement_wan, procurement_unit_unknown, fee_wan, fee_converted,
       disclosure_rate, errors, warnings, infos
FROM nb.v_report_measures;

CREATE TABLE s3 AS
WITH c AS (
    SELECT c.report_id, c.row_key, c.col_key, c.value
    FROM nb.cells c JOIN nb.reports r USING (report_id)
    WHERE r.status = 'current' AND c.section = 's3' AND c.row_key IN ({_S3_ROW_LIST})
), t AS (
    SELECT report_id, row_key,
           COALESCE(max(value) FILTER (WHERE col_key = 'total'),
                    sum(value) FILTER (WHERE col_key <> 'total'), 0) AS total
    FROM c GROUP BY report_id, row_key
), apps AS (
    SELECT report_id,
    {_APPS_PIVOT}
    FROM c WHERE row_key IN ('new_received', 'carried_over') GROUP BY report_id
), reasons AS (
    SELECT report_id,
    {_REASON_PIVOT}
    FROM t GROUP BY report_id
)
SELECT * FROM apps FULL JOIN reasons USING (report_id);

CREATE TABLE money AS
SELECT c.report_id,
       max(c.value) FILTER (WHERE c.key = 's2.procurement.projects') AS proc_projects,
       max(c.value) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_value,
       max(c.raw) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_raw,
       max(c.unit) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_unit,
       max(c.value_wan) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_wan,
       bool_or(c.unknown_unit) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_unknown,
       bool_or(c.wan_converted) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_converted,
       max(c.value) FILTER (WHERE c.key = 's2.fee.amount') AS fee_value,
       max(c.raw) FILTER (WHERE c.key = 's2.fee.amount') AS fee_raw,
       max(c.unit) FILTER (WHERE c.key = 's2.fee.amount') AS fee_unit,
       max(c.value_wan) FILTER (WHERE c.key = 's2.fee.amount') AS fee_wan,
       bool_or(c.wan_converted) FILTER (WHERE c.key = 's2.fee.amount') AS fee_converted,
       bool_or(c.unknown_unit) FILTER (WHERE c.key = 's2.fee.amount') AS fee_unknown
FROM nb.cells c JOIN nb.reports r USING (report_id)
WHERE r.status = 'current' AND c.key IN ('s2.procurement.projects', 's2.procurement.amount', 's2.fee.amount')
GROUP BY c.report_id;

CREATE TABLE status AS
SELECT unit_id, unit, region, COALESCE(level, '其他') AS level, year, report_id,
       CASE WHEN template IN ('2019', '2021') THEN template WHEN template IS NULL THEN NULL ELSE '其他' END AS tpl,
       status, errors, warnings, infos
FROM nb.v_submission_status;

CREATE TABLE fcount AS
SELECT f.unit_id, f.year, f.rule, f.severity,
       CASE WHEN r.template IN ('2019', '2021') THEN r.template WHEN r.template IS NULL THEN NULL ELSE '其他' END AS tpl,
       count(*) AS n
FROM nb.v_findings_open f LEFT JOIN nb.reports r ON r.report_id = f.report_id
GROUP BY ALL;
"""


@st.cache_resource(max_entries=2, show_spinner="正在读取数据库……")
def _snapshot(path: str, sig: tuple) -> duckdb.DuckDBPyConnection:
    """Aggregated per-report tables of one version of the database file, in memory."""
    snap = duckdb.connect(":memory:")
    try:
        snap.execute(f"ATTACH {_sql_literal(path)} AS nb (READ_ONLY)")
    except duckdb.Error as e:
        snap.close()
        p = Path(path)
        if not p.exists():
            raise _unavailable("missing", p) from None
        raise _unavailable("corrupt", p, str(e).splitlines()[0][:200]) from None
    try:
        snap.execute(_SNAPSHOT_SQL)
    except (duckdb.CatalogException, duckdb.BinderException) as e:
        snap.close()
        raise _unavailable("schema", Path(path), str(e).splitlines()[0][:200]) from None
    snap.execute("DETACH nb")
    return snap


@st.cache_data(max_entries=1024, show_spinner=False)
def _snap_query(path: str, sig: tuple, sql: str, params: tuple) -> pl.DataFrame:
    cur = _snapshot(path, sig).cursor()
    try:
        return _fetch(cur, sql, params)
    finally:
        cur.close()


def snap_query(sql: str, params: Sequence = ()) -> pl.DataFrame:
    """Run a query on the aggregated snapshot of the current database file (cached)."""
    p = db_path()
    return _snap_query(str(p), signature(p), sql, tuple(params))


def check_database() -> None:
    """Raise :class:`DbUnavailable` unless the database can be read (builds the snapshot)."""
    p = db_path()
    _snapshot(str(p), signature(p))


def clear_caches() -> None:
    _snap_query.clear()
    _file_query.clear()
    _snapshot.clear()


# ---------------------------------------------------------------- filters as SQL


def where(scope: Scope, *, years: bool = True, template: bool = True, severity: bool = False,
          prefix: str = "", year_lo_offset: int = 0) -> tuple[str, list]:
    """``WHERE`` clause (always starting with ``WHERE``) and its parameters for a scope.

    The table must have ``year, region, unit_id, unit, level`` (and ``tpl`` / ``severity``
    when those filters are used).  ``year_lo_offset=-1`` also includes the year before the range
    (for year-on-year comparisons).
    """
    a = prefix
    clauses, params = ["TRUE"], []
    if years and scope.years is not None:
        clauses.append(f"{a}year BETWEEN ? AND ?")
        params += [scope.years[0] + year_lo_offset, scope.years[1]]
    if scope.regions:
        clauses.append(f"list_contains(?::VARCHAR[], {a}region)")
        params.append(list(scope.regions))
    if scope.units:
        clauses.append(f"list_contains(?::VARCHAR[], {a}unit_id)")
        params.append(list(scope.units))
    if scope.name:
        clauses.append(f"contains({a}unit, ?)")
        params.append(scope.name)
    if scope.levels:
        clauses.append(f"list_contains(?::VARCHAR[], {a}level)")
        params.append(list(scope.levels))
    if template and scope.templates:
        clauses.append(f"list_contains(?::VARCHAR[], {a}tpl)")
        params.append(list(scope.templates))
    if severity and scope.severities:
        clauses.append(f"list_contains(?::VARCHAR[], {a}severity)")
        params.append(list(scope.severities))
    return "WHERE " + " AND ".join(clauses), params


# ---------------------------------------------------------------- filter options


def filter_options() -> dict:
    """Years, regions and levels present, for the sidebar widgets."""
    yrs = snap_query("SELECT min(year) AS lo, max(year) AS hi FROM status")
    regions = snap_query("SELECT DISTINCT region FROM units WHERE region IS NOT NULL ORDER BY region")
    levels = snap_query("SELECT DISTINCT level FROM units ORDER BY level")
    n_units = snap_query("SELECT count(*) AS n FROM units")["n"][0]
    lo, hi = yrs["lo"][0], yrs["hi"][0]
    return {"years": (int(lo), int(hi)) if lo is not None else None,
            "regions": regions["region"].to_list(), "levels": levels["level"].to_list(), "n_units": int(n_units)}


def unit_options(regions: Sequence[str], levels: Sequence[str], name: str, limit: int) -> pl.DataFrame:
    """Units matching the region/level/name filters (unit_id, label), at most ``limit``."""
    s = Scope(regions=tuple(regions), levels=tuple(levels), name=name)
    w, p = where(s, years=False, template=False)
    return snap_query(f"""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label
                          FROM units {w} ORDER BY region, unit LIMIT ?""", [*p, limit])


def units_for_labels(labels: Sequence[str]) -> dict[str, str]:
    """unit_id -> label for display labels ("泉港镇（丰城市）") or unit ids found in a URL."""
    if not labels:
        return {}
    df = snap_query("""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label FROM units
                       WHERE list_contains(?::VARCHAR[], unit || COALESCE('（' || region || '）', ''))
                          OR list_contains(?::VARCHAR[], unit_id)""", [list(labels), list(labels)])
    return dict(zip(df["unit_id"].to_list(), df["label"].to_list(), strict=True))


def unit_labels(unit_ids: Sequence[str]) -> dict[str, str]:
    if not unit_ids:
        return {}
    df = snap_query("""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label FROM units
                       WHERE list_contains(?::VARCHAR[], unit_id)""", [list(unit_ids)])
    return dict(zip(df["unit_id"].to_list(), df["label"].to_list(), strict=True))


# ---------------------------------------------------------------- 总览


def overview_kpis(scope: Scope) -> dict:
    """Key figures for the scope; 公开率 = (予以公开 + 部分公开) / 办理结果总计 over reports that report it."""
    w, p = where(scope)
    m = snap_query(f"""
        SELECT count(*) AS reports, count(DISTINCT unit_id) AS units_reporting,
               sum(received) AS received, sum(carried_over) AS carried_over,
               sum(COALESCE(granted, 0) + COALESCE(partial, 0)) FILTER (WHERE result_total > 0) AS disclosed,
               sum(result_total) FILTER (WHERE result_total > 0) AS handled
        FROM measures {w}""", p).row(0, named=True)
    wu, pu = where(scope, years=False, template=False)
    m["units"] = int(snap_query(f"SELECT count(*) AS n FROM units {wu}", pu)["n"][0])
    ws, ps = where(scope, template=False)
    m["missing"] = int(snap_query(f"SELECT count(*) FILTER (WHERE status = 'missing') AS n FROM status {ws}",
                                  ps)["n"][0])
    m["rate"] = (m["disclosed"] / m["handled"]) if m["handled"] else None
    m["findings"] = findings_by_severity(scope)
    return m


def _fcount_from() -> str:
    return "(SELECT f.*, u.unit, u.region, u.level FROM fcount f JOIN units u USING (unit_id))"


def findings_by_severity(scope: Scope) -> dict[str, int]:
    """Open (not dismissed) findings per severity, in the scope (template filter: reports of that template)."""
    w, p = where(scope, severity=True)
    df = snap_query(f"SELECT severity, sum(n)::BIGINT AS n FROM {_fcount_from()} {w} GROUP BY severity", p)
    return {s: int(n) for s, n in df.iter_rows()}


MATRIX_MAX_UNITS = 60


def submission_matrix(scope: Scope) -> tuple[str, pl.DataFrame]:
    """Unit × year status when at most ``MATRIX_MAX_UNITS`` units are in scope, else region × year counts.

    Returns ``("unit", df)`` or ``("region", df)``.  The template filter does not apply here: a
    missing report has no template.
    """
    w, p = where(scope, template=False)
    n = snap_query(f"SELECT count(DISTINCT unit_id) AS n FROM status {w}", p)["n"][0]
    if n <= MATRIX_MAX_UNITS:
        return "unit", snap_query(f"""
            SELECT unit_id, unit, region, year, report_id, status, errors, warnings, infos,
                   unit || COALESCE('（' || region || '）', '') AS label
            FROM status {w} ORDER BY region, unit, year""", p)
    return "region", snap_query(f"""
        SELECT COALESCE(region, '（未知县市区）') AS region, year, count(*) AS units,
               count(*) FILTER (WHERE status = 'missing') AS missing,
               count(*) FILTER (WHERE status = 'has_errors') AS has_errors,
               count(*) FILTER (WHERE status = 'wrong_template') AS wrong_template,
               count(*) FILTER (WHERE status = 'late') AS late,
               count(*) FILTER (WHERE status = 'published') AS published
        FROM status {w} GROUP BY ALL ORDER BY region, year""", p)


def missing_reports(scope: Scope, limit: int = 500) -> pl.DataFrame:
    w, p = where(scope, template=False)
    return snap_query(f"""SELECT unit, region, year FROM status {w} AND status = 'missing'
                          ORDER BY year DESC, region, unit LIMIT ?""", [*p, limit])


# ---------------------------------------------------------------- findings (the problem list)

SEVERITY_RANK = "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"

_FINDINGS_FROM = """(
    SELECT f.finding_id, f.unit_id, f.unit, f.region, COALESCE(f.level, '其他') AS level, f.year, f.report_id,
           f.rule, f.severity, f.keys, f.expected, f.actual, f.message, f.assumed_zero, f.evidence, f.defect,
           f.origin, f.review_status, f.review_note, f.reviewed_by, f.reviewed_at, f.review_stale, f.file_name,
           CASE WHEN r.template IN ('2019', '2021') THEN r.template WHEN r.template IS NULL THEN NULL
                ELSE '其他' END AS tpl
    FROM v_findings f LEFT JOIN reports r ON r.report_id = f.report_id)"""


def findings(scope: Scope, rules: Sequence[str] = (), review: Sequence[str] = ("open", "confirmed"),
             limit: int = 200, offset: int = 0) -> pl.DataFrame:
    """The problem list, most serious first (severity, then year, then unit)."""
    w, p = where(scope, severity=True)
    extra, ep = "", []
    if rules:
        extra += " AND list_contains(?::VARCHAR[], rule)"
        ep.append(list(rules))
    if review:
        extra += " AND list_contains(?::VARCHAR[], review_status)"
        ep.append(list(review))
    return file_query(f"""
        SELECT finding_id, severity, unit_id, unit, region, year, rule, message, expected, actual, keys,
               assumed_zero, evidence, review_status, review_note, reviewed_by, reviewed_at, review_stale,
               report_id, file_name
        FROM {_FINDINGS_FROM} {w}{extra}
        ORDER BY {SEVERITY_RANK}, year DESC, region, unit, rule, finding_id
        LIMIT ? OFFSET ?""", [*p, *ep, limit, offset])


def findings_count(scope: Scope, rules: Sequence[str] = (), review: Sequence[str] = ("open", "confirmed")) -> int:
    w, p = where(scope, severity=True)
    extra, ep = "", []
    if rules:
        extra += " AND list_contains(?::VARCHAR[], rule)"
        ep.append(list(rules))
    if review:
        extra += " AND list_contains(?::VARCHAR[], review_status)"
        ep.append(list(review))
    return int(file_query(f"SELECT count(*) AS n FROM {_FINDINGS_FROM} {w}{extra}", [*p, *ep])["n"][0])


def finding_rules(scope: Scope) -> pl.DataFrame:
    """Rules with open findings in the scope, with counts (for the rule filter)."""
    w, p = where(scope, severity=True)
    return snap_query(f"""SELECT rule, sum(n)::BIGINT AS n FROM {_fcount_from()} {w}
                          GROUP BY rule ORDER BY n DESC, rule""", p)


def finding_by_id(finding_id: str) -> dict | None:
    df = file_query(f"SELECT * FROM {_FINDINGS_FROM} WHERE finding_id = ?", [finding_id])
    return df.row(0, named=True) if df.height else None


# ---------------------------------------------------------------- 申请量


def applications_by_unit(scope: Scope) -> pl.DataFrame:
    """Per unit: new and carried-over applications per applicant column, and the 总计 column.

    Component columns and the total are kept apart (never added together); ``mismatch`` marks
    units where the printed totals differ from the sum of the components.
    """
    w, p = where(scope, prefix="m.")
    new = " + ".join(f"COALESCE(s.new_{c}, 0)" for c in APPLICANT_COLS)
    co = " + ".join(f"COALESCE(s.co_{c}, 0)" for c in APPLICANT_COLS)
    cols = ",\n".join(f"sum(COALESCE(s.new_{c}, 0)) AS new_{c}, sum(COALESCE(s.co_{c}, 0)) AS co_{c}"
                      for c in APPLICANT_COLS)
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports,
               {cols},
               sum(m.received) AS received, sum(m.carried_over) AS carried,
               sum({new}) AS new_parts, sum({co}) AS co_parts
        FROM measures m LEFT JOIN s3 s USING (report_id) {w}
        GROUP BY m.unit_id, m.unit, m.region
        ORDER BY COALESCE(sum(m.received), 0) + COALESCE(sum(m.carried_over), 0) DESC, m.unit""", p)


def applications_by_year(scope: Scope) -> pl.DataFrame:
    """Per year: new and carried-over applications per applicant column (components only)."""
    w, p = where(scope, prefix="m.")
    cols = ",\n".join(f"sum(COALESCE(s.new_{c}, 0)) AS new_{c}, sum(COALESCE(s.co_{c}, 0)) AS co_{c}"
                      for c in APPLICANT_COLS)
    return snap_query(f"""
        SELECT m.year, count(*) AS reports, {cols},
               sum(m.received) AS received, sum(m.carried_over) AS carried
        FROM measures m LEFT JOIN s3 s USING (report_id) {w}
        GROUP BY m.year ORDER BY m.year""", p)


def received_unit_year(scope: Scope, limit_units: int = 300) -> pl.DataFrame:
    """本年新收 总计 per unit and year (long form), for the per-year comparison table."""
    w, p = where(scope)
    return snap_query(f"""
        WITH top AS (SELECT unit_id FROM measures {w} GROUP BY unit_id
                     ORDER BY sum(COALESCE(received, 0)) DESC, unit_id LIMIT ?)
        SELECT unit_id, unit, region, year, received FROM measures {w} AND unit_id IN (SELECT unit_id FROM top)
        ORDER BY region, unit, year""", [*p, limit_units, *p])


# ---------------------------------------------------------------- 办理结果

OUTCOME_COLUMNS = {"granted": "予以公开", "partial": "部分公开", "deny": "不予公开", "unable": "无法提供",
                   "noproc": "不予处理", "other": "其他处理"}


def outcomes_by_unit(scope: Scope) -> pl.DataFrame:
    """Per unit: the six outcome groups (其他处理 harmonised by the view), 办理总数 and 公开率."""
    w, p = where(scope)
    groups = ",\n".join(f"sum({c}) AS {c}" for c in OUTCOME_COLUMNS)
    return snap_query(f"""
        SELECT unit_id, unit, region, count(*) AS reports, {groups},
               sum(result_total) FILTER (WHERE result_total > 0) AS handled,
               sum(COALESCE(granted, 0) + COALESCE(partial, 0)) FILTER (WHERE result_total > 0) AS disclosed,
               sum(COALESCE(granted, 0) + COALESCE(partial, 0)) FILTER (WHERE result_total > 0)
                   / NULLIF(sum(result_total) FILTER (WHERE result_total > 0), 0) AS rate
        FROM measures {w}
        GROUP BY unit_id, unit, region
        ORDER BY COALESCE(handled, 0) DESC, unit""", p)


def outcome_totals(scope: Scope) -> dict:
    w, p = where(scope)
    groups = ", ".join(f"sum({c}) AS {c}" for c in OUTCOME_COLUMNS)
    return snap_query(f"""
        SELECT {groups}, sum(result_total) FILTER (WHERE result_total > 0) AS handled,
               count(*) FILTER (WHERE template = '2019') AS n2019, count(*) FILTER (WHERE template = '2021') AS n2021
        FROM measures {w}""", p).row(0, named=True)


def reason_totals(scope: Scope) -> pl.DataFrame:
    """Σ of each reason row (不予公开 / 无法提供 / 不予处理 items, and the 其他处理 rows of both formats)."""
    w, p = where(scope, prefix="m.")
    cols = ", ".join(f"sum(s.r_{r}) AS {r}" for r in REASON_ROWS)
    wide = snap_query(f"SELECT {cols} FROM measures m JOIN s3 s USING (report_id) {w}", p)
    rows = []
    infos = {**key_infos()["2019"], **key_infos()["2021"]}
    for r in REASON_ROWS:
        label = infos[f"s3.{r}.natural"].row_label
        group, _, item = label.partition(" ")
        if r == "other":
            item = "其他处理（2019 年格式，单行）"
        elif r.startswith("other_"):
            item = f"{item}（2021 年格式）"
        rows.append({"row": r, "group": OUTCOME_COLUMNS[_group_of(r)], "reason": item or group,
                     "n": wide[r][0] if wide.height else None})
    return pl.DataFrame(rows, schema={"row": pl.String, "group": pl.String, "reason": pl.String, "n": pl.Float64})


def _group_of(row: str) -> str:
    for g in ("deny", "unable", "noproc", "other"):
        if row.startswith(g):
            return g
    return row


# ---------------------------------------------------------------- 政府采购 / 收费


def procurement_by_report(scope: Scope) -> pl.DataFrame:
    """2019–2020 template reports: 采购项目数, 金额 as printed, unit, 万元 where the unit is known."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, m.year, m.report_id, y.proc_projects AS projects,
               y.proc_raw AS raw, y.proc_value AS value, y.proc_unit AS printed_unit, y.proc_wan AS wan,
               COALESCE(y.proc_unknown, false) AS unknown_unit, COALESCE(y.proc_converted, false) AS converted
        FROM measures m JOIN money y USING (report_id) {w}
          AND m.template = '2019' AND (y.proc_projects IS NOT NULL OR y.proc_raw IS NOT NULL)
        ORDER BY m.region, m.unit, m.year""", p)


def procurement_by_unit(scope: Scope) -> pl.DataFrame:
    """Per unit, 2019–2020: Σ项目数, Σ金额（万元, known units only）, count of unknown-unit amounts."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports, sum(y.proc_projects) AS projects,
               sum(y.proc_wan) AS wan, count(*) FILTER (WHERE y.proc_unknown) AS unknown,
               count(*) FILTER (WHERE y.proc_converted) AS converted
        FROM measures m JOIN money y USING (report_id) {w} AND m.template = '2019'
        GROUP BY ALL ORDER BY COALESCE(wan, 0) DESC, unit""", p)


def fees_by_report(scope: Scope) -> pl.DataFrame:
    """2021+ template reports: 行政事业性收费 本年收费金额 (万元; 元 converted and flagged)."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, m.year, m.report_id, y.fee_raw AS raw, y.fee_unit AS printed_unit,
               y.fee_wan AS wan, COALESCE(y.fee_converted, false) AS converted,
               COALESCE(y.fee_unknown, false) AS unknown_unit
        FROM measures m JOIN money y USING (report_id) {w} AND m.template = '2021' AND y.fee_raw IS NOT NULL
        ORDER BY m.region, m.unit, m.year""", p)


def fees_by_unit(scope: Scope) -> pl.DataFrame:
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports, sum(y.fee_wan) AS wan,
               count(*) FILTER (WHERE y.fee_converted) AS converted
        FROM measures m JOIN money y USING (report_id) {w} AND m.template = '2021' AND y.fee_raw IS NOT NULL
        GROUP BY ALL ORDER BY COALESCE(wan, 0) DESC, unit""", p)


# ---------------------------------------------------------------- 年度趋势

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


def measure_by_unit_year(scope: Scope, measure: str, unit_ids: Sequence[str]) -> pl.DataFrame:
    _, agg, _ = MEASURES[measure]
    w, p = where(scope)
    return snap_query(f"""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label, year,
                                 {agg} AS value
                          FROM measures {w} AND list_contains(?::VARCHAR[], unit_id)
                          GROUP BY ALL ORDER BY label, year""", [*p, list(unit_ids)])


def measure_by_year(scope: Scope, measure: str) -> pl.DataFrame:
    _, agg, _ = MEASURES[measure]
    w, p = where(scope)
    return snap_query(f"SELECT year, {agg} AS value, count(*) AS reports FROM measures {w} GROUP BY year ORDER BY year",
                      p)


def top_units_for(scope: Scope, measure: str, n: int) -> list[str]:
    _, agg, _ = MEASURES[measure]
    w, p = where(scope)
    df = snap_query(f"""SELECT unit_id FROM measures {w} GROUP BY unit_id
                        ORDER BY {agg} DESC NULLS LAST, unit_id LIMIT ?""", [*p, n])
    return df["unit_id"].to_list()


def yoy_changes(scope: Scope, measure: str, limit: int = 300) -> pl.DataFrame:
    """Year-on-year change of a measure per unit (year Y vs Y−1 of the same unit), largest first."""
    _, agg, _ = MEASURES[measure]
    w, p = where(scope, year_lo_offset=-1)
    lo = scope.years[0] if scope.years else -10**6
    return snap_query(f"""
        WITH v AS (SELECT unit_id, unit, region, year, {agg} AS value FROM measures {w} GROUP BY ALL)
        SELECT a.unit, a.region, a.year, b.value AS prev, a.value AS value, a.value - b.value AS change,
               (a.value - b.value) / NULLIF(abs(b.value), 0) AS pct
        FROM v a JOIN v b ON b.unit_id = a.unit_id AND b.year = a.year - 1
        WHERE a.year >= ? AND a.value IS NOT NULL AND b.value IS NOT NULL
        ORDER BY abs(a.value - b.value) DESC, a.unit, a.year LIMIT ?""", [*p, lo, limit])


def carry_chain(scope: Scope) -> pl.DataFrame:
    """Per unit and year: last year's 结转下年度 (总计) vs this year's 上年结转 (总计).

    ``state``: ok | break (both known, different) | no_prev (no report the year before).
    """
    w, p = where(scope, template=False)
    lo = scope.years[0] if scope.years else snap_query("SELECT min(year) AS y FROM measures")["y"][0]
    w2, p2 = where(scope, template=False, year_lo_offset=-1)
    return snap_query(f"""
        WITH cur AS (SELECT unit_id, unit, region, year, carried_over FROM measures {w}),
             prev AS (SELECT unit_id, year, carry_forward FROM measures {w2})
        SELECT c.unit_id, c.unit, c.region, c.year, pv.carry_forward AS prev_carry_forward,
               c.carried_over, c.carried_over - pv.carry_forward AS diff,
               CASE WHEN pv.unit_id IS NULL THEN 'no_prev'
                    WHEN c.carried_over IS NOT DISTINCT FROM pv.carry_forward THEN 'ok'
                    ELSE 'break' END AS state
        FROM cur c LEFT JOIN prev pv ON pv.unit_id = c.unit_id AND pv.year = c.year - 1
        WHERE c.year > ?
        ORDER BY (state = 'break') DESC, abs(COALESCE(diff, 0)) DESC, c.region, c.unit, c.year""",
                      [*p, *p2, lo])


# ---------------------------------------------------------------- 报告详情


def report_years(unit_id: str) -> pl.DataFrame:
    """Every year of the unit's grid with its current report (NULL when missing)."""
    return snap_query("SELECT year, report_id, status FROM status WHERE unit_id = ? ORDER BY year", [unit_id])


def all_units(limit: int = 50_000) -> pl.DataFrame:
    return snap_query("""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label FROM units
                         ORDER BY region, unit LIMIT ?""", [limit])


def report_meta(report_id: str) -> dict | None:
    df = file_query("""SELECT report_id, unit_id, unit, unit_region AS region, level, year, template, published,
                              title_year, period_year, cited_format_doc, unit_raw, unit_name, region_raw, pinned,
                              source_file, file_name, format, sha256, parser_version, run_id, ingested_at, status,
                              version, duplicate_of, n_cells, narrative
                       FROM v_reports WHERE report_id = ?""", [report_id])
    return df.row(0, named=True) if df.height else None


def report_cells(report_id: str) -> pl.DataFrame:
    return file_query("""SELECT key, section, row_key, col_key, value, raw, kind, unit, value_wan, wan_converted,
                                unknown_unit, location FROM cells WHERE report_id = ?""", [report_id])


def report_extra(report_id: str) -> pl.DataFrame:
    return file_query("""SELECT seq, table_name, label, array_to_string("values", ' | ') AS values, location
                         FROM extra_cells WHERE report_id = ? ORDER BY seq""", [report_id])


def report_sections(report_id: str) -> pl.DataFrame:
    return file_query("SELECT section, text FROM sections WHERE report_id = ? ORDER BY section", [report_id])


def unit_year_findings(unit_id: str, year: int) -> pl.DataFrame:
    return file_query(f"""SELECT finding_id, severity, rule, message, keys, expected, actual, assumed_zero, evidence,
                                 review_status, review_note, origin
                          FROM v_findings WHERE unit_id = ? AND year = ?
                          ORDER BY {SEVERITY_RANK}, rule, finding_id""", [unit_id, year])


def report_versions(unit_id: str, year: int) -> pl.DataFrame:
    return file_query("""SELECT version, status, file_name, format, sha256, parser_version, ingested_at,
                                duplicate_of, report_id, source_file
                         FROM reports WHERE unit_id = ? AND year = ?
                         ORDER BY load_seq DESC""", [unit_id, year])


# ---------------------------------------------------------------- 数据管理


def db_info() -> dict:
    """File facts and the latest load run."""
    p = db_path()
    st_ = os.stat(p)
    info = {"path": str(p), "size_mb": st_.st_size / 1e6, "modified": datetime.fromtimestamp(st_.st_mtime)}
    meta = file_query("SELECT name, value FROM meta")
    info["meta"] = dict(meta.iter_rows())
    counts = file_query("""SELECT count(*) FILTER (WHERE status = 'current') AS current,
                                  count(*) FILTER (WHERE status = 'superseded') AS superseded,
                                  count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
                                  count(DISTINCT unit_id) AS units, max(ingested_at) AS last_ingested
                           FROM reports""")
    info.update(counts.row(0, named=True))
    return info


def load_runs(limit: int = 20) -> pl.DataFrame:
    return file_query("""SELECT run_id, started_at, finished_at, files_seen, loaded, new_version, unchanged, duplicate,
                                rejected, skipped, findings_error, findings_warning, findings_info
                         FROM runs ORDER BY run_id DESC LIMIT ?""", [limit])


def rejected_files(limit: int = 500) -> pl.DataFrame:
    return file_query("""SELECT file_name, reason, logged_at, file, sha256 FROM v_rejected_files
                         ORDER BY logged_at DESC, file LIMIT ?""", [limit])


def loaded_reports(scope: Scope, limit: int = 500) -> pl.DataFrame:
    """Stored report files (every status) in the scope, newest load first."""
    w, p = where(scope)
    return file_query(f"""
        SELECT unit, region, year, template, status, version, format, file_name, ingested_at, parser_version, sha256
        FROM (SELECT r.*, u.name AS unit, u.region AS region, COALESCE(u.level, '其他') AS level,
                     CASE WHEN r.template IN ('2019', '2021') THEN r.template ELSE '其他' END AS tpl
              FROM reports r LEFT JOIN units u USING (unit_id)) {w}
        ORDER BY load_seq DESC LIMIT ?""", [*p, limit])
