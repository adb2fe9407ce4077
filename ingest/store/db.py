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

``<db>`` here is the real file: a database path that is a symlink is resolved first, so the lock,
the temp copy and the replace all happen beside the target (``os.replace`` is only atomic within
one filesystem, and two paths to one file must share one lock), and the symlink stays a symlink.

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
import signal
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


class DatabaseCorrupt(Exception):
    """The database file cannot be read (damaged, truncated, empty, or not a DuckDB file).

    The file is never changed, moved or deleted: the message says what is wrong and how to
    rebuild it, and the user decides.
    """

    def __init__(self, db_path: str | os.PathLike, what: str) -> None:
        db = Path(db_path)
        self.db_path = db
        self.what = what
        super().__init__(
            f"数据库文件 {db} 无法读取：{what}。本次操作没有进行，该文件保持原样，没有被改动或删除。"
            f"重建方法：先把这个文件移到别处保存（例如改名为 {db.name}.damaged），"
            f"再重新导入全部报告：python -m ingest load 报告文件夹/ --db {db}；"
            f"如果有备份，也可以用备份文件替换它")


class DiskFull(OSError):
    """No space left on the disk of the database folder (the database is unchanged)."""

    def __init__(self, db_path: str | os.PathLike) -> None:
        db = Path(db_path)
        folder = db.parent.resolve()
        size = db.stat().st_size if db.exists() else 0
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            free = None
        left = f"只剩 {_mb(free)} 可用" if free is not None else "没有足够的可用空间"
        if _inodes_exhausted(folder):
            super().__init__(
                errno.ENOSPC,
                f"磁盘上的文件数量已达上限：数据库所在的文件夹 {folder} 虽然还有 {_mb(free)} 空间，"
                "但这个磁盘已不能再新建文件（文件个数用尽，常见于存放了大量小文件的磁盘）。"
                "数据库保持本次运行之前的状态，临时文件已删除。请删除不需要的文件（尤其是大量小文件），"
                "或用 --db 把数据库放到另一个磁盘上后重新运行")
            return
        why = (f"入库时要先把数据库（{_mb(size)}）复制一份，在副本中写入新报告，所以需要的可用空间比数据库本身还大"
               "（建议至少留出数据库大小的两倍）。" if size else "")
        super().__init__(
            errno.ENOSPC,
            f"磁盘空间不足：数据库所在的文件夹 {folder} {left}。{why}数据库保持本次运行之前的状态，"
            "临时文件已删除。请清理磁盘空间（或用 --db 把数据库放到空间更大的磁盘上）后重新运行")

    def __str__(self) -> str:
        return str(self.strerror)


def _inodes_exhausted(folder: Path) -> bool:
    """True when the file system of ``folder`` has no free inodes (ENOSPC with space left)."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_files > 0 and st.f_favail == 0


class StoreUnwritable(PermissionError):
    """The database folder does not allow the lock file to be created (nothing was changed)."""

    def __init__(self, lock: Path, exc: OSError) -> None:
        why = {errno.EROFS: "磁盘是只读的", errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限",
               errno.ENOTDIR: "路径中有一段不是文件夹", errno.EEXIST: "路径中有一段不是文件夹",
               errno.ENOENT: "文件夹不存在"}.get(exc.errno or 0, exc.strerror or "无法创建文件")
        super().__init__(
            exc.errno or errno.EACCES,
            f"无法在文件夹 {lock.parent} 中创建锁文件 {lock.name}（{why}）。数据库没有任何改动。"
            "请检查数据库路径是否写对、该文件夹是否存在且可写，或用 --db 换一个可写的位置")

    def __str__(self) -> str:
        return str(self.strerror)


def _mb(n: int | None) -> str:
    return "未知" if n is None else f"{n / 1024 / 1024:.1f} MB"


# Marks of an unreadable file in DuckDB's error messages (DuckDB 2.0).
_CORRUPT_MARKS = ("not a valid DuckDB database", "Corrupt database file", "Could not read enough bytes",
                  "does not match stored checksum")
_NO_SPACE_MARKS = ("No space left on device", "Disk quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """True for an error that says the disk is full (OS or DuckDB)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, duckdb.Error) and any(m in str(exc) for m in _NO_SPACE_MARKS)


def corruption(db_path: str | os.PathLike, exc: BaseException | None = None) -> str | None:
    """What is wrong with an unreadable database file, in plain Chinese (None: nothing we recognise)."""
    db = Path(db_path)
    text = str(exc or "")
    try:
        size = db.stat().st_size
        with db.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    if size == 0:
        return "文件是空的（0 字节），不是数据库"
    if len(head) < 12 or head[8:12] != b"DUCK":
        return "文件不是 DuckDB 数据库（开头没有 DuckDB 的标记），可能被其他文件覆盖，或选错了文件"
    if "Could not read enough bytes" in text:
        return f"文件不完整，比应有的短（现在 {_mb(size)}），可能在复制或保存时被截断"
    if any(m in text for m in _CORRUPT_MARKS):
        return "文件中有数据块校验失败，文件内容已损坏"
    return None


def real_db_path(db_path: str | os.PathLike) -> Path:
    """The file a database path stands for, with every symlink resolved (the target need not exist yet)."""
    return Path(os.path.realpath(db_path))


def lock_path(db_path: str | os.PathLike) -> Path:
    return Path(f"{real_db_path(db_path)}.lock")


def temp_glob(db_path: str | os.PathLike) -> list[Path]:
    p = real_db_path(db_path)
    return sorted(p.parent.glob(p.name + ".tmp-*"))


# Test-only: tests/test_store_swap.py sets this to make a writer SIGKILL itself at one point of the
# swap (see _test_kill_point).  Read once at import, so production pays one string comparison.
_TEST_KILL_AT = os.environ.get("NIANBAO_TEST_KILL_AT")


def _test_kill_point(where: str) -> None:
    if where == _TEST_KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


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
    try:
        lp.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        if is_disk_full(e):
            raise DiskFull(db_path) from e
        raise StoreUnwritable(lp, e) from e
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
    """Delete the temp copies of writers that died.  Call only while holding the write lock.

    A killed writer can also leave DuckDB's spill folder of its copy (``<copy>.tmp/``).
    """
    removed = []
    for t in temp_glob(db_path):
        with contextlib.suppress(FileNotFoundError):
            if t.is_dir() and not t.is_symlink():
                shutil.rmtree(t, ignore_errors=True)
            else:
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
    shown = Path(db_path)           # the path the user gave, for messages
    db = real_db_path(db_path)
    with write_lock(db, timeout=timeout, on_wait=on_wait):
        remove_stale_temps(db)
        temp = db.with_name(f"{db.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        wal = Path(f"{db}.wal")
        had_wal = False
        session = WriteSession(db, temp)
        try:
            if db.exists():
                shutil.copyfile(db, temp)    # inside try: a copy cut short by a full disk is deleted
                if wal.exists():             # left by a foreign read-write session: replay it in the copy
                    shutil.copyfile(wal, Path(f"{temp}.wal"))
                    had_wal = True
            try:
                con = session.connect()
                create_schema(con)
            except duckdb.Error as e:        # the copy does not open: the file itself is unreadable
                what = None if is_disk_full(e) else corruption(db, e)
                if what is None and db.exists() and not is_disk_full(e):
                    what = f"DuckDB 无法打开它（{str(e).splitlines()[0][:160].replace(str(temp), str(shown))}）"
                if what is not None:
                    raise DatabaseCorrupt(shown, what) from None
                raise
            yield session
            con = session.connect()
            con.execute("CHECKPOINT")
            session.close()
            if Path(f"{temp}.wal").exists():
                raise RuntimeError("临时数据库在关闭后仍有未合并的日志文件")
            _fsync_file(temp)
            if had_wal:                  # its content is now inside the copy; it must not meet the new file
                wal.unlink(missing_ok=True)
            _test_kill_point("before_replace")
            os.replace(temp, db)
            _test_kill_point("after_replace")
            _fsync_dir(db.parent)
        except BaseException as e:
            session.close()
            for p in (temp, Path(f"{temp}.wal")):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
            shutil.rmtree(Path(f"{temp}.tmp"), ignore_errors=True)    # DuckDB's spill folder of the copy
            if is_disk_full(e):
                raise DiskFull(db) from e
            if isinstance(e, duckdb.Error) and not isinstance(e, DatabaseCorrupt):
                what = corruption(db, e)     # a damaged block found while reading the copy
                if what is not None:
                    raise DatabaseCorrupt(shown, what) from e
            raise
