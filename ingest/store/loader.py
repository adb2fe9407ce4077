"""``python -m ingest load``: files and folders into the database, then every check.

One run = one copy-on-write session (see :mod:`ingest.store.db`): the database file is swapped
only when everything (parsing, writing, checks) succeeded, so a failed, interrupted or killed
run leaves it exactly as it was.  Parsing runs in a process pool when there are many files;
writing happens in this process only (one writer).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

import duckdb

from ingest.store.checks import run_checks
from ingest.store.db import DEFAULT_DB, DatabaseCorrupt, DiskFull, StoreBusy, StoreUnwritable, copy_on_write
from ingest.store.discover import discover, hash_file, mtime_ns
from ingest.store.schema import REPORTS, RUNS, V_FINDINGS_OPEN
from ingest.store.units import ManifestError, Pin, pin_for, read_manifest
from ingest.store.writer import BatchWriter, FileItem, LogEntry, refresh_units_and_versions

Parser = Callable[[str], dict]
POOL_MIN_FILES = 8          # below this, a process pool costs more than it saves
MAX_REASON = 300


@dataclass
class RunSummary:
    run_id: int
    db_path: str
    log: list[LogEntry] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)   # not dismissed, by severity
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (for bench/)

    def counts(self) -> Counter:
        return Counter(e.outcome for e in self.log)


# ---------------------------------------------------------------- parsing

def _default_parser() -> Parser:
    from ingest.parse import parse_file
    return parse_file


def _parse_task(parser: Parser, path: str) -> tuple[str, object]:
    """Parse one file; never raises (a pool worker must not die on one bad file)."""
    from ingest.errors import RejectedFile
    try:
        result = parser(path)
        if not isinstance(result, dict):
            return "error", f"解析时发生内部错误（解析结果不是对象：{type(result).__name__}）"
        return "ok", result
    except RejectedFile as e:
        return "rejected", str(e.reason or e)
    except MemoryError:
        return "error", "解析时发生内部错误（内存不足）"
    except Exception as e:  # one broken file must not stop the batch
        return "error", f"解析时发生内部错误（{type(e).__name__}: {e}）"[:MAX_REASON]


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back while worker processes are forked.

    A SIGINT that lands during ``os.fork()`` runs Python's handler inside an at-fork hook (the
    logging module's lock release), where the KeyboardInterrupt cannot propagate: it is printed
    as "Exception ignored … Traceback" and lost, and the load goes on.  Held back, it arrives
    right after the fork as an ordinary KeyboardInterrupt, which stops the load plainly.
    """
    if threading.current_thread() is not threading.main_thread():
        yield                              # (signals are only delivered to the main thread)
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def worker_init() -> None:
    """Set up a parse worker.

    Workers leave Ctrl-C to the main process, which stops them (a worker dying of
    KeyboardInterrupt mid-task can leave ProcessPoolExecutor waiting forever).  The objects the
    worker inherited (modules, parser tables) are frozen out of the cyclic garbage collector:
    its collections then scan only what the parses allocate (measured on demo HTML: the
    collector's share of parse time falls from 2.9% to 2.0%), and they no longer touch, and so
    copy, the memory pages the worker shares with the parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})   # forked while held: see _ctrl_c_held
    gc.freeze()


def chunk_size(n_items: int, n_workers: int) -> int:
    """Files per task sent to a worker: small enough that no worker idles at the end of the
    batch while another still parses a long chunk, large enough to save round trips."""
    return max(1, min(4, n_items // (n_workers * 8)))


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started; workers finish their current chunk and exit.

    Workers are not terminated: one killed while sending its result leaves a half-written
    message in the result pipe, and the executor's manager thread then blocks for ever on it,
    so the interpreter would never exit.  Chunks are small, so this takes at most a few seconds.
    """
    pool.shutdown(wait=False, cancel_futures=True)


def _apply(item: FileItem, outcome: tuple[str, object]) -> None:
    kind, value = outcome
    if kind == "ok":
        item.result = value  # type: ignore[assignment]
    else:
        item.rejected = str(value)


def parse_items(items: list[FileItem], parser: Parser, workers: int | None = None,
                bar: Callable[[int], None] | None = None) -> None:
    """Fill ``result`` or ``rejected`` of each item, in a process pool when there are many."""
    task = functools.partial(_parse_task, parser)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    done = 0
    if n_workers > 1 and len(items) >= POOL_MIN_FILES:
        chunk = chunk_size(len(items), n_workers)
        # fork is fastest (workers inherit the imported parser), but forking a process that runs
        # other threads (the dashboard's server) can deadlock the child: use forkserver there.
        method = "fork" if threading.active_count() == 1 else "forkserver"
        pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context(method),
                                   initializer=worker_init)
        try:
            with _ctrl_c_held():            # the workers are forked when the first task is submitted
                outcomes = pool.map(task, [i.path for i in items], chunksize=chunk)
            for item, outcome in zip(items, outcomes, strict=False):
                _apply(item, outcome)
                done += 1
                if bar:
                    bar(1)
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)   # a worker died (e.g. killed): finish the rest here
        except BaseException:
            _stop_pool(pool)                # Ctrl-C or an error: do not wait for the workers
            raise
        else:
            pool.shutdown(wait=True)
    for item in items[done:]:
        _apply(item, task(item.path))
        if bar:
            bar(1)


# ---------------------------------------------------------------- writing a batch

def _write_batch(con: duckdb.DuckDBPyConnection, items: Iterable[FileItem], paths: list[str],
                 started: datetime, accept_worse: bool = False) -> RunSummary:
    t0 = time.perf_counter()
    run_id = con.execute(f"SELECT COALESCE(max(run_id), 0) + 1 FROM {RUNS}").fetchall()[0][0]
    writer = BatchWriter(con, run_id, started, accept_worse)
    for item in items:
        writer.add(item)
    writer.flush()
    writer.write_log()
    refresh_units_and_versions(con)
    t1 = time.perf_counter()
    run_checks(con)
    t2 = time.perf_counter()
    open_counts = dict(con.execute(f"SELECT severity, count(*) FROM {V_FINDINGS_OPEN} GROUP BY ALL").fetchall())
    summary = RunSummary(run_id, "", writer.log, {s: open_counts.get(s, 0) for s in ("error", "warning", "info")},
                         {"write": t1 - t0, "checks": t2 - t1})
    c = summary.counts()
    con.execute(f"INSERT INTO {RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        run_id, started, datetime.now(), paths, len(writer.log), c["loaded"], c["new_version"], c["unchanged"],
        c["duplicate"], c["rejected"], c["skipped"], summary.findings["error"], summary.findings["warning"],
        summary.findings["info"]])
    return summary


def _write_order(items: list[FileItem]) -> list[FileItem]:
    """Files of one run are written oldest first, so the newest file of a unit and year is current."""
    return sorted(items, key=lambda i: (mtime_ns(i.path), i.path))


def load_files(paths: list[str], db_path: str | os.PathLike = DEFAULT_DB, pins: dict[str, Pin] | None = None,
               progress: bool | None = None, parser: Parser | None = None, workers: int | None = None,
               lock_timeout: float | None = None, err: TextIO | None = None,
               accept_worse: bool = False) -> RunSummary:
    """The work of ``run_load`` without printing the summary; raises when the run fails."""
    err = err or sys.stderr
    started = datetime.now()
    items = discover(paths)
    for it in items:
        if it.skipped is None and it.rejected is None:
            it.pin = pin_for(pins, it.path)

    def waiting() -> None:
        print("另一个入库任务正在进行，等待其完成……", file=err, flush=True)

    t_start = time.perf_counter()
    marks: dict[str, float] = {}
    with copy_on_write(db_path, timeout=lock_timeout, on_wait=waiting) as session:
        marks["lock_copy"] = time.perf_counter()
        con = session.connect()
        known = {sha for (sha,) in con.execute(f"SELECT sha256 FROM {REPORTS}").fetchall()}
        session.close()                     # no open database while worker processes fork

        for it in items:
            if it.skipped is None and it.rejected is None:
                hash_file(it)
        marks["hash"] = time.perf_counter()
        ordered = _write_order(items)
        to_parse, seen = [], set(known)
        for it in ordered:
            if it.skipped is None and it.rejected is None and it.sha256 not in seen:
                seen.add(it.sha256)
                to_parse.append(it)
        if to_parse:
            parse = parser or _default_parser()
            show = progress if progress is not None else err.isatty()
            if show:
                from tqdm import tqdm
                with tqdm(total=len(to_parse), desc="解析", unit="个文件", file=err) as bar:
                    parse_items(to_parse, parse, workers, bar.update)
            else:
                parse_items(to_parse, parse, workers)
            rejected_by_sha = {it.sha256: it.rejected for it in to_parse if it.rejected is not None}
            for it in ordered:
                if it.result is None and it.rejected is None and it.sha256 in rejected_by_sha:
                    it.rejected = rejected_by_sha[it.sha256]

        marks["parse"] = time.perf_counter()
        con = session.connect()
        summary = _write_batch(con, ordered, [str(p) for p in paths], started, accept_worse)
        summary.db_path = str(db_path)
        marks["written"] = time.perf_counter()
    end = time.perf_counter()
    summary.timings.update({"lock_copy": marks["lock_copy"] - t_start, "hash": marks["hash"] - marks["lock_copy"],
                            "parse": marks["parse"] - marks["hash"], "commit": end - marks["written"],
                            "total": end - t_start})
    return summary


def load_parsed(db_path: str | os.PathLike, items: list[FileItem], paths: list[str] | None = None,
                lock_timeout: float | None = None, accept_worse: bool = False) -> RunSummary:
    """Write already-parsed items (``FileItem`` with ``result`` and ``sha256``) and run the checks.

    The same write path as ``load``; used by the benchmark, the tests and generators that
    produce parse results without files.
    """
    started = datetime.now()
    with copy_on_write(db_path, timeout=lock_timeout) as session:
        summary = _write_batch(session.connect(), items, paths or [], started, accept_worse)
        summary.db_path = str(db_path)
    return summary


# ---------------------------------------------------------------- the command

OUTCOME_NAMES = {"loaded": "新入库", "new_version": "新版本", "held": "暂未采用的新文件", "unchanged": "未变化",
                 "duplicate": "重复",
                 "rejected": "无法解析", "skipped": "跳过"}


def format_summary(s: RunSummary) -> str:
    c = s.counts()
    seen = sum(c.values())
    new = c["loaded"] + c["new_version"]
    lines = [f"入库完成（第 {s.run_id} 次运行，数据库 {s.db_path}）",
             f"共发现文件 {seen} 个：",
             f"  新入库报告 {new} 份" + (f"（其中 {c['new_version']} 份是已有报告的新版本，旧版本已保留）"
                                        if c["new_version"] else ""),
             f"  未变化 {c['unchanged']} 个",
             f"  重复 {c['duplicate']} 个（与已入库文件内容相同，或是同一报告的另一种格式）"]
    held = [e for e in s.log if e.outcome == "held"]
    if held:
        lines.append(f"  暂未采用 {len(held)} 个（读出的内容明显少于现行版本，现行版本不变）：")
        lines += [f"    - {Path(e.path).name}：{e.reason}" for e in held]
    rejected = [e for e in s.log if e.outcome == "rejected"]
    lines.append(f"  无法解析 {len(rejected)} 个" + ("：" if rejected else ""))
    for e in rejected:
        lines.append(f"    - {Path(e.path).name}：{e.reason}")
    if c["skipped"]:
        lines.append(f"  跳过 {c['skipped']} 个非报告文件（清单、说明文件等）")
    f = s.findings
    lines.append(f"核对发现的问题（不含已排除的）：错误 {f.get('error', 0)} 条，警告 {f.get('warning', 0)} 条，"
                 f"提示 {f.get('info', 0)} 条")
    return "\n".join(lines)


def run_load(paths: list[str], db_path: str = DEFAULT_DB, manifest: str | None = None,
             progress: bool | None = None, *, parser: Parser | None = None, workers: int | None = None,
             lock_timeout: float | None = None, out: TextIO | None = None, err: TextIO | None = None,
             accept_worse: bool = False) -> int:
    """The whole ``python -m ingest load`` command.  Returns the exit status.

    0 when the run completed (rejected files included); non-zero when the run itself failed, in
    which case the database is exactly as it was before.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        pins = read_manifest(manifest) if manifest else None
    except ManifestError as e:
        print(f"入库未开始：{e}", file=err)
        return 2
    with _noting_ctrl_c() as ctrl_c:
        try:
            summary = load_files(paths, db_path, pins, progress, parser, workers, lock_timeout, err, accept_worse)
        except (KeyboardInterrupt, duckdb.InterruptException):
            interrupted = True
        except Exception as e:
            if not ctrl_c.pressed:
                return _load_failed(e, err)
            interrupted = True            # DuckDB 2.0 reports Ctrl-C inside a query as RuntimeError
        else:
            interrupted = False
    if interrupted:
        print("入库已中断，数据库保持本次运行之前的状态", file=err)
        return 130
    print(format_summary(summary), file=out)
    return 0


@dataclass(slots=True)
class _CtrlC:
    pressed: bool = False     # Ctrl-C came during the block


@contextlib.contextmanager
def _noting_ctrl_c() -> Iterator[_CtrlC]:
    """Note whether Ctrl-C was pressed during the block (it still raises KeyboardInterrupt as usual).

    DuckDB 2.0 turns a Ctrl-C that lands during a query into ``RuntimeError('Query interrupted')``
    and swallows the KeyboardInterrupt, so the exception alone does not tell an interrupted load
    from a failed one.  Only in the main thread, and only where Python's own handler is installed
    (a process started with SIGINT ignored keeps ignoring it).
    """
    state = _CtrlC()
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield state
        return

    def handler(signum, frame):
        state.pressed = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _load_failed(e: Exception, err: TextIO) -> int:
    """The message and exit status of a load that failed (the database is as before)."""
    if isinstance(e, StoreBusy):
        print(f"入库未开始：{e}", file=err)
        return 3
    if isinstance(e, DatabaseCorrupt | StoreUnwritable):
        print(f"入库未进行：{e}", file=err)
    elif isinstance(e, DiskFull):
        print(f"入库失败：{e}", file=err)
    elif isinstance(e, ImportError):
        print(f"入库失败，数据库保持本次运行之前的状态：解析模块无法加载（{e}）", file=err)
    else:
        print(f"入库失败，数据库保持本次运行之前的状态：{type(e).__name__}: {e}", file=err)
    return 1
