"""Opening the database: short read-only connections for readers, copy-on-write for writers.

Why copy-on-write.  DuckDB lets many processes open a file read-only, but a read-write open
fails while any reader holds the file (``Could not set lock on file``), and a crash in the middle
of a long write would leave a half-loaded database behind.  So no writer ever opens the
database file itself:

1. take an exclusive ``fcntl.flock`` on ``<db>.lock`` (one writer at a time, across processes;
   the kernel releases it when the holder dies, even by ``kill -9``);
2. delete temp files that a killed writer left behind (``<db>.tmp-*``);
3. copy ``<db>`` to ``<db>.tmp-<pid>-<random>`` in the same folder and write into the copy;
4. ``CHECKPOINT``, close, ``fsync`` the copy;
5. ``os.replace`` the copy over ``<db>`` (atomic on POSIX) and ``fsync`` the folder.

A reader that opens the database sees either the old file or the new one, never a mixture;
a connection opened before the swap keeps reading the old file until it is closed.  If the
writer dies or raises before step 5, ``<db>`` is untouched: the database is exactly as before.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ingest.store.schema import create_schema

DEFAULT_DB = "data/nianbao.duckdb"


class StoreBusy(Exception):
    """Another process holds the write lock longer than we were willing to wait."""


class DatabaseMissing(FileNotFoundError):
    """The database file does not exist yet."""


def lock_path(db_path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(db_path)}.lock")


def temp_glob(db_path: str | os.PathLike) -> list[Path]:
    p = Path(db_path)
    return sorted(p.parent.glob(p.name + ".tmp-*"))


def connect_readonly(db_path: str | os.PathLike = DEFAULT_DB) -> duckdb.DuckDBPyConnection:
    """A read-only connection for the dashboard and tests.

    Keep it short-lived (open, query, close): a connection keeps seeing the file it opened,
    so a long-lived one would not see later loads.
    """
    p = Path(db_path)
    if not p.exists():
        raise DatabaseMissing(f"数据库文件不存在：{p}（请先运行 python -m ingest load 导入报告）")
    return duckdb.connect(str(p), read_only=True)


@contextlib.contextmanager
def write_lock(db_path: str | os.PathLike, timeout: float | None = None,
               on_wait: callable | None = None) -> Iterator[None]:
    """Hold the exclusive writer lock of ``db_path``.

    ``timeout`` None waits as long as needed; ``on_wait`` is called once if we have to wait.
    """
    lp = lock_path(db_path)
    lp.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            if on_wait is not None:
                on_wait()
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise StoreBusy("另一个入库或审核操作正在进行，请稍后再试") from None
                    time.sleep(0.05)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def remove_stale_temps(db_path: str | os.PathLike) -> list[Path]:
    """Delete the temp copies of writers that died.  Call only while holding the write lock."""
    removed = []
    for t in temp_glob(db_path):
        with contextlib.suppress(FileNotFoundError):
            t.unlink()
            removed.append(t)
    return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class WriteSession:
    """A temp copy of the database being written; see :func:`copy_on_write`."""

    def __init__(self, db_path: Path, temp_path: Path) -> None:
        self.db_path = db_path
        self.temp_path = temp_path
        self.con: duckdb.DuckDBPyConnection | None = None

    def connect(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            self.con = duckdb.connect(str(self.temp_path))
        return self.con

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


@contextlib.contextmanager
def copy_on_write(db_path: str | os.PathLike = DEFAULT_DB, timeout: float | None = None,
                  on_wait: callable | None = None) -> Iterator[WriteSession]:
    """Lock, copy, let the caller write the copy, then atomically swap it in.

    The caller may close and reopen ``session.connect()`` (e.g. to fork parse workers without
    an open database); the swap happens only when the ``with`` block ends without an exception.
    """
    db = Path(db_path)
    db.parent.mkdir(parents=True, exist_ok=True)
    with write_lock(db, timeout=timeout, on_wait=on_wait):
        remove_stale_temps(db)
        temp = db.with_name(f"{db.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        wal = Path(f"{db}.wal")
        had_wal = False
        if db.exists():
            shutil.copyfile(db, temp)
            if wal.exists():             # left by a foreign read-write session: replay it in the copy
                shutil.copyfile(wal, Path(f"{temp}.wal"))
                had_wal = True
        session = WriteSession(db, temp)
        try:
            con = session.connect()
            create_schema(con)
            yield session
            con = session.connect()
            con.execute("CHECKPOINT")
            session.close()
            if Path(f"{temp}.wal").exists():
                raise RuntimeError("临时数据库在关闭后仍有未合并的日志文件")
            _fsync_file(temp)
            if had_wal:                  # its content is now inside the copy; it must not meet the new file
                wal.unlink(missing_ok=True)
            os.replace(temp, db)
            _fsync_dir(db.parent)
        except BaseException:
            session.close()
            for p in (temp, Path(f"{temp}.wal")):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
            raise
