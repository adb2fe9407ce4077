"""Two bugs found by issue 7 (docs/reliability.md §6):

* a truncated DuckDB file, or one with damaged data blocks, is explained in plain Chinese on every
  page (it used to end in a traceback: the error comes from the first query inside ``_attached``,
  not from opening the file);
* one page never mixes two database versions when a load swaps the file in the middle of a script
  run (it used to: the key figures came from the old file and the submission table from the new).
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.reliability_kit import BEFORE_COUNTY, county, demo_corpus, load_here
from tests.test_reliability_app import PAGES, assert_explained
from tests.test_reliability_load import CORRUPTIONS

APP = str(Path(__file__).resolve().parent.parent / "app.py")
KPIS = ["乡镇（街道）数", "已入库年报", "未发布年报", "收到申请（本年新收）", "公开率"]


@pytest.fixture(scope="module")
def two_states(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("mix")
    city = demo_corpus(tmp_path_factory.getbasetemp())
    old, new = base / "old.duckdb", base / "new.duckdb"
    assert load_here(old, [county(city, BEFORE_COUNTY)]) == 0
    shutil.copyfile(old, new)
    assert load_here(new, [county(city, "星渚县")]) == 0
    return old, new


def kpis(at: AppTest) -> dict:
    """What the overview shows, from several queries: key figures, severity cards, the status matrix's data."""
    shown: dict = {m.label: m.value for m in at.metric if m.label in KPIS}
    shown["cards"] = [h.value for h in at.get("html") if "条</span>" in h.value]
    shown["tables"] = [d.value.to_csv() for d in at.dataframe]
    return shown


@pytest.mark.parametrize("kind", ["truncated", "blocks-damaged"])
def test_truncated_or_block_damaged_database_is_explained(two_states, tmp_path, monkeypatch, kind) -> None:
    db = tmp_path / "nianbao.duckdb"
    db.write_bytes(CORRUPTIONS[kind](two_states[0].read_bytes(), random.Random(kind)))
    monkeypatch.setenv("NIANBAO_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for page in PAGES:
        at.switch_page(page).run()
        assert_explained(at, db)


# ---------------------------------------------------------------- one page, one database version


def figures(at: AppTest) -> dict:
    """Every figure of the overview and its sidebar that depends on the data."""
    shown = kpis(at)
    shown["metrics"] = {m.label: m.value for m in at.metric}
    shown["regions"] = list(at.sidebar.multiselect(key="region").options) if at.sidebar.multiselect else None
    shown["years"] = (at.sidebar.slider(key="years").min, at.sidebar.slider(key="years").max) \
        if at.sidebar.slider else None
    return shown


def swap_before_query(monkeypatch, db: Path, to: Path, k: int | None) -> list[int]:
    """Replace ``db`` by a copy of ``to`` (``os.replace``, as a load does) just before the ``k``-th query of the
    query layer from now on (``k`` None: before every query, alternating between ``to`` and the file as it was)."""
    from dashboard.data import (
        admin,
        connection,
        findings,
        options,
        outcomes,
        overview,
        procurement,
        report,
        snapshot,
        trends,
        volume,
    )

    calls = [0]
    before = db.with_name("was.duckdb")
    shutil.copyfile(db, before)

    def swap(src: Path) -> None:
        tmp = db.with_name("swap.duckdb")
        shutil.copyfile(src, tmp)
        os.replace(tmp, db)

    def wrap(real):
        def query(*args, **kwargs):
            if k is None:
                swap(to if calls[0] % 2 == 0 else before)
            elif calls[0] == k:
                swap(to)
            calls[0] += 1
            return real(*args, **kwargs)
        return query

    # every module of the query layer that calls them holds its own reference
    modules = (admin, connection, findings, options, outcomes, overview, procurement, report, snapshot, trends, volume)
    for name in ("snap_query", "file_query"):
        for module in modules:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, wrap(getattr(module, name)))
    return calls


def references(two_states, db: Path, monkeypatch) -> tuple[dict, int]:
    """What 总览 shows on the old and on the new database, and how many queries a run makes."""
    reference, n_queries = {}, 0
    for name, src in zip(("old", "new"), two_states, strict=True):
        shutil.copyfile(src, db)
        with monkeypatch.context() as m:
            calls = swap_before_query(m, db, src, -1)            # counts the queries, never swaps
            at = AppTest.from_file(APP, default_timeout=60)
            at.run()
        assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
        reference[name] = figures(at)
        n_queries = max(n_queries, calls[0])
    return reference, n_queries


def test_one_page_never_mixes_two_database_versions(two_states, tmp_path, monkeypatch) -> None:
    """The file is swapped from one county to two between the k-th and the (k+1)-th query of a run of 总览, for
    every k: the page shows the old database throughout or the new one throughout, never a mixture."""
    old, new = two_states
    db = tmp_path / "nianbao.duckdb"
    monkeypatch.setenv("NIANBAO_DB", str(db))
    reference, n_queries = references(two_states, db, monkeypatch)
    assert reference["old"] != reference["new"]
    for key in ("metrics", "cards", "tables", "regions"):
        assert reference["old"][key] != reference["new"][key], f"{key} is the same in both versions: the test proves less"
    assert n_queries >= 8, n_queries
    outcomes = []
    for k in range(n_queries):
        shutil.copyfile(old, db)
        with monkeypatch.context() as m:
            swap_before_query(m, db, new, k)
            at = AppTest.from_file(APP, default_timeout=60)
            at.run()
        assert not at.exception and not at.error, (k, [e.value for e in [*at.exception, *at.error]])
        shown = figures(at)
        mixed = {key: ("old" if v == reference["old"][key] else "new" if v == reference["new"][key] else "?")
                 for key, v in shown.items()}
        assert shown in (reference["old"], reference["new"]), f"swap before query {k}: {mixed}"
        outcomes.append("old" if shown == reference["old"] else "new")
    assert "new" in outcomes, outcomes                           # the swaps were seen


def test_a_file_that_keeps_changing_gives_a_plain_message(two_states, tmp_path, monkeypatch) -> None:
    """If the file is replaced before every single query (a page can never finish on one version), the page
    tries again a few times and then says in plain Chinese that the data is being updated — no mixture in
    what it did draw, no error box, no endless reruns."""
    from dashboard import ui

    old, new = two_states
    db = tmp_path / "nianbao.duckdb"
    monkeypatch.setenv("NIANBAO_DB", str(db))
    reference, n_queries = references(two_states, db, monkeypatch)
    shutil.copyfile(old, db)
    with monkeypatch.context() as m:
        calls = swap_before_query(m, db, new, None)
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert any("正在更新" in w.value for w in at.warning), [w.value for w in at.warning]
    assert 0 < calls[0] <= (ui.MAX_VERSION_RERUNS + 1) * n_queries, calls[0]
    shown = {m.label: m.value for m in at.metric}                # what was drawn is of one version
    assert any(all(reference[v]["metrics"].get(label) == value for label, value in shown.items())
               for v in ("old", "new")), shown
    at.run()                                                     # once the file holds still, the page is back
    assert not at.exception and not at.error and not at.warning
    assert figures(at) in (reference["old"], reference["new"])
