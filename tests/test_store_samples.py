"""Loading the real sample reports (../shared/samples) with the real parser."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ingest.store.db import connect_readonly
from ingest.store.loader import load_parsed, run_load
from tests.store_helpers import item_for, make_result, snapshot

try:
    from ingest.parse import parse_file  # noqa: F401
    HAVE_PARSER = True
except ImportError:                       # the parser is written in parallel; these tests wait for it
    HAVE_PARSER = False

pytestmark = pytest.mark.skipif(not HAVE_PARSER, reason="ingest.parse.parse_file 尚不可用")


def q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect_readonly(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def load(db: Path, *paths: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert run_load([str(p) for p in paths], db_path=str(db), progress=False, out=out, err=err) == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, request) -> Path:
    samples = request.getfixturevalue("samples_dir")
    db = tmp_path_factory.mktemp("samples") / "n.duckdb"
    load(db, samples)
    return db


def expected(samples_dir: Path, name: str) -> dict:
    return json.loads((samples_dir / f"{name}.expected.json").read_text(encoding="utf-8"))


def test_every_file_is_in_the_log(loaded: Path, samples_dir: Path) -> None:
    files = {str(p.resolve()) for p in samples_dir.rglob("*") if p.is_file() and not p.name.startswith(".")}
    logged = {r[0] for r in q(loaded, "SELECT file FROM ingest_log")}
    assert logged == files
    # rejected files say why, in Chinese
    for (reason,) in q(loaded, "SELECT reason FROM ingest_log WHERE outcome = 'rejected'"):
        assert reason and not reason.startswith("Traceback")


def test_one_current_report_per_unit_and_year(loaded: Path) -> None:
    assert q(loaded, "SELECT unit_id, year FROM reports WHERE status = 'current' GROUP BY ALL HAVING count(*) > 1") == []


def test_quangang_cells_provenance_and_findings(loaded: Path, samples_dir: Path) -> None:
    exp = expected(samples_dir, "quangang-2020")
    (rid, unit_id, template, status, fmt), = q(loaded, "SELECT report_id, unit_id, template, status, format FROM reports"
                                                     " WHERE file_name = 'quangang-2020.txt'")
    assert (unit_id, template, status, fmt) == ("丰城市/泉港镇", "2019", "current", "text")
    cells = {k: (v, raw, loc) for k, v, raw, loc in q(loaded, "SELECT key, value, raw, location FROM cells"
                                                          " WHERE report_id = ?", [rid])}
    assert set(cells) == set(exp["cells"])
    for key, want in exp["cells"].items():
        assert cells[key][0] == want, key
        assert cells[key][1] is not None and cells[key][2], key
    assert cells["s2.procurement.amount"][1] == "255933.8"
    findings = q(loaded, "SELECT rule, severity, message FROM v_findings WHERE report_id = ?", [rid])
    rules = [r for r, _, _ in findings]
    for rule in exp.get("findings_expected", []):
        assert rule in rules
    n1 = [f for f in findings if f[0] == "N-1"]
    assert n1 == [("N-1", "warning", "正文“收到依申请公开信息1件”与表三 第一项 本年新收政府信息公开申请数量 总计列不一致："
                                    "表中为 2，正文为 1")]
    m = q(loaded, "SELECT received, granted, noproc, result_total, procurement_wan, procurement_unit_unknown"
                  " FROM v_report_measures WHERE report_id = ?", [rid])
    assert m == [(2, 1, 1, 2, None, True)]


def test_pingtan_formats_are_one_report(loaded: Path, samples_dir: Path) -> None:
    exp = expected(samples_dir, "pingtan-2023")
    rows = q(loaded, "SELECT format, status, n_cells FROM reports WHERE unit_id = '平潭综合实验区' AND year = 2023")
    assert sorted(f for f, _, _ in rows) == ["docx", "html", "pdf"]
    assert [s for _, s, _ in rows].count("current") == 1
    assert all(s in ("current", "duplicate") for _, s, _ in rows), rows
    assert {n for _, _, n in rows} == {len(exp["cells"])}
    assert q(loaded, "SELECT count(*) FROM findings WHERE rule = 'CONFLICT'") == [(0,)]
    cur = dict(q(loaded, "SELECT key, value FROM v_cells WHERE unit_id = '平潭综合实验区' AND year = 2023"))
    assert cur == {k: v for k, v in exp["cells"].items()}
    (fee,) = q(loaded, "SELECT fee_wan FROM v_report_measures WHERE unit_id = '平潭综合实验区'")[0]
    assert fee == pytest.approx(5949.088667)


def test_loading_the_samples_again_changes_nothing(loaded: Path, samples_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "again.duckdb"
    db.write_bytes(loaded.read_bytes())
    before = snapshot(db)
    out = load(db, samples_dir)
    assert "新入库报告 0 份" in out
    assert snapshot(db) == before
    outcomes = {o for (o,) in q(db, "SELECT DISTINCT outcome FROM ingest_log WHERE run_id = 2")}
    assert outcomes <= {"unchanged", "duplicate", "rejected", "skipped"}


def test_cross_year_checks_against_a_real_report(samples_dir: Path, tmp_path: Path) -> None:
    """平潭 2023 (real HTML) after a 2022 report whose 结转下年度 and 现行有效件数 do not carry over."""
    db = tmp_path / "x.duckdb"
    prev = make_result(unit="平潭综合实验区", region=None, year=2022, level="其他",
                       overrides={"s3.carry_forward.natural": 5, "s2.normative.valid": 500})
    load_parsed(db, [item_for(prev, "/virtual/pingtan-2022.html")])
    load(db, samples_dir / "pingtan-2023.html")
    found = {f[0]: f[1:] for f in q(db, "SELECT keys[1], rule, expected, actual, message FROM v_findings"
                                         " WHERE rule IN ('X-1', 'X-2') AND year = 2023")}
    x1 = found["s3.carried_over.natural@2023"]
    assert x1[:3] == ("X-1", 5, 0)
    assert x1[3] == "表三 第二项 上年结转政府信息公开申请数量 自然人列：应为 5（2022年报告第四项结转下年度继续办理），报告为 0"
    x2 = found["s2.normative.valid@2023"]
    assert x2[:3] == ("X-2", 500 + 77 - 132, 470)


def test_cli_load_of_the_samples(samples_dir: Path, tmp_path: Path) -> None:
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "ingest", "load", str(samples_dir), "--db", str(tmp_path / "c.duckdb")],
                       capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    assert "入库完成" in r.stdout and "无法解析" in r.stdout
