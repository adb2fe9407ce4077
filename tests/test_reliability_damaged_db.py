"""A truncated DuckDB file, or one with damaged data blocks, is explained in plain Chinese on every
page (it used to end in a traceback: the error comes from the first query inside ``_attached``,
not from opening the file).  Found by issue 7; the other bug found then — one page mixing two
database versions during a swap — is still open (docs/reliability.md §6)."""

from __future__ import annotations

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
