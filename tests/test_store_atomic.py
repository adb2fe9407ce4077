"""A load either completes or leaves the database exactly as it was; readers never see half a load.

These tests run real loads in subprocesses (the parser is replaced by ``json_parser`` reading
``.rpt`` files, so they do not depend on the document parser) and kill them with SIGKILL at
random moments, or read the database from another process while loads run.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ingest.store.db import connect_readonly, temp_glob
from ingest.store.loader import run_load
from tests.store_helpers import digest, file_sha, json_parser, make_result, write_result_file

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

LOAD_SCRIPT = textwrap.dedent("""
    import sys
    from tests.store_helpers import json_parser
    from ingest.store.loader import run_load
    sys.exit(run_load(sys.argv[2:], db_path=sys.argv[1], parser=json_parser, workers=2, progress=False))
""")

READER_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from ingest.store.db import connect_readonly
    db, stop = sys.argv[1], Path(sys.argv[2])
    seen, errors, reads = set(), [], 0
    while not stop.exists():
        try:
            con = connect_readonly(db)
            try:
                n = con.execute("SELECT count(*) FROM reports WHERE status = 'current'").fetchall()[0][0]
                bad = con.execute('''SELECT r.report_id, r.n_cells, count(c.key) FROM reports r
                                     LEFT JOIN cells c USING (report_id) GROUP BY ALL
                                     HAVING count(c.key) <> r.n_cells''').fetchall()
                m = con.execute("SELECT count(*) FROM v_report_measures").fetchall()[0][0]
                f = con.execute("SELECT count(*) FROM findings f LEFT JOIN reports r USING (report_id)"
                                " WHERE f.report_id IS NOT NULL AND r.report_id IS NULL").fetchall()[0][0]
            finally:
                con.close()
            if bad:
                errors.append(f"half-loaded reports: {bad[:3]}")
            if m != n:
                errors.append(f"measures {m} != current reports {n}")
            if f:
                errors.append(f"{f} findings point to missing reports")
            seen.add(n)
            reads += 1
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
    print(json.dumps({"seen": sorted(seen), "errors": errors[:20], "reads": reads}))
""")


def make_corpus(folder: Path, units: list[str], years: range) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    note = [{"rule": "N-1", "severity": "warning", "keys": ["s3.new_received.total"], "expected": 2, "actual": 1,
             "message": "正文“收到申请1件”与表三 第一项 本年新收政府信息公开申请数量 总计列不一致：表中为 2，正文为 1"}]
    for i, u in enumerate(units):
        prev = None
        for y in years:
            prev = make_result(unit=u, region="丰城市", year=y, prev=prev, findings=note if i == 0 else None)
            write_result_file(folder, f"{u}-{y}.rpt", prev)
    return folder


def run_load_here(db: Path, *folders: Path) -> None:
    code = run_load([str(f) for f in folders], db_path=str(db), parser=json_parser, workers=2, progress=False,
                    out=io.StringIO(), err=io.StringIO())
    assert code == 0


def start_load(db: Path, *folders: Path) -> subprocess.Popen:
    # SIGINT back to its default in the child: a shell's background job inherits it ignored, and
    # the Ctrl-C test would then pass on a load that simply completed
    return subprocess.Popen([sys.executable, "-c", LOAD_SCRIPT, str(db), *map(str, folders)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("atomic")
    old = make_corpus(base / "old", [f"旧{i}镇" for i in range(10)], range(2020, 2023))
    new = make_corpus(base / "new", [f"新{i}镇" for i in range(60)], range(2019, 2024))
    before_db = base / "before.duckdb"
    run_load_here(before_db, old)
    after_db = base / "after.duckdb"
    shutil.copyfile(before_db, after_db)
    t0 = time.monotonic()
    p = start_load(after_db, new)
    assert p.wait(timeout=300) == 0, p.stderr.read().decode()
    return {"base": base, "old": old, "new": new, "before": before_db, "after": after_db,
            "duration": time.monotonic() - t0}


def test_sigkill_at_random_points_leaves_the_previous_state(corpora: dict) -> None:
    before_sha = file_sha(corpora["before"])
    before = digest(corpora["before"])
    after = digest(corpora["after"])
    assert before != after
    rng = random.Random(20240601)
    duration = corpora["duration"]
    outcomes = []
    for i in range(12):
        db = corpora["base"] / f"kill{i}.duckdb"
        shutil.copyfile(corpora["before"], db)
        p = start_load(db, corpora["new"])
        delay = rng.uniform(0.05, 1.05) * duration
        time.sleep(delay)
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=60)
        # the database opens, and it is either untouched or the complete load
        con = connect_readonly(db)
        con.execute("SELECT count(*) FROM reports").fetchall()
        con.close()
        if file_sha(db) == before_sha:
            outcomes.append("before")
        else:
            assert digest(db) == after, f"run {i}: killed after {delay:.2f}s, database is neither before nor after"
            outcomes.append("after")
        # running the load again completes it and cleans up what the killed run left
        run_load_here(db, corpora["new"])
        assert digest(db) == after
        assert temp_glob(db) == []
    assert outcomes.count("before") >= 6, outcomes


def test_readers_never_see_a_half_loaded_database(corpora: dict) -> None:
    db = corpora["base"] / "read.duckdb"
    shutil.copyfile(corpora["before"], db)
    stop = corpora["base"] / "stop-reading"
    reader = subprocess.Popen([sys.executable, "-c", READER_SCRIPT, str(db), str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        # a long-lived read-only connection neither blocks the load nor sees it
        held = connect_readonly(db)
        n_before = held.execute("SELECT count(*) FROM reports").fetchall()[0][0]
        run_load_here(db, corpora["new"])
        assert held.execute("SELECT count(*) FROM reports").fetchall()[0][0] == n_before
        held.close()
        second = make_corpus(corpora["base"] / "more", [f"另{i}乡" for i in range(20)], range(2021, 2024))
        run_load_here(db, second)
        time.sleep(1.0)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=120)
        stop.unlink()
    assert reader.returncode == 0, err.decode()
    report = json.loads(out.decode())
    assert report["errors"] == []
    n_old = 10 * 3
    n_after = n_old + 60 * 5
    assert set(report["seen"]) <= {n_old, n_after, n_after + 20 * 3}
    assert n_old in report["seen"] and n_after + 20 * 3 in report["seen"]
    assert report["reads"] > 5
    con = connect_readonly(db)
    assert con.execute("SELECT count(*) FROM reports").fetchall()[0][0] == n_after + 20 * 3
    con.close()


def test_two_loads_at_once_are_serialised_and_nothing_is_lost(corpora: dict) -> None:
    db = corpora["base"] / "two.duckdb"
    shutil.copyfile(corpora["before"], db)
    a = make_corpus(corpora["base"] / "a", [f"甲{i}镇" for i in range(15)], range(2021, 2023))
    b = make_corpus(corpora["base"] / "b", [f"乙{i}镇" for i in range(15)], range(2021, 2023))
    pa, pb = start_load(db, a), start_load(db, b)
    assert pa.wait(timeout=300) == 0, pa.stderr.read().decode()
    assert pb.wait(timeout=300) == 0, pb.stderr.read().decode()
    con = connect_readonly(db)
    try:
        assert con.execute("SELECT count(*) FROM reports").fetchall()[0][0] == 30 + 30 + 30
        assert con.execute("SELECT count(*) FROM runs").fetchall()[0][0] == 3
    finally:
        con.close()


def test_load_completes_while_a_review_waits(corpora: dict, tmp_path: Path) -> None:
    """A review mark made during a load is applied after it, to the loaded database."""
    from ingest.store.review import get_review, set_review

    db = tmp_path / "r.duckdb"
    shutil.copyfile(corpora["before"], db)
    con = connect_readonly(db)
    fid = con.execute("SELECT finding_id FROM findings ORDER BY finding_id LIMIT 1").fetchall()[0][0]
    con.close()
    p = start_load(db, corpora["new"])
    time.sleep(corpora["duration"] * 0.5)
    set_review(str(db), fid, "confirmed", "已核实", "王五")
    assert p.wait(timeout=300) == 0
    assert get_review(str(db), fid)["review_status"] == "confirmed"
    con = connect_readonly(db)
    assert con.execute("SELECT count(*) FROM reports").fetchall()[0][0] == 30 + 300
    con.close()


def test_ctrl_c_leaves_the_previous_state(corpora: dict) -> None:
    """SIGINT to the whole process group (what Ctrl-C in a terminal does), at several moments."""
    before_sha = file_sha(corpora["before"])
    after = digest(corpora["after"])
    for i, share in enumerate((0.3, 0.5, 0.7)):
        db = corpora["base"] / f"int{i}.duckdb"
        shutil.copyfile(corpora["before"], db)
        p = start_load(db, corpora["new"])
        time.sleep(corpora["duration"] * share)
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)
        code = p.wait(timeout=60)
        if file_sha(db) == before_sha:
            assert code != 0          # 130 with a plain message, or killed by SIGINT before the load began
        else:                         # the interrupt came after the swap: the load is complete
            assert digest(db) == after
        assert temp_glob(db) == []
