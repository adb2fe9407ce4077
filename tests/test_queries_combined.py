"""Queries that answer two questions in one round trip (to save a query per page run) must give
what answering the questions separately gives."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard.data import options as options_q
from dashboard.data import report as report_q
from dashboard.data import snapshot as snapshot_q
from dashboard.data import trends as trends_q
from dashboard.scope import Scope
from tests.app_fixture import build_demo_db


@pytest.fixture(scope="module")
def demo(tmp_path_factory, request):
    db = build_demo_db(tmp_path_factory.mktemp("demo-q"))
    if db is None:
        pytest.skip("示例数据生成器（ingest.demo.generate）不可用")
    mp = pytest.MonkeyPatch()
    mp.setenv("NIANBAO_DB", str(db))
    snapshot_q.clear_caches()
    yield db
    snapshot_q.clear_caches()
    mp.undo()


def _scopes() -> list[Scope]:
    base = Scope()
    return [base, Scope(years=(2021, 2023)), Scope(years=(2019, 2019)),
            Scope(regions=(options_q.filter_options()["regions"][0],))]


def _all_chain_rows(scope: Scope) -> pl.DataFrame:
    src, p = trends_q._chain_from(scope)
    return snapshot_q.snap_query(f"SELECT * FROM {src}", p)


@pytest.mark.parametrize("limit_units", [60, 5, 0, "exact"])
def test_chain_overview_counts_filter_and_order(demo, limit_units) -> None:
    """Counts, the break-only switch, the order and the limit, recomputed here from every chain row."""
    for scope in _scopes():
        everything = _all_chain_rows(scope)
        want_counts = {s: everything.filter(pl.col("state") == s).height for s in trends_q.CHAIN_STATES}
        want_counts["units"] = everything["unit_id"].n_unique()
        # "exact", the boundary: as many units as the limit → every row
        limit = want_counts["units"] if limit_units == "exact" else limit_units
        counts, rows = trends_q.carry_chain_overview(scope, all_up_to_units=limit, limit=40)
        assert counts == want_counts
        want = everything if want_counts["units"] <= limit else everything.filter(pl.col("state") == "break")
        assert rows.height == min(want.height, 40)
        keys = ["unit_id", "year"]
        assert set(map(tuple, rows.select(keys).rows())) <= set(map(tuple, want.select(keys).rows()))
        order = [(r["state"] != "break", -abs(r["diff"] or 0)) for r in rows.iter_rows(named=True)]
        assert order == sorted(order)
        # what was cut by the limit never outranks what was kept
        if want.height > 40:
            kept = set(map(tuple, rows.select(keys).rows()))
            dropped = [(r["state"] != "break", -abs(r["diff"] or 0)) for r in want.iter_rows(named=True)
                       if (r["unit_id"], r["year"]) not in kept]
            assert min(dropped) >= order[-1]
        assert counts["units"] > 0 or rows.is_empty()


def test_chain_overview_of_an_empty_scope(demo) -> None:
    counts, rows = trends_q.carry_chain_overview(Scope(years=(1990, 1991)))
    assert counts == {"ok": 0, "break": 0, "unknown": 0, "no_prev": 0, "units": 0}
    assert rows.is_empty()


@pytest.mark.parametrize("measure", ["received", "rate", "errors"])
def test_top_units_figures_are_those_of_the_top_units(demo, measure) -> None:
    summed = not trends_q.MEASURES[measure][2]
    for scope in _scopes():
        got = trends_q.measure_by_top_units(scope, measure, 10)
        assert 0 < got["unit_id"].n_unique() <= 10
        # the same figures as asking for those units explicitly
        want = trends_q.measure_by_unit_year(scope, measure, got["unit_id"].unique().to_list())
        assert got.to_dicts() == want.to_dicts()
        if summed:
            # the chosen units are the 10 largest totals (SQL order: NULL last, then unit_id)
            everyone = trends_q.measure_by_unit_year(scope, measure, report_q.all_units()["unit_id"].to_list())
            totals = everyone.group_by("unit_id").agg(
                pl.when(pl.col("value").is_null().all()).then(None).otherwise(pl.col("value").sum()).alias("v"))
            top = totals.sort(["v", "unit_id"], descending=[True, False], nulls_last=True).head(10)
            assert set(got["unit_id"].to_list()) == set(top["unit_id"].to_list())
