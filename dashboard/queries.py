"""The dashboard's one query layer: read-only, parameterised SQL, polars results, cached.

Design (see docs in the module functions):

* **Which file.**  The database path comes from :func:`dashboard.config.db_path`.  Every query
  takes the file's *signature* (mtime, size, inode) as part of its cache key, so when a load or
  a review swaps in a new file (``os.replace``, see ``ingest.store.db``) the next rerun misses
  the cache and reads the new file.
* **One version per script run.**  app.py runs every page inside :func:`pinned`, which takes the
  signature once, at the start of the run; every query of that run uses the pinned signature
  (a context variable, so concurrent sessions — threads — each have their own).  A cache hit is
  therefore always of the pinned version.  A cache miss must read the file, and after a swap the
  pinned file is gone (``os.replace`` unlinked it), so every read checks, *after* attaching the
  file, that the file on disk still has the pinned signature; if not, it raises
  :class:`DbChanged` and the page guard (``dashboard.ui``) answers with ``st.rerun()``: the whole
  page is drawn again from the new version.  (After ATTACH, DuckDB reads through its open
  handle, so a swap after the check cannot change what the query sees.)  The snapshot's
  version-dependent tables are rebuilt in place, so a snapshot query also checks, after reading,
  that they still belong to its version.  A page never shows two versions; a page whose file
  keeps changing on every run gives up after a few reruns with a plain message.  Outside
  ``pinned`` (tests, scripts) each query takes the signature itself and simply retries after a
  swap.
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

import atexit
import contextlib
import contextvars
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboard import config
from dashboard.scope import Scope
from ingest.store.schema import REVIEW_STALE_SQL, REVIEW_STATUS_SQL
from ingest.templates import key_infos, s3_leaf_rows

# ---------------------------------------------------------------- errors


class DbUnavailable(Exception):
    """The database cannot be read; ``kind`` is missing | corrupt | schema, ``message`` plain Chinese."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class DbChanged(Exception):
    """The database file was replaced (a load or a review) since this script run pinned its version.

    Not a :class:`DbUnavailable`: nothing is wrong, the page only has to be drawn again from the
    new version (``dashboard.ui`` reruns it).
    """


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


@dataclass(frozen=True)
class Pin:
    """The database version one script run reads: path and signature (None: no file at the start)."""

    path: Path
    sig: tuple | None


_PIN: contextvars.ContextVar[Pin | None] = contextvars.ContextVar("nianbao_db_pin", default=None)
_UNPINNED_TRIES = 8


@contextmanager
def pinned() -> Iterator[Pin]:
    """Fix the database version for the queries inside the block (app.py: one script run)."""
    p = db_path()
    try:
        sig = signature(p)
    except DbUnavailable:
        sig = None
    pin = Pin(p, sig)
    token = _PIN.set(pin)
    try:
        yield pin
    finally:
        _PIN.reset(token)


def _check_version(path: Path, sig: tuple | None) -> None:
    """Raise :class:`DbChanged` unless the file at ``path`` still has signature ``sig``."""
    if sig is not None and signature(path) != sig:
        raise DbChanged(f"{path} changed")


def _versions() -> Iterator[tuple[str, tuple]]:
    """(path, signature) to read: pinned, the pinned version once; unpinned, the current version,
    again after each swap (a caller tries the next one when it meets :class:`DbChanged`)."""
    pin = _PIN.get()
    if pin is not None:
        if pin.sig is None:
            raise _unavailable("missing", pin.path)
        yield str(pin.path), pin.sig
        return
    for _ in range(_UNPINNED_TRIES):
        p = db_path()
        yield str(p), signature(p)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_DAMAGE_ERRORS = tuple(getattr(duckdb, n) for n in ("IOException", "InternalException", "SerializationException")
                       if hasattr(duckdb, n))


@contextmanager
def _attached(path: Path, sig: tuple | None = None):
    """A short-lived in-memory connection with the file attached read-only as the default catalog.

    With ``sig``: raises :class:`DbChanged` unless the attached file has that signature (checked
    after ATTACH; from then on DuckDB reads its open handle, whatever happens to the path).
    """
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"ATTACH {_sql_literal(str(path))} AS nb (READ_ONLY)")
            con.execute("USE nb")
        except duckdb.IOException as e:
            if not path.exists():
                raise _unavailable("missing", path) from None
            _check_version(path, sig)        # swapped while opening: the new file may be fine
            raise _unavailable("corrupt", path, str(e).splitlines()[0][:200]) from None
        except duckdb.Error as e:
            _check_version(path, sig)
            raise _unavailable("corrupt", path, str(e).splitlines()[0][:200]) from None
        _check_version(path, sig)
        try:
            yield con
        except duckdb.CatalogException as e:
            raise _unavailable("schema", path, str(e).splitlines()[0][:200]) from None
        except duckdb.BinderException as e:
            raise _unavailable("schema", path, str(e).splitlines()[0][:200]) from None
        except duckdb.Error as e:
            # a truncated or block-damaged file fails only when a query reaches the bad part
            text = str(e)
            if isinstance(e, _DAMAGE_ERRORS) or "Corrupt database" in text or "checksum" in text:
                raise _unavailable("corrupt", path, text.splitlines()[0][:200]) from None
            raise
    finally:
        con.close()


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence) -> pl.DataFrame:
    # via Arrow: ~3 ms against ~8 ms for DuckDB's own .pl() on these small results
    return pl.from_arrow(con.sql(sql, params=list(params)).arrow().read_all())


@st.cache_data(max_entries=512, show_spinner=False)
def _file_query(path: str, sig: tuple, sql: str, params: tuple) -> pl.DataFrame:
    with _attached(Path(path), sig) as con:
        return _fetch(con, sql, params)


def file_query(sql: str, params: Sequence = ()) -> pl.DataFrame:
    """Run a read-only query on the database file (cached per file version; the run's pinned version).

    (The retry loop is written out here and in :func:`snap_query` rather than shared through a helper
    taking a function: tests/sqlcheck.py follows SQL text through direct calls only.)"""
    changed = DbChanged("the database file keeps changing")
    for path, sig in _versions():
        try:
            return _file_query(path, sig, sql, tuple(params))
        except DbChanged as e:
            changed = e
    raise changed


# ---------------------------------------------------------------- the snapshot

_LEAVES = list(dict.fromkeys([*s3_leaf_rows("2019"), *s3_leaf_rows("2021")]))
REASON_ROWS = [r for r in _LEAVES if r not in ("granted", "partial")]
APPLICANT_COLS = ("natural", "commercial", "research", "public_interest", "legal_service", "other_org")
APPLICANT_NAMES = {"natural": "自然人", "commercial": "商业企业", "research": "科研机构",
                   "public_interest": "社会公益组织", "legal_service": "法律服务机构",
                   "other_org": "其他（法人或其他组织）"}
# every 表三/表四 row whose effective total the snapshot keeps (t_<row>)
TOTAL_ROWS = ["new_received", "carried_over", *_LEAVES, "result_total", "carry_forward",
              "review", "suit_direct", "suit_after_review"]
_DENY = [r for r in _LEAVES if r.startswith("deny_")]
_UNABLE = [r for r in _LEAVES if r.startswith("unable_")]
_NOPROC = [r for r in _LEAVES if r.startswith("noproc_")]
_OTHER21 = ["other_no_correction", "other_fee_unpaid", "other_other"]
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


def _group(rows: list[str]) -> str:
    """Σ of effective row totals, NULL when every one of the rows is unknown (as v_report_measures)."""
    known = " OR ".join(f"t_{r} IS NOT NULL" for r in rows)
    return f"CASE WHEN {known} THEN {' + '.join(f'COALESCE(t_{r}, 0)' for r in rows)} END"


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
CREATE TABLE units AS SELECT unit_id, name AS unit, region, COALESCE(level, '其他') AS level FROM nb.units;
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
SELECT r.report_id, r.unit_id, u.unit, u.region, COALESCE(u.level, '其他') AS level, r.year,
       CASE WHEN r.template IN ('2019', '2021') THEN r.template ELSE '其他' END AS tpl, r.template,
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
       t_new_received AS received, t_carried_over AS carried_over, t_granted AS granted, t_partial AS partial,
       {_group(_DENY)} AS deny, {_group(_UNABLE)} AS unable, {_group(_NOPROC)} AS noproc,
       CASE WHEN template = '2021' THEN {_group(_OTHER21)} ELSE t_other END AS other,
       t_result_total AS result_total, t_carry_forward AS carry_forward, t_review AS reviews,
       {_group(["suit_direct", "suit_after_review"])} AS suits,
       proc_projects AS procurement_projects, proc_wan AS procurement_wan,
       COALESCE(proc_unknown, false) AS procurement_unit_unknown,
       CASE WHEN t_result_total > 0 AND (t_granted IS NOT NULL OR t_partial IS NOT NULL)
            THEN (COALESCE(t_granted, 0) + COALESCE(t_partial, 0)) / t_result_total END AS disclosure_rate
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
       s.infos::INTEGER AS infos, u.name AS unit, u.region, COALESCE(u.level, '其他') AS level
FROM nb.v_submission_status s JOIN nb.units u USING (unit_id);
CREATE OR REPLACE TABLE fl AS
SELECT f.finding_id, f.unit_id, f.year, f.rule, f.severity, f.report_id,
       {REVIEW_STATUS_SQL} AS review_status,
       CASE WHEN r.template IN ('2019', '2021') THEN r.template WHEN r.template IS NULL THEN NULL ELSE '其他' END AS tpl,
       f.message, f.expected, f.actual, f.keys, f.assumed_zero, v.note AS review_note, v.reviewed_by, v.reviewed_at,
       {REVIEW_STALE_SQL} AS review_stale, r.file_name,
       u.name AS unit, u.region, COALESCE(u.level, '其他') AS level
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
              FROM {_fcount_from()} {wf})
        SELECT * FROM m, u, s, f""", [*p, *pu, *ps, *pf]).row(0, named=True)
    m["rate"] = (m["disclosed"] / m["handled"]) if m["handled"] else None
    m["findings"] = {k: int(m.pop(f"f_{k}") or 0) for k in ("error", "warning", "info")}
    return m


def _fcount_from() -> str:
    """Open (not dismissed) findings with their unit's attributes, for counting."""
    return "(SELECT * FROM fl WHERE review_status <> 'dismissed')"


def findings_by_severity(scope: Scope) -> dict[str, int]:
    """Open (not dismissed) findings per severity, in the scope (template filter: reports of that template)."""
    w, p = where(scope, severity=True)
    df = snap_query(f"SELECT severity, count(*) AS n FROM {_fcount_from()} {w} GROUP BY severity", p)
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


# ---------------------------------------------------------------- findings (the problem list)

SEVERITY_RANK = "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"

_FL_FROM = "fl"

_FINDING_DETAIL = f"""
    SELECT f.finding_id, f.unit_id, u.name AS unit, u.region, f.year, f.report_id, f.rule, f.severity, f.keys,
           f.expected, f.actual, f.message, f.assumed_zero, f.evidence, f.defect, f.origin,
           {REVIEW_STATUS_SQL} AS review_status, v.note AS review_note, v.reviewed_by, v.reviewed_at,
           {REVIEW_STALE_SQL} AS review_stale,
           r.file_name
    FROM findings f
    LEFT JOIN units u USING (unit_id)
    LEFT JOIN finding_reviews v USING (finding_id)
    LEFT JOIN reports r ON r.report_id = f.report_id
    WHERE list_contains(?::VARCHAR[], f.finding_id)"""


def _finding_filter(scope: Scope, rules: Sequence[str], review: Sequence[str]) -> tuple[str, list]:
    w, p = where(scope, severity=True)
    if rules:
        w += " AND list_contains(?::VARCHAR[], rule)"
        p.append(list(rules))
    if review:
        w += " AND list_contains(?::VARCHAR[], review_status)"
        p.append(list(review))
    return w, p


def findings(scope: Scope, rules: Sequence[str] = (), review: Sequence[str] = ("open", "confirmed"),
             limit: int = 200, offset: int = 0) -> pl.DataFrame:
    """The problem list, most serious first (severity, then year, then unit); without ``evidence``
    (read per finding with :func:`finding_by_id`)."""
    w, p = _finding_filter(scope, rules, review)
    return snap_query(f"""
        SELECT finding_id, severity, unit_id, unit, region, year, rule, message, expected, actual, keys,
               assumed_zero, review_status, review_note, reviewed_by, reviewed_at, review_stale, report_id, file_name
        FROM {_FL_FROM} {w}
        ORDER BY {SEVERITY_RANK}, year DESC, region, unit, rule, finding_id
        LIMIT ? OFFSET ?""", [*p, limit, offset])


def findings_count(scope: Scope, rules: Sequence[str] = (), review: Sequence[str] = ("open", "confirmed")) -> int:
    w, p = _finding_filter(scope, rules, review)
    return int(snap_query(f"SELECT count(*) AS n FROM {_FL_FROM} {w}", p)["n"][0])


def finding_rules(scope: Scope) -> pl.DataFrame:
    """Rules with open findings in the scope, with counts (for the rule filter)."""
    w, p = where(scope, severity=True)
    return snap_query(f"""SELECT rule, count(*) AS n FROM {_fcount_from()} {w}
                          GROUP BY rule ORDER BY n DESC, rule""", p)


def finding_by_id(finding_id: str) -> dict | None:
    df = file_query(_FINDING_DETAIL, [[finding_id]])
    return df.row(0, named=True) if df.height else None


# ---------------------------------------------------------------- 申请量


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


# ---------------------------------------------------------------- 办理结果

OUTCOME_COLUMNS = {"granted": "予以公开", "partial": "部分公开", "deny": "不予公开", "unable": "无法提供",
                   "noproc": "不予处理", "other": "其他处理"}


def outcomes_by_unit(scope: Scope, limit: int = 300, order: str = "handled") -> pl.DataFrame:
    """Per unit (the ``limit`` with most handled applications, or highest 公开率 when ``order="rate"``):
    the six outcome groups (其他处理 harmonised), 办理总数 and 公开率; units that handled nothing are left out."""
    w, p = where(scope)
    groups = ",\n".join(f"sum({c}) AS {c}" for c in OUTCOME_COLUMNS)
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
    groups = ", ".join(f"sum({c}) AS {c}" for c in OUTCOME_COLUMNS)
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
        rows.append({"row": r, "group": OUTCOME_COLUMNS[_group_of(r)], "reason": item or group,
                     "n": wide[r][0] if wide.height else None})
    return pl.DataFrame(rows, schema={"row": pl.String, "group": pl.String, "reason": pl.String, "n": pl.Float64})


def _group_of(row: str) -> str:
    for g in ("deny", "unable", "noproc", "other"):
        if row.startswith(g):
            return g
    return row


# ---------------------------------------------------------------- 政府采购 / 收费


def procurement_by_report(scope: Scope, only_unknown: bool = False, limit: int = 500) -> pl.DataFrame:
    """2019–2020 template reports: 采购项目数, 金额 as printed, unit, 万元 where the unit is known."""
    w, p = where(scope, template=False, prefix="m.")
    extra = " AND COALESCE(m.proc_unknown, false) AND COALESCE(m.proc_raw, '') <> ''" if only_unknown else ""
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, m.year, m.report_id, m.proc_projects AS projects,
               m.proc_raw AS raw, m.proc_value AS value, m.proc_unit AS printed_unit, m.proc_wan AS wan,
               COALESCE(m.proc_unknown, false) AS unknown_unit, COALESCE(m.proc_converted, false) AS converted
        FROM measures m {w}
          AND m.template = '2019' AND (m.proc_projects IS NOT NULL OR m.proc_raw IS NOT NULL){extra}
        ORDER BY m.region, m.unit, m.year LIMIT ?""", [*p, limit])


def procurement_totals(scope: Scope) -> dict:
    """Σ项目数, Σ金额（万元, known units only）, reports with an amount of unknown unit, reports."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT count(*) AS reports, sum(m.proc_projects) AS projects, sum(m.proc_wan) AS wan,
               count(*) FILTER (WHERE m.proc_unknown AND COALESCE(m.proc_raw, '') <> '') AS unknown,
               count(*) FILTER (WHERE m.proc_converted) AS converted
        FROM measures m {w}
          AND m.template = '2019' AND (m.proc_projects IS NOT NULL OR m.proc_raw IS NOT NULL)""", p).row(0, named=True)


def procurement_by_unit(scope: Scope, limit: int = 300) -> pl.DataFrame:
    """Per unit, 2019–2020: Σ项目数, Σ金额（万元, known units only）, count of unknown-unit amounts."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports, sum(m.proc_projects) AS projects,
               sum(m.proc_wan) AS wan, count(*) FILTER (WHERE m.proc_unknown) AS unknown,
               count(*) FILTER (WHERE m.proc_converted) AS converted
        FROM measures m {w} AND m.template = '2019'
        GROUP BY ALL ORDER BY COALESCE(wan, 0) DESC, unit LIMIT ?""", [*p, limit])


def fees_by_report(scope: Scope, limit: int = 500) -> pl.DataFrame:
    """2021+ template reports: 行政事业性收费 本年收费金额 (万元; 元 converted and flagged)."""
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, m.year, m.report_id, m.fee_raw AS raw, m.fee_unit AS printed_unit,
               m.fee_wan AS wan, COALESCE(m.fee_converted, false) AS converted,
               COALESCE(m.fee_unknown, false) AS unknown_unit
        FROM measures m {w} AND m.template = '2021' AND m.fee_raw IS NOT NULL
        ORDER BY m.region, m.unit, m.year LIMIT ?""", [*p, limit])


def fee_totals(scope: Scope) -> dict:
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT count(*) AS reports, sum(m.fee_wan) AS wan, count(*) FILTER (WHERE m.fee_converted) AS converted
        FROM measures m {w} AND m.template = '2021' AND m.fee_raw IS NOT NULL""", p).row(0, named=True)


def fees_by_unit(scope: Scope, limit: int = 300) -> pl.DataFrame:
    w, p = where(scope, template=False, prefix="m.")
    return snap_query(f"""
        SELECT m.unit_id, m.unit, m.region, count(*) AS reports, sum(m.fee_wan) AS wan,
               count(*) FILTER (WHERE m.fee_converted) AS converted
        FROM measures m {w} AND m.template = '2021' AND m.fee_raw IS NOT NULL
        GROUP BY ALL ORDER BY COALESCE(wan, 0) DESC, unit LIMIT ?""", [*p, limit])


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


_CELL_COLS = "key, section, row_key, col_key, value, raw, kind, unit, value_wan, wan_converted, unknown_unit, location"


def report_cells(report_id: str) -> pl.DataFrame:
    """The stored cells of one report.

    Cells are written report by report, so the snapshot keeps each report's rowid range; reading
    that range (and still filtering on report_id) takes milliseconds instead of a scan of every
    cell of the database.
    """
    rng = snap_query("SELECT lo, hi FROM cell_ranges WHERE report_id = ?", [report_id])
    if rng.height:
        df = file_query(f"SELECT {_CELL_COLS} FROM cells WHERE rowid BETWEEN ? AND ? AND report_id = ?",
                        [rng["lo"][0], rng["hi"][0], report_id])
        if df.height:
            return df
    return file_query(f"SELECT {_CELL_COLS} FROM cells WHERE report_id = ?", [report_id])


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
    path, sig = next(_versions())
    info = {"path": path, "size_mb": sig[1] / 1e6, "modified": datetime.fromtimestamp(sig[0] / 1e9)}
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
