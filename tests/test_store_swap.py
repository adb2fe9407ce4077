"""The swap step of copy-on-write: a database path that is a symlink, and SIGKILL right at ``os.replace``.

Random kills (tests/test_store_atomic.py) almost never land inside the swap, so these tests put the
writer there on purpose: ``NIANBAO_TEST_KILL_AT`` makes the loading subprocess SIGKILL itself just
before or just after ``os.replace`` (see ``ingest.store.db._test_kill_point``).  No timing involved.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.store.db import StoreBusy, connect_readonly, temp_glob, write_lock
from ingest.store.loader import run_load
from tests.store_helpers import digest, file_sha, json_parser
from tests.test_store_atomic import LOAD_SCRIPT, make_corpus

ROOT = Path(__file__).resolve().parent.parent


def load_here(db: Path, *folders: Path) -> None:
    code = run_load([str(f) for f in folders], db_path=str(db), parser=json_parser, workers=1, progress=False,
                    out=io.StringIO(), err=io.StringIO())
    assert code == 0


def count_reports(db: Path) -> int:
    con = connect_readonly(db)
    try:
        return con.execute("SELECT count(*) FROM reports").fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def states(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("swap")
    old = make_corpus(base / "old", [f"旧{i}镇" for i in range(3)], range(2021, 2023))
    new = make_corpus(base / "new", [f"新{i}镇" for i in range(4)], range(2021, 2023))
    before = base / "before.duckdb"
    load_here(before, old)
    after = base / "after.duckdb"
    shutil.copyfile(before, after)
    load_here(after, new)
    return {"base": base, "new": new, "before": before, "before_sha": file_sha(before), "after": digest(after)}


@pytest.mark.parametrize("where", ["before_replace", "after_replace"])
def test_sigkill_at_the_replace_leaves_old_or_new_and_a_rerun_completes(states: dict, tmp_path: Path,
                                                                        where: str) -> None:
    db = tmp_path / "nianbao.duckdb"
    shutil.copyfile(states["before"], db)
    p = subprocess.Popen([sys.executable, "-c", LOAD_SCRIPT, str(db), str(states["new"])], cwd=ROOT,
                         env={**os.environ, "NIANBAO_TEST_KILL_AT": where}, start_new_session=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = p.communicate(timeout=300)
    assert p.returncode == -signal.SIGKILL, err.decode()    # it really died at the hook, not by finishing
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)                    # any worker left of the killed load
    count_reports(db)                                       # opens without error
    if where == "before_replace":
        assert file_sha(db) == states["before_sha"]
        assert len(temp_glob(db)) == 1                      # the finished copy the swap never used
    else:
        assert digest(db) == states["after"]
    load_here(db, states["new"])
    assert digest(db) == states["after"]
    assert temp_glob(db) == []
    assert sorted(x.name for x in tmp_path.iterdir()) == ["nianbao.duckdb", "nianbao.duckdb.lock"]


def test_a_symlinked_database_is_written_through_to_its_target(states: dict, tmp_path: Path) -> None:
    disk = tmp_path / "other-disk"
    disk.mkdir()
    target = disk / "real.duckdb"
    shutil.copyfile(states["before"], target)
    here = tmp_path / "data"
    here.mkdir()
    link = here / "nianbao.duckdb"
    link.symlink_to(target)

    load_here(link, states["new"])

    assert link.is_symlink() and os.readlink(link) == str(target)
    assert digest(target) == states["after"]
    assert count_reports(link) == count_reports(target) == 3 * 2 + 4 * 2    # readers through the link see it
    assert sorted(x.name for x in here.iterdir()) == ["nianbao.duckdb"]
    assert sorted(x.name for x in disk.iterdir()) == ["real.duckdb", "real.duckdb.lock"]


def test_two_paths_to_one_database_share_one_lock(tmp_path: Path) -> None:
    target = tmp_path / "real.duckdb"
    link = tmp_path / "link.duckdb"
    link.symlink_to(target)
    with write_lock(target), pytest.raises(StoreBusy), write_lock(link, timeout=0):
        pass
