"""Plain Chinese messages for store failures a user can cause (issue 18 item 7)."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest

from ingest.store import db as store_db
from ingest.store.db import DiskFull, StoreUnwritable, write_lock
from ingest.store.loader import run_load
from tests.store_helpers import json_parser, make_result, write_result_file


def test_a_lock_file_that_cannot_be_created_is_explained(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "报告.txt"
    not_a_folder.write_text("x", encoding="utf-8")
    db = not_a_folder / "n.duckdb"                  # a "folder" that is a file: works as root too
    with pytest.raises(StoreUnwritable) as got, write_lock(db):
        pass
    assert "无法在文件夹" in str(got.value) and "路径中有一段不是文件夹" in str(got.value)
    assert "OSError" not in str(got.value) and "Errno" not in str(got.value)


def test_the_load_command_reports_it_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_result_file(folder, "甲镇-2021.rpt", make_result(unit="甲镇", year=2021))
    blocker = tmp_path / "占用"
    blocker.write_text("x", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = run_load([str(folder)], db_path=str(blocker / "n.duckdb"), parser=json_parser, out=out, err=err)
    assert code == 1
    msg = err.getvalue().strip()
    assert msg.startswith("入库未进行：无法在文件夹") and "--db" in msg and "Traceback" not in msg
    assert len(msg.splitlines()) == 1


def test_no_free_inodes_is_not_called_too_little_space(tmp_path: Path, monkeypatch) -> None:
    real = os.statvfs(tmp_path)

    class NoInodes:
        def __getattr__(self, name):
            return getattr(real, name)

        f_files = 1000
        f_favail = 0

    monkeypatch.setattr(store_db.os, "statvfs", lambda _p: NoInodes())
    e = DiskFull(tmp_path / "n.duckdb")
    assert e.errno == errno.ENOSPC
    assert "文件数量已达上限" in str(e) and "磁盘空间不足" not in str(e)


def test_space_full_still_says_space(tmp_path: Path, monkeypatch) -> None:
    real = os.statvfs(tmp_path)

    class Inodes:
        def __getattr__(self, name):
            return getattr(real, name)

        f_files = 1000
        f_favail = 10

    monkeypatch.setattr(store_db.os, "statvfs", lambda _p: Inodes())
    assert "磁盘空间不足" in str(DiskFull(tmp_path / "n.duckdb"))
