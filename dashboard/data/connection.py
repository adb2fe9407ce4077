"""The database file: the version one script run reads, short-lived read-only connections, cached file queries.

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
  that they still belong to its version (:mod:`dashboard.data.snapshot`).  A page never shows two
  versions; a page whose file keeps changing on every run gives up after a few reruns with a plain
  message.  Outside ``pinned`` (tests, scripts) each query takes the signature itself and simply
  retries after a swap.
* **Connections.**  The file is never kept open.  A query opens an in-memory DuckDB, ``ATTACH``\\es
  the file ``READ_ONLY``, runs, and closes.  ``ATTACH`` (rather than ``duckdb.connect(path)``)
  matters: DuckDB shares one database instance per path inside a process, so a plain connect
  made while another session still holds a connection to the old file would read the *old*
  file after a swap; an in-memory instance with ``ATTACH`` always opens the file now on disk.
* **Caching.**  ``st.cache_data`` on (path, signature, SQL, parameters); results are polars
  DataFrames.  Filter values only ever travel as parameters, never as SQL text.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboard import config

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
