"""Issue 7, the app under real use: several users while loads run, and a damaged database file.

Users are ``AppTest`` sessions.  AppTest is not thread-safe (each run swaps the global
``Runtime._instance`` and resets ``PagesManager.uses_pages_directory``), so the sessions take turns
run by run (interleaved, sharing the process-wide ``st.cache_data``/``st.cache_resource`` caches as
sessions of one server do), while real ``python -m ingest load`` processes swap the database file
underneath them.  A thread-level test of the query layer (four threads at once) is in
:func:`test_query_layer_from_four_threads_while_the_file_is_swapped`.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.pages_list import PAGES as PAGE_LIST
from tests.reliability_kit import BEFORE_COUNTY, cli_load, county, demo_corpus, load_here
from tests.test_reliability_load import CORRUPTIONS

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = [p.script for p in PAGE_LIST]
LATER_COUNTIES = ["星渚县", "澄湖区", "雾屿县"]         # loaded one after another while the users work
USERS = 4


@pytest.fixture(scope="module")
def before_db(tmp_path_factory) -> tuple[Path, Path]:
    """(demo city folder, a database holding one county of it)."""
    base = tmp_path_factory.mktemp("reliability_app")
    city = demo_corpus(tmp_path_factory.getbasetemp())
    db = base / "before.duckdb"
    assert load_here(db, [county(city, BEFORE_COUNTY)]) == 0
    return city, db


@pytest.fixture
def live_db(before_db, tmp_path, monkeypatch) -> Path:
    db = tmp_path / "nianbao.duckdb"
    shutil.copyfile(before_db[1], db)
    monkeypatch.setenv("NIANBAO_DB", str(db))
    monkeypatch.setenv("NIANBAO_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.delenv("NIANBAO_ADMIN_PASSWORD", raising=False)
    return db


def current_reports(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM reports WHERE status = 'current'").fetchall()[0][0]
    finally:
        con.close()


def problems(at: AppTest) -> list[str]:
    """Exceptions and error boxes of a run (an error box is what a user would see as a failure)."""
    return [f"exception: {e.value}" for e in at.exception] + [f"error: {e.value}" for e in at.error]


def metric(at: AppTest, label: str) -> str | None:
    return next((m.value for m in at.metric if m.label == label), None)


def all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [c.value for c in at.caption]
    parts += [t.value for t in at.text] + [i.value for i in at.info] + [e.value for e in at.exception]
    return "\n".join(str(p) for p in parts)


# ---------------------------------------------------------------- users while loads run


def _act(at: AppTest, rng: random.Random) -> str:
    """One thing a user does: open a page, pick counties, narrow the years, or clear the filters."""
    choice = rng.random()
    if choice < 0.4:
        page = rng.choice(PAGES)
        at.switch_page(page)
        return f"open {page}"
    if choice < 0.65 and at.sidebar.multiselect:
        region = at.sidebar.multiselect(key="region")
        picked = rng.sample(region.options, k=min(len(region.options), rng.randint(1, 2)))
        region.set_value(picked)
        return f"regions {picked}"
    if choice < 0.85 and at.sidebar.slider:
        years = at.sidebar.slider(key="years")
        lo, hi = int(years.min), int(years.max)
        a = rng.randint(lo, hi - 1)
        years.set_value((a, rng.randint(a + 1, hi)))
        return f"years {years.value}"
    if at.sidebar.multiselect:
        at.sidebar.multiselect(key="region").set_value([])
        at.sidebar.text_input(key="q").set_value("")
        if at.sidebar.slider:
            s = at.sidebar.slider(key="years")
            s.set_value((int(s.min), int(s.max)))
    return "clear"


def test_four_users_switch_pages_and_filters_while_loads_run(before_db, live_db) -> None:
    """Four sessions take turns (pages, county and year filters) while three loads of the demo city run in
    another process: no exception and no error box in any run; when the loads are done every session shows
    the final database (no stale cache), and the sessions did see the data change under them."""
    city, _ = before_db
    rng = random.Random(77)
    sessions = []
    for _ in range(USERS):
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert problems(at) == []
        sessions.append(at)
    results: list[tuple[str, int, str]] = []

    def loads() -> None:
        for name in LATER_COUNTIES:
            done = cli_load(live_db, [county(city, name)])
            results.append((name, done.returncode, done.stderr[-500:]))

    loader = threading.Thread(target=loads)
    loader.start()
    seen_counts: set[str] = set()
    runs = 0
    try:
        while loader.is_alive() or runs < 8 * USERS:
            for i, at in enumerate(sessions):
                did = _act(at, rng)
                at.run()
                runs += 1
                assert problems(at) == [], f"user {i} after '{did}' (run {runs})"
                n = metric(at, "已入库年报")
                if n is not None:
                    seen_counts.add(n)
            if runs > 400:
                break
    finally:
        loader.join(timeout=600)
    assert [(n, c) for n, c, _ in results] == [(n, 0) for n in LATER_COUNTIES], results
    final = current_reports(live_db)
    for i, at in enumerate(sessions):
        at.switch_page("pages/overview.py")
        at.sidebar.multiselect(key="region").set_value([])
        s = at.sidebar.slider(key="years")
        s.set_value((int(s.min), int(s.max)))
        at.run()
        assert problems(at) == [], f"user {i}, final run"
        assert metric(at, "已入库年报") == f"{final:,}", f"user {i} does not see the final database"
    print(f"{runs} runs, report counts seen: {sorted(seen_counts)}")
    assert len(seen_counts) >= 2, f"the sessions never saw the data change ({seen_counts}); the test proves nothing"


def test_query_layer_from_four_threads_while_the_file_is_swapped(before_db, live_db, tmp_path) -> None:
    """What a real server does: the scripts of several sessions run in threads at once and share the query
    layer's caches and its snapshot.  Four threads query while the database file is swapped (os.replace,
    as a load does) 12 times between two contents: no thread ever gets an exception, and each call sees one
    of the two contents."""
    from dashboard.data import findings as findings_q
    from dashboard.data import overview as overview_q
    from dashboard.data import snapshot as snapshot_q
    from dashboard.scope import Scope

    city, before = before_db
    other = tmp_path / "other.duckdb"
    shutil.copyfile(before, other)
    assert load_here(other, [county(city, LATER_COUNTIES[0])]) == 0
    expected = {current_reports(before), current_reports(other)}
    errors: list[str] = []
    seen: set[int] = set()
    counts = [0] * USERS
    stop = threading.Event()
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    def user(i: int) -> None:
        rng = random.Random(i)
        while not stop.is_set():
            try:
                snapshot_q.check_database()
                scope = Scope(years=(2019 + rng.randint(0, 3), 2025)) if rng.random() < 0.5 else Scope()
                k = overview_q.overview_kpis(scope)
                findings_q.findings(scope, limit=10)
                if scope.years is None:
                    seen.add(int(k["reports"]))
                counts[i] += 1
            except Exception as e:  # any exception in any thread fails the test
                errors.append(f"user {i}: {type(e).__name__}: {str(e)[:300]}")

    threads = [threading.Thread(target=user, args=(i,)) for i in range(USERS)]
    for t in threads:
        t.start()
    try:
        for j in range(12):
            time.sleep(0.4)
            tmp = tmp_path / "swap.duckdb"
            shutil.copyfile(other if j % 2 == 0 else before, tmp)
            os.replace(tmp, live_db)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert errors == [], errors[:5]
    assert min(counts) > 0, counts
    assert seen <= expected and len(seen) == 2, (seen, expected)


# ---------------------------------------------------------------- a damaged database file

# Kinds of damage that fail when the file is attached.  "truncated" and "blocks-damaged" fail only when a
# query reaches the bad part: tests/test_reliability_damaged_db.py checks those on every page.
APP_EXPLAINS = ["random-bytes", "zero-length", "text-file", "docx-file", "header-damaged"]


def assert_explained(at: AppTest, db: Path) -> None:
    assert not at.exception, [e.value for e in at.exception]
    msg = "\n".join(e.value for e in at.error)
    assert "无法读取" in msg and str(db) in msg, msg
    assert "页面显示时出错" not in msg, msg                     # not the generic safety net
    text = all_text(at)
    assert "python -m ingest load" in text, text                 # how to rebuild
    assert "Traceback" not in text, text


@pytest.mark.parametrize("kind", APP_EXPLAINS)
def test_damaged_database_is_explained_on_every_page(before_db, live_db, kind) -> None:
    live_db.write_bytes(CORRUPTIONS[kind](before_db[1].read_bytes(), random.Random(kind)))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for page in PAGES:
        at.switch_page(page).run()
        assert_explained(at, live_db)


def test_database_damaged_while_in_use_then_rebuilt(before_db, live_db, tmp_path) -> None:
    """A session is open when the file is replaced by a damaged one: the next click explains it; once the file
    is rebuilt, the same session shows the data again (nothing stuck in a cache)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    good = metric(at, "已入库年报")
    assert problems(at) == [] and good is not None
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(CORRUPTIONS["header-damaged"](before_db[1].read_bytes(), random.Random(1)))
    os.replace(bad, live_db)
    at.switch_page("pages/volume.py").run()
    assert_explained(at, live_db)
    at.switch_page("pages/overview.py").run()
    assert_explained(at, live_db)
    tmp = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(before_db[1], tmp)
    os.replace(tmp, live_db)
    at.run()
    assert problems(at) == []
    assert metric(at, "已入库年报") == good
