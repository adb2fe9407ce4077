"""Writing a batch of files into an open (temp-copy) database: reports, versions, duplicates, log.

Outcome of each file (also the ``ingest_log.outcome``):

* ``unchanged``   – this very file (same path, same sha256) is already in the database;
* ``duplicate``   – the same bytes under another name (by sha256), or a file of another format
                    with exactly the same figures for the same unit and year ("the same report as
                    HTML and PDF"); the latter is stored as a report with status ``duplicate``;
* ``loaded``      – the first report of its unit and year;
* ``new_version`` – a unit and year that already has a report: the new file becomes current, the
                    earlier one stays as ``superseded`` (a ``CONFLICT`` finding names the cells whose
                    figures differ);
* ``held``        – a new version that reads clearly worse than the current one (no numbers, a
                    table missing, or far fewer numbers: :mod:`ingest.store.versions`): stored
                    with status ``held`` and not made current unless the run accepts worse
                    versions (``load --accept-worse``) or an admin accepts it later;
* ``rejected``    – the file could not be read as a report (reason in plain Chinese);
* ``skipped``     – not a report by its name (manifest, README, *.expected.json …), found in a folder.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from ingest.store import rows as R
from ingest.store.schema import (
    CELLS,
    EXTRA_CELLS,
    INGEST_LOG,
    PARSE_FINDINGS,
    REPORTS,
    SECTIONS,
    UNITS,
)
from ingest.store.units import Pin, UnitObservation, level_of, normalise_name, normalise_region, resolve_units
from ingest.store.versions import HELD, held_reason, worse_reading

OUTCOMES = ("loaded", "new_version", "held", "unchanged", "duplicate", "rejected", "skipped")


@dataclass(slots=True)
class FileItem:
    """One file of a batch, after hashing and (maybe) parsing."""

    path: str                          # absolute path
    sha256: str | None = None
    result: dict | None = None         # parse result (cli.md object + extensions)
    rejected: str | None = None        # reason, when it could not be parsed
    skipped: str | None = None         # reason, when it is not a report by its name
    pin: Pin | None = None             # manifest row for this file


@dataclass(slots=True)
class LogEntry:
    path: str
    sha256: str | None
    outcome: str
    reason: str | None = None
    report_id: str | None = None


@dataclass(slots=True)
class _Known:
    report_id: str
    source_file: str
    file_name: str
    unit_name: str
    region: str | None
    year: int
    format: str | None
    status: str
    load_seq: int
    pinned: bool
    unit_raw: str | None
    region_raw: str | None


REPORT_COLUMNS = ("report_id", "unit_id", "year", "template", "published", "title_year", "period_year",
                  "cited_format_doc", "unit_raw", "unit_name", "unit_level", "region_raw", "region", "pinned",
                  "source_file", "file_name", "format", "sha256", "parser_version", "run_id", "ingested_at",
                  "load_seq", "status", "version", "duplicate_of", "n_cells", "narrative")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert with DuckDB's appender.

    About 5 µs a row, without importing pyarrow or pandas (seconds of start-up on machines
    without a bytecode cache); row-by-row ``executemany`` is about 500 times slower.
    """
    if not rows:
        return
    con.complete()                       # DuckDB 2.0: no appender while an execute() result is pending
    with con.appender(table, columns=list(columns)) as app:
        app.append_rows(rows)


def _s(v) -> str | None:
    return None if v is None else str(v)


def _int_or_none(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


class BatchWriter:
    """Decides the outcome of every file of one run and writes the rows, in one pass."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: int, now: datetime | None = None,
                 accept_worse: bool = False) -> None:
        self.con = con
        self.accept_worse = accept_worse
        self._accepted: list[str] = []                  # held reports this run makes ordinary versions
        self.run_id = run_id
        self.now = now or datetime.now()
        self.log: list[LogEntry] = []
        self._rows: dict[str, list[tuple]] = defaultdict(list)
        self._updates: list[tuple] = []
        self._sig_cache: dict[str, R.Signature] = {}
        self._batch_results: dict[str, dict] = {}       # parse results of this batch, by report_id
        self.by_sha: dict[str, _Known] = {}
        self.regions_by_name: dict[str, set[str]] = defaultdict(set)
        self.current: dict[tuple[str, int], _Known] = {}
        self.next_seq = 1
        self._load_index()

    # ------------------------------------------------------------------ index of what is stored
    def _load_index(self) -> None:
        rows = self.con.execute(
            f"SELECT report_id, source_file, file_name, unit_name, region, year, format, status, load_seq, pinned,"
            f" unit_raw, region_raw, sha256 FROM {REPORTS} ORDER BY load_seq").fetchall()
        for r in rows:
            k = _Known(*r[:12])
            self.by_sha[r[12]] = k
            self.next_seq = max(self.next_seq, k.load_seq + 1)
            if k.region:
                self.regions_by_name[k.unit_name].add(k.region)
        for r in rows:
            k = self.by_sha[r[12]]
            if k.status not in ("duplicate", HELD):
                self.current[(self._group_id(k.unit_name, k.region), k.year)] = k

    def _group_id(self, name: str, region: str | None) -> str:
        if region is None and len(self.regions_by_name.get(name, ())) == 1:
            region = next(iter(self.regions_by_name[name]))
        return f"{region}/{name}" if region else name

    def _signature(self, report_id: str) -> R.Signature:
        if report_id in self._batch_results:
            return R.cell_signature(self._batch_results[report_id])
        if report_id not in self._sig_cache:
            rows = self.con.execute(f"SELECT key, value, kind, unit FROM {CELLS} WHERE report_id = ?",
                                    [report_id]).fetchall()
            self._sig_cache[report_id] = {k: (v, kind, u or None) for k, v, kind, u in rows}
        return self._sig_cache[report_id]

    # ------------------------------------------------------------------ one file
    def add(self, item: FileItem) -> LogEntry:
        entry = self._decide(item)
        self.log.append(entry)
        return entry

    def _decide(self, item: FileItem) -> LogEntry:
        if item.skipped is not None:
            return LogEntry(item.path, item.sha256, "skipped", item.skipped)
        if item.rejected is not None:
            return LogEntry(item.path, item.sha256, "rejected", item.rejected)
        known = self.by_sha.get(item.sha256 or "")
        if known is not None:
            if known.status == HELD and self.accept_worse:
                return self._accept_held(known, item)
            if known.source_file == item.path:
                reason = self._apply_pin(known, item.pin)
                return LogEntry(item.path, item.sha256, "unchanged", reason, known.report_id)
            return LogEntry(item.path, item.sha256, "duplicate",
                            f"与已入库的“{known.file_name}”内容完全相同", known.report_id)
        if item.result is None:
            return LogEntry(item.path, item.sha256, "rejected", "与本批中另一个无法入库的文件内容相同")
        try:
            return self._new_report(item)
        except Exception as e:  # a malformed parse result: reject this file, keep the batch
            return LogEntry(item.path, item.sha256, "rejected",
                            f"解析结果无法入库，请将此文件反馈给维护人员（{type(e).__name__}: {e}）"[:300])

    def _identity(self, item: FileItem) -> tuple[str | None, str | None, str | None, str | None, int | None]:
        """(unit_raw, unit_name, region_raw, region, year) with manifest pins applied."""
        res = item.result or {}
        pin = item.pin
        unit_raw = (pin.unit if pin and pin.unit else res.get("unit")) or None
        region_raw = (pin.region if pin and pin.region else res.get("region")) or None
        year = pin.year if pin and pin.year else _int_or_none(res.get("year"))
        if not unit_raw:
            return None, None, region_raw, None, year
        name, found = normalise_name(str(unit_raw), region_raw)
        region = normalise_region(region_raw) or found
        return str(unit_raw), name, region_raw, region, year

    def _apply_pin(self, known: _Known, pin: Pin | None) -> str | None:
        """A manifest row for a file already stored corrects its unit, region or year."""
        if pin is None:
            return None
        unit_raw = pin.unit or known.unit_raw
        region_raw = pin.region or known.region_raw
        year = pin.year or known.year
        if (unit_raw, region_raw, year) == (known.unit_raw, known.region_raw, known.year):
            return None
        name, found = normalise_name(unit_raw or known.unit_name, region_raw)
        region = normalise_region(region_raw) or found
        self._updates.append((unit_raw, name, region_raw, region, year, known.report_id))
        known.unit_raw, known.unit_name, known.region_raw, known.region, known.year = (
            unit_raw, name, region_raw, region, year)
        known.pinned = True
        return "已按清单更正单位、地区或年度"

    def _new_report(self, item: FileItem) -> LogEntry:
        res = item.result or {}
        unit_raw, name, region_raw, region, year = self._identity(item)
        if not name:
            return LogEntry(item.path, item.sha256, "rejected",
                            "无法从文档中识别发布单位，请在清单文件（manifest）中注明该文件的单位")
        if year is None:
            return LogEntry(item.path, item.sha256, "rejected",
                            "无法从文档中识别报告年度，请在清单文件（manifest）中注明该文件的年度")
        sha = item.sha256 or str(res.get("sha256") or "") or hashlib.sha256(
            json.dumps(res, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()
        item.sha256 = sha
        report_id = sha[:16]
        fmt = _s(res.get("source_format") or res.get("format"))
        file_name = Path(item.path).name
        group = (self._group_id(name, region), year)
        prev = self.current.get(group)
        status, outcome, reason, duplicate_of = "current", "loaded", None, None
        if prev is not None:
            if prev.format != fmt and self._signature(prev.report_id) == R.cell_signature(res):
                status, outcome, duplicate_of = "duplicate", "duplicate", prev.report_id
                reason = f"与已入库的“{prev.file_name}”是同一报告的不同格式（数字完全相同）"
            elif (why := None if self.accept_worse
                  else worse_reading(self._signature(prev.report_id), R.cell_signature(res))):
                status, outcome, reason = HELD, HELD, held_reason(name, year, why, prev.file_name)
            else:
                outcome = "new_version"
                reason = f"{name}{year}年报告的新版本，原版本“{prev.file_name}”保留为历史版本"
        # build every row first: a malformed result must not leave half a report behind
        level = _s(res.get("unit_level")) or level_of(name)
        cells = R.cell_rows(report_id, res)
        extra = R.extra_rows(report_id, res)
        sections = R.section_rows(report_id, res)
        findings = R.finding_rows(report_id, res)
        seq = self.next_seq
        report_row = (
            report_id, None, year, _s(res.get("template")), R.parse_date(res.get("published")),
            _int_or_none(res.get("title_year")), _int_or_none(res.get("period_year")),
            _s(res.get("cited_format_doc")), unit_raw, name, level, _s(region_raw), region, item.pin is not None,
            item.path, file_name, fmt, sha, _s(res.get("parser_version")), self.run_id, self.now, seq, status, None,
            duplicate_of, len(cells), json.dumps(res.get("narrative") or {}, ensure_ascii=False, default=str))
        self.next_seq += 1
        known = _Known(report_id, item.path, file_name, name, region, year, fmt, status, seq,
                       item.pin is not None, unit_raw, region_raw)
        self.by_sha[sha] = known
        self._batch_results[report_id] = res
        if status not in ("duplicate", HELD):
            self.current[group] = known
        if region:
            self.regions_by_name[name].add(region)
        self._rows[REPORTS].append(report_row)
        self._rows[CELLS].extend(cells)
        self._rows[EXTRA_CELLS].extend(extra)
        self._rows[SECTIONS].extend(sections)
        self._rows[PARSE_FINDINGS].extend(findings)
        return LogEntry(item.path, item.sha256, outcome, reason, report_id)

    def _accept_held(self, known: _Known, item: FileItem) -> LogEntry:
        """``--accept-worse`` on a file that an earlier run held: it becomes an ordinary version."""
        self._accepted.append(known.report_id)
        known.status = "superseded"
        group = (self._group_id(known.unit_name, known.region), known.year)
        cur = self.current.get(group)
        if cur is None or cur.load_seq < known.load_seq:
            self.current[group] = known
        return LogEntry(item.path, item.sha256, "new_version",
                        f"已按 --accept-worse 采用此前暂未采用的“{known.file_name}”", known.report_id)

    # ------------------------------------------------------------------ write everything
    def flush(self) -> None:
        con = self.con
        for values in self._updates:
            con.execute(f"UPDATE {REPORTS} SET unit_raw = ?, unit_name = ?, region_raw = ?, region = ?, year = ?,"
                        f" pinned = true WHERE report_id = ?", list(values))
        self._updates.clear()
        if self._accepted:
            con.execute(f"UPDATE {REPORTS} SET status = 'superseded' WHERE status = '{HELD}'"
                        f" AND report_id IN (SELECT unnest(?))", [self._accepted])
            self._accepted.clear()
        insert_rows(con, REPORTS, REPORT_COLUMNS, self._rows.pop(REPORTS, []))
        insert_rows(con, CELLS, R.CELL_COLUMNS, self._rows.pop(CELLS, []))
        insert_rows(con, EXTRA_CELLS, R.EXTRA_COLUMNS, self._rows.pop(EXTRA_CELLS, []))
        insert_rows(con, SECTIONS, R.SECTION_COLUMNS, self._rows.pop(SECTIONS, []))
        insert_rows(con, PARSE_FINDINGS, R.PARSE_FINDING_COLUMNS, self._rows.pop(PARSE_FINDINGS, []))

    def write_log(self) -> None:
        rows = [(self.run_id, i, e.path, Path(e.path).name, e.sha256, e.outcome, e.reason, e.report_id, self.now)
                for i, e in enumerate(self.log)]
        insert_rows(self.con, INGEST_LOG,
                    ("run_id", "seq", "file", "file_name", "sha256", "outcome", "reason", "report_id", "logged_at"),
                    rows)


def refresh_units_and_versions(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute units, each report's unit, and current/superseded/version from all stored reports.

    Done over the whole table after every batch so that the result depends only on what is
    stored, not on the order in which files arrived (a later document may reveal a region).
    """
    rows = con.execute(f"SELECT report_id, unit_name, region, unit_level, unit_raw FROM {REPORTS}").fetchall()
    units, assign = resolve_units(UnitObservation(r[0], r[1], r[2], r[3], r[4]) for r in rows)
    con.execute(f"DELETE FROM {UNITS}")
    insert_rows(con, UNITS, ("unit_id", "name", "level", "region", "aliases"),
                [(u.unit_id, u.name, u.level, u.region, u.aliases) for u in units])
    if assign:
        con.execute("CREATE OR REPLACE TEMP TABLE _unit_assign (report_id VARCHAR, unit_id VARCHAR)")
        insert_rows(con, "_unit_assign", ("report_id", "unit_id"), list(assign.items()))
        con.execute(f"""UPDATE {REPORTS} r SET unit_id = a.unit_id FROM _unit_assign a
                        WHERE r.report_id = a.report_id AND r.unit_id IS DISTINCT FROM a.unit_id""")
        con.execute("DROP TABLE _unit_assign")
    con.execute(f"""
        UPDATE {REPORTS} r SET status = v.status, version = v.version FROM (
            SELECT report_id,
                   CASE WHEN row_number() OVER w_desc = 1 THEN 'current' ELSE 'superseded' END AS status,
                   row_number() OVER w_asc AS version
            FROM {REPORTS} WHERE status NOT IN ('duplicate', '{HELD}')
            WINDOW w_desc AS (PARTITION BY unit_id, year ORDER BY load_seq DESC),
                   w_asc AS (PARTITION BY unit_id, year ORDER BY load_seq)
        ) v
        WHERE r.report_id = v.report_id AND (r.status IS DISTINCT FROM v.status OR r.version IS DISTINCT FROM v.version)
    """)
