"""The snapshot: aggregated per-report figures (one row per report, never the cells), materialised once per
file signature into a private DuckDB file.

The tables: the report measures, applicant-column sums, outcome reason totals, money cells, the unit × year
status grid and finding counts.  Filtered page queries then aggregate those small tables in DuckDB in a few
milliseconds even for 40,000 units × 7 years; per-report detail (cells, findings, provenance) is read from
the file with a ``report_id`` / ``unit_id`` filter (:func:`dashboard.data.connection.file_query`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboard.data.connection import (
    DbChanged,
    DbUnavailable,
    _attached,
    _check_version,
    _fetch,
    _file_query,
    _sql_literal,
    _unavailable,
    _versions,
)
from dashboard.scope import level_bucket_sql, template_bucket_sql
from ingest.store.measures import ROW_MEASURES, disclosure_rate, outcome_columns, total_rows
from ingest.store.schema import REVIEW_STALE_SQL, REVIEW_STATUS_SQL
from ingest.templates import s3_applicant_columns, s3_leaf_rows, template_ids

# ---------------------------------------------------------------- the snapshot

_LEAVES = list(dict.fromkeys(r for t in template_ids() for r in s3_leaf_rows(t)))
# the outcome reasons (every leaf but 予以公开 and 部分公开, which are measures of their own)
REASON_ROWS = [r for r in _LEAVES if r not in (ROW_MEASURES["granted"], ROW_MEASURES["partial"])]
APPLICANT_COLS = tuple(s3_applicant_columns())
# every 表三/表四 row whose effective total the snapshot keeps (t_<row>)
TOTAL_ROWS = total_rows()
_COMP_KEYS = [f"s3.{row}.{c}" for row in ("new_received", "carried_over") for c in APPLICANT_COLS]
_COMP_NAMES = [f"{pre}_{c}" for pre in ("new", "co") for c in APPLICANT_COLS]
_MONEY_KEYS = ("s2.procurement.projects", "s2.procurement.amount", "s2.fee.amount")
# The snapshot's DuckDB memory cap.  Measured on the 40,000 × 7 database (bench/bench_pages.py and
# a bare build): 256MB with two threads peaked at +310 MB over the process and could push the server
# past 600 MB; 128MB with a one-thread build peaks at +175 MB (build 10 s → 16 s on this machine).
SNAPSHOT_MEMORY = os.environ.get("NIANBAO_SNAPSHOT_MEMORY", "128MB")
# Builds run on one thread (each DuckDB thread keeps its own partial aggregates: memory, not speed,
# is the constraint of a national build); page queries use two.
SNAPSHOT_BUILD_THREADS = 1
SNAPSHOT_QUERY_THREADS = 2


def _values(names: list[str], col: str) -> str:
    """An inline (name, i) table of template names (data from keys.tsv, not user input)."""
    rows = ", ".join(f"('{n}', {i + 1})" for i, n in enumerate(names))
    return f"(VALUES {rows}) AS v({col}, i)"


def _filter_pivot(source_col: str, names: list[str], cast: str) -> str:
    return ",\n    ".join(f"max({source_col}) FILTER (WHERE i = {i + 1})::{cast} AS {n}" for i, n in enumerate(names))


# (RELEASE, after each pass over the cells: write the new tables to the snapshot file and drop the
# cached blocks of the database file, so that the build stays within SNAPSHOT_MEMORY.)
# Per-report figures that change only when reports are loaded (the "heavy" part: a few passes over
# the cells).  Effective row total = the printed 总计, else the sum of the row's applicant cells,
# else 0 (spec §7; identical to v_report_measures, which tests/test_app_pages.py checks).
_HEAVY_SQL = f"""
CREATE TABLE units AS SELECT unit_id, name AS unit, region, {level_bucket_sql("level")} AS level FROM nb.units;
CREATE TABLE cur AS SELECT report_id, unit_id, year, template FROM nb.reports WHERE status = 'current';
CREATE TEMP TABLE rk AS SELECT * FROM {_values(TOTAL_ROWS, "row_key")};
CREATE TEMP TABLE nulltot AS
    SELECT report_id, row_key FROM nb.cells
    WHERE col_key = 'total' AND value IS NULL AND section IN ('s3', 's4');
CREATE TEMP TABLE fb AS
    SELECT c.report_id, c.row_key, sum(c.value) AS s FROM nb.cells c SEMI JOIN nulltot USING (report_id, row_key)
    WHERE c.col_key <> 'total' GROUP BY ALL;
CREATE TABLE tot AS
    SELECT c.report_id, rk.i, COALESCE(c.value, fb.s, 0)::REAL AS v
    FROM nb.cells c JOIN rk USING (row_key) LEFT JOIN fb USING (report_id, row_key)
    WHERE c.col_key = 'total' AND c.section IN ('s3', 's4') AND c.report_id IN (SELECT report_id FROM cur);
RELEASE;
CREATE TABLE t AS
    SELECT report_id,
    {_filter_pivot("v", [f"t_{r}" for r in TOTAL_ROWS], "REAL")}
    FROM tot GROUP BY report_id;
DROP TABLE tot;
RELEASE;
CREATE TABLE ck AS SELECT * FROM {_values(_COMP_KEYS, "key")};
CREATE TABLE comp AS
    SELECT report_id,
    {_filter_pivot("value", _COMP_NAMES, "REAL")}
    FROM (SELECT c.report_id, ck.i, c.value FROM nb.cells c JOIN ck USING (key)
          WHERE c.row_key IN ('new_received', 'carried_over'))
    GROUP BY report_id;
RELEASE;
CREATE TABLE money AS
SELECT c.report_id,
       max(c.value) FILTER (WHERE c.key = 's2.procurement.projects') AS proc_projects,
       max(c.value) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_value,
       max(c.raw) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_raw,
       max(c.unit) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_unit,
       max(c.value_wan) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_wan,
       bool_or(c.unknown_unit) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_unknown,
       bool_or(c.wan_converted) FILTER (WHERE c.key = 's2.procurement.amount') AS proc_converted,
       max(c.raw) FILTER (WHERE c.key = 's2.fee.amount') AS fee_raw,
       max(c.unit) FILTER (WHERE c.key = 's2.fee.amount') AS fee_unit,
       max(c.value_wan) FILTER (WHERE c.key = 's2.fee.amount') AS fee_wan,
       bool_or(c.wan_converted) FILTER (WHERE c.key = 's2.fee.amount') AS fee_converted,
       bool_or(c.unknown_unit) FILTER (WHERE c.key = 's2.fee.amount') AS fee_unknown
FROM nb.cells c WHERE c.key IN {_MONEY_KEYS!r} AND c.report_id IN (SELECT report_id FROM cur)
GROUP BY c.report_id;
RELEASE;
CREATE TABLE cell_ranges AS SELECT report_id, min(rowid) AS lo, max(rowid) AS hi FROM nb.cells GROUP BY report_id;
RELEASE;
CREATE TABLE base AS
SELECT r.report_id, r.unit_id, u.unit, u.region, u.level, r.year,
       {template_bucket_sql("r.template")} AS tpl, r.template,
       t.* EXCLUDE (report_id), comp.* EXCLUDE (report_id), money.* EXCLUDE (report_id),
       p.t_carry_forward AS prev_cf, p.report_id IS NOT NULL AS has_prev
FROM cur r
LEFT JOIN units u USING (unit_id)
LEFT JOIN t USING (report_id)
LEFT JOIN comp USING (report_id)
LEFT JOIN money USING (report_id)
LEFT JOIN (SELECT cur.report_id, cur.unit_id, cur.year, t.t_carry_forward FROM cur LEFT JOIN t USING (report_id)) p
       ON p.unit_id = r.unit_id AND p.year = r.year - 1;
DROP TABLE nulltot; DROP TABLE fb; DROP TABLE t; DROP TABLE comp; DROP TABLE money; DROP TABLE cur; DROP TABLE ck;
RELEASE;
CREATE TABLE measures AS
SELECT b.* EXCLUDE (fee_converted), COALESCE(b.fee_converted, false) AS fee_converted,
       {", ".join(outcome_columns("", "template"))},
       proc_projects AS procurement_projects, proc_wan AS procurement_wan,
       COALESCE(proc_unknown, false) AS procurement_unit_unknown,
       {disclosure_rate("")} AS disclosure_rate
FROM base b;
DROP TABLE base;
CREATE VIEW measures_f AS
SELECT m.*, COALESCE(f.errors, 0) AS errors, COALESCE(f.warnings, 0) AS warnings, COALESCE(f.infos, 0) AS infos
FROM measures m LEFT JOIN fsev f USING (report_id);
"""

# What a review (or any load) changes: finding counts, submission status, the problem-list index.
_LIGHT_SQL = f"""
CREATE OR REPLACE TABLE status AS
SELECT s.unit_id, s.year, s.report_id, s.status, s.errors::INTEGER AS errors, s.warnings::INTEGER AS warnings,
       s.infos::INTEGER AS infos, u.name AS unit, u.region, {level_bucket_sql("u.level")} AS level
FROM nb.v_submission_status s JOIN nb.units u USING (unit_id);
CREATE OR REPLACE TABLE fl AS
SELECT f.finding_id, f.unit_id, f.year, f.rule, f.severity, f.report_id,
       {REVIEW_STATUS_SQL} AS review_status,
       {template_bucket_sql("r.template")} AS tpl,
       f.message, f.expected, f.actual, f.keys, f.assumed_zero, v.note AS review_note, v.reviewed_by, v.reviewed_at,
       {REVIEW_STALE_SQL} AS review_stale, r.file_name,
       u.name AS unit, u.region, {level_bucket_sql("u.level")} AS level
FROM nb.findings f
LEFT JOIN nb.units u USING (unit_id)
LEFT JOIN nb.finding_reviews v USING (finding_id)
LEFT JOIN nb.reports r ON r.report_id = f.report_id;
CREATE OR REPLACE TABLE fsev AS
SELECT report_id, count(*) FILTER (WHERE severity = 'error') AS errors,
       count(*) FILTER (WHERE severity = 'warning') AS warnings,
       count(*) FILTER (WHERE severity = 'info') AS infos
FROM fl WHERE report_id IS NOT NULL AND review_status <> 'dismissed' GROUP BY report_id;
"""

# Identity of the per-report data: changes whenever a load adds, supersedes or re-assigns reports
# or units, but not when only review marks change.
_DATA_KEY_SQL = """
SELECT (SELECT count(*) FROM reports), (SELECT COALESCE(max(load_seq), 0) FROM reports),
       (SELECT COALESCE(bit_xor(hash(report_id || status || unit_id || year)), 0) FROM reports),
       (SELECT COALESCE(bit_xor(hash(unit_id || name || COALESCE(level, '') || COALESCE(region, ''))), 0) FROM units),
       (SELECT COALESCE(max(run_id), 0) FROM runs)
"""


def _snap_error(path: Path, e: Exception) -> DbUnavailable:
    if not path.exists():
        return _unavailable("missing", path)
    if isinstance(e, duckdb.CatalogException | duckdb.BinderException):
        return _unavailable("schema", path, str(e).splitlines()[0][:200])
    return _unavailable("corrupt", path, str(e).splitlines()[0][:200])


SNAPSHOT_DIR = Path(tempfile.gettempdir()) / "nianbao-snapshots"


def _remove_own_snapshots() -> None:
    """At exit: this process's snapshot files (a killed process leaves them to the next start)."""
    for f in SNAPSHOT_DIR.glob(f"snap-{os.getpid()}-*"):
        with contextlib.suppress(OSError):
            f.unlink()


atexit.register(_remove_own_snapshots)


def _remove_stale_snapshots() -> None:
    """Delete snapshot files of processes that no longer run."""
    for f in SNAPSHOT_DIR.glob("snap-*.duckdb*"):
        try:
            pid = int(f.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):
                f.unlink()


class _Snapshot:
    """Aggregated per-report tables of one database content, in a private DuckDB file.

    A file (in the temp folder, deleted when the snapshot is released) rather than memory: DuckDB
    keeps it compressed and holds only ``SNAPSHOT_MEMORY`` of it in RAM, so a national database
    fits the app's memory budget; the tables are small enough to stay in the page cache.

    The heavy tables (``base``, ``cell_ranges``, ``units``) are built once per data identity;
    the light tables (``status``, ``fl``, ``fsev``) again for every new file version, in place.
    Queries use ``cursor()`` (one per query and thread).
    """

    def __init__(self, path: str, memory: str = SNAPSHOT_MEMORY) -> None:
        self.path = path
        SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
        _remove_stale_snapshots()
        fd, name = tempfile.mkstemp(prefix=f"snap-{os.getpid()}-", suffix=".duckdb", dir=SNAPSHOT_DIR)
        os.close(fd)
        os.unlink(name)                   # DuckDB creates the file itself
        self.file = Path(name)
        self.con = duckdb.connect(name, config={"memory_limit": memory, "threads": SNAPSHOT_QUERY_THREADS,
                                                "preserve_insertion_order": False,
                                                "temp_directory": str(SNAPSHOT_DIR / f"spill-{os.getpid()}")})
        self.lock = threading.Lock()
        self.light_sig: tuple | None = None

    def _attach(self, sig: tuple) -> None:
        """Attach the database file; :class:`DbChanged` unless it is still version ``sig``."""
        self.con.execute(f"ATTACH {_sql_literal(self.path)} AS nb (READ_ONLY)")
        try:
            _check_version(Path(self.path), sig)
        except BaseException:
            self._detach()
            raise

    def _detach(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.execute("DETACH nb")

    def _run(self, script: str, sig: tuple) -> None:
        """Statements one by one (each commits); ``RELEASE`` checkpoints and re-attaches the file
        (which must still be version ``sig``: a build never mixes two versions).  On
        ``SNAPSHOT_BUILD_THREADS`` threads (see there)."""
        self.con.execute(f"SET threads = {SNAPSHOT_BUILD_THREADS}")
        try:
            for stmt in script.split(";\n"):
                if stmt.strip() == "RELEASE":
                    self.con.execute("CHECKPOINT")
                    self._detach()
                    self._attach(sig)
                elif stmt.strip():
                    self.con.execute(stmt)
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"SET threads = {SNAPSHOT_QUERY_THREADS}")

    def build(self, sig: tuple) -> None:
        p = Path(self.path)
        try:
            self._attach(sig)
            try:
                self._run(_LIGHT_SQL, sig)
                self._run(_HEAVY_SQL, sig)
            finally:
                self._detach()
        except duckdb.OutOfMemoryException as e:
            self.close()
            raise _OutOfMemory("corrupt", f"数据库汇总时内存不足：{str(e).splitlines()[0][:200]}") from None
        except duckdb.Error as e:
            self.close()
            if p.exists():
                _check_version(p, sig)       # the file was swapped while we read it
            raise _snap_error(p, e) from None
        except BaseException:
            self.close()
            raise
        self.light_sig = sig

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.close()
        for f in (self.file, Path(f"{self.file}.wal")):
            with contextlib.suppress(OSError):
                f.unlink()

    def ensure_light(self, sig: tuple) -> None:
        """Make the version-dependent tables those of file version ``sig`` (in place).

        ``light_sig`` is None while they are being replaced, so a query that read them during the
        rebuild notices (see :func:`_snap_query`).
        """
        if self.light_sig == sig:
            return
        with self.lock:
            if self.light_sig == sig:
                return
            self.light_sig = None
            p = Path(self.path)
            try:
                self._attach(sig)
                try:
                    self._run(_LIGHT_SQL, sig)
                finally:
                    self._detach()
            except duckdb.Error as e:
                if p.exists():
                    _check_version(p, sig)
                raise _snap_error(p, e) from None
            self.light_sig = sig


@st.cache_data(max_entries=16, show_spinner=False)
def _data_key(path: str, sig: tuple) -> tuple:
    with _attached(Path(path), sig) as con:
        return tuple(con.execute(_DATA_KEY_SQL).fetchone())


@st.cache_resource(max_entries=1, show_spinner="正在读取数据库……", on_release=lambda s: s.close())
def _heavy(path: str, data_key: tuple, _sig: tuple) -> _Snapshot:
    """One snapshot per data identity (``_sig``, the file version it is built from, is not hashed)."""
    try:
        snap = _Snapshot(path)
        snap.build(_sig)
    except _OutOfMemory:
        # DuckDB could not evict fast enough under the cap: one more try with twice the memory
        snap = _Snapshot(path, _double(SNAPSHOT_MEMORY))
        snap.build(_sig)
    return snap


class _OutOfMemory(DbUnavailable):
    pass


def _double(size: str) -> str:
    num = "".join(ch for ch in size if ch.isdigit() or ch == ".")
    return f"{float(num) * 2:g}{size[len(num):]}" if num else size


def _snapshot(path: str, sig: tuple) -> _Snapshot:
    snap = _heavy(path, _data_key(path, sig), sig)
    snap.ensure_light(sig)
    return snap


@st.cache_data(max_entries=1024, show_spinner=False)
def _snap_query(path: str, sig: tuple, sql: str, params: tuple) -> pl.DataFrame:
    snap = _snapshot(path, sig)
    cur = snap.con.cursor()
    try:
        df = _fetch(cur, sql, params)
    finally:
        cur.close()
    if snap.light_sig != sig:        # another session moved the in-place tables to another version meanwhile
        raise DbChanged(f"{path} snapshot moved on")
    return df


def snap_query(sql: str, params: Sequence = ()) -> pl.DataFrame:
    """Run a query on the aggregated snapshot of the database file (cached; the run's pinned version)."""
    changed = DbChanged("the database file keeps changing")
    for path, sig in _versions():
        try:
            return _snap_query(path, sig, sql, tuple(params))
        except DbChanged as e:
            changed = e
    raise changed


def check_database() -> None:
    """Raise :class:`DbUnavailable` unless the database can be read (builds the snapshot)."""
    changed = DbChanged("the database file keeps changing")
    for path, sig in _versions():
        try:
            _snapshot(path, sig)
            return
        except DbChanged as e:
            changed = e
    raise changed


def clear_caches() -> None:
    _snap_query.clear()
    _file_query.clear()
    _data_key.clear()
    _heavy.clear()
