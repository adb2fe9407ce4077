"""The briefing (.docx) and the 整改清单 (.xlsx): read back with python-docx / openpyxl and compared with
direct SQL on the database's base tables (not the views the exports read)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.table import Table

from dashboard.briefing import build_briefing, build_rectification, run_briefing_cli
from dashboard.briefing_data import BriefingError, load_briefing_data, split_message
from tests.export_db import build_demo_db, build_synthetic_db, demo_available, open_findings_sql

ROOT = Path(__file__).resolve().parents[1]
SECTION = re.compile(r"^（[一二三四五六七八九十百零]+）(.+?)：")
SEVERITY_WORDS = {"error": "错误", "warning": "警告", "info": "提示"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_db(tmp_path_factory.mktemp("briefing"))


@pytest.fixture(scope="module")
def docx_2025(db: Path):
    return Document(io.BytesIO(build_briefing(str(db), year=2025, area="测试市")))


def sql_scalar(db: Path, q: str, params: list | None = None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(q, params or []).fetchone()[0]
    finally:
        con.close()


def cell_sum(db: Path, key: str, year: int) -> float:
    return sql_scalar(db, """SELECT COALESCE(sum(c.value), 0) FROM cells c JOIN reports r USING (report_id)
                             WHERE r.status = 'current' AND r.year = ? AND c.key = ?""", [year, key])


def problem_sections(doc) -> list[tuple[str, object]]:
    """(township label, its table) for every Heading 2 of chapter 四 (the problem list)."""
    body = doc.element.body
    out, in_problems, pending = [], False, None
    for el in body.iterchildren():
        if el.tag == qn("w:p"):
            style = el.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            style = style.get(qn("w:val")) if style is not None else ""
            text = "".join(t.text or "" for t in el.iter(qn("w:t")))
            if style == "Heading1":
                in_problems = text.startswith("四、问题清单")
            elif style == "Heading2" and in_problems:
                m = SECTION.match(text)
                assert m, text
                pending = m.group(1)
        elif el.tag == qn("w:tbl") and pending is not None:
            out.append((pending, el))
            pending = None
    return out


def table_rows(tbl) -> list[list[str]]:
    """Cell texts of a table element (a line break inside a cell reads as a newline)."""
    return [[c.text for c in row.cells] for row in Table(tbl, None).rows]


def all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


# ------------------------------------------------------------------ the Word document

def test_title_scope_and_data_date(docx_2025) -> None:
    title = docx_2025.paragraphs[0]
    assert title.style.name == "Title"
    assert title.text == "测试市 2025 年度\n乡镇政府信息公开工作年度报告监测简报"
    text = all_text(docx_2025)
    assert "范围：乙县、甲区，共 7 个乡镇（街道）" in text or "范围：甲区、乙县，共 7 个乡镇（街道）" in text
    assert re.search(r"数据日期：\d{4}-\d{2}-\d{2}", text)
    headings = [p.text for p in docx_2025.paragraphs if p.style.name == "Heading 1"]
    assert headings[:4] == ["一、总体情况", "二、主要图表", "三、各乡镇（街道）情况排名", "四、问题清单（按乡镇（街道））"]


def test_key_figures_match_the_database(db: Path, docx_2025) -> None:
    figures = {row.cells[0].text: row.cells[1].text for row in docx_2025.tables[0].rows[1:]}
    reports = sql_scalar(db, "SELECT count(*) FROM reports WHERE status = 'current' AND year = 2025")
    units = sql_scalar(db, "SELECT count(*) FROM units")
    assert figures["乡镇（街道）数"] == f"{units} 个"
    assert figures["已发布年度报告"] == f"{reports} 个"
    assert figures["未发布年度报告"] == f"{units - reports} 个（渔歌镇）"
    assert figures["本年新收政府信息公开申请"] == f"{int(cell_sum(db, 's3.new_received.total', 2025))} 件"
    granted = cell_sum(db, "s3.granted.total", 2025) + cell_sum(db, "s3.partial.total", 2025)
    total = cell_sum(db, "s3.result_total.total", 2025)
    assert figures["公开率（予以公开＋部分公开）"] == f"{granted / total:.1%}"
    found = Counter(r[0] for r in sql_severities(db))
    assert figures["问题（不含已排除）"] == (f"错误 {found['error']} 条，警告 {found['warning']} 条，"
                                         f"提示 {found['info']} 条")


def sql_severities(db: Path) -> list[tuple[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("""SELECT f.severity FROM findings f LEFT JOIN finding_reviews r USING (finding_id)
                              WHERE f.year = 2025 AND COALESCE(r.status, 'open') <> 'dismissed'""").fetchall()
    finally:
        con.close()


def test_charts_are_embedded_pictures(docx_2025) -> None:
    shapes = docx_2025.inline_shapes
    assert len(shapes) == 3
    images = [rel.target_part for rel in docx_2025.part.rels.values() if "image" in rel.reltype]
    assert len(images) == 3
    for part in images:
        assert part.blob[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(part.blob) > 20_000
    captions = [p.text for p in docx_2025.paragraphs if p.style.name == "Caption"]
    assert [c[:2] for c in captions] == ["图1", "图2", "图3"]


def test_one_problem_section_per_township_with_open_problems(db: Path, docx_2025) -> None:
    expected = open_findings_sql(db, 2025)
    by_unit = Counter(name for name, _, _, _ in expected)
    sections = problem_sections(docx_2025)
    assert sorted(name for name, _ in sections) == sorted(by_unit)
    assert "栖云镇" not in by_unit                     # its only finding was dismissed
    for name, tbl in sections:
        rows = table_rows(tbl)
        assert rows[0] == ["序号", "严重程度", "问题所在", "问题说明", "应为", "报告为"]
        assert len(rows) - 1 == by_unit[name], name
        shown = {(r[2].split("\n")[0], r[3]) for r in rows[1:]}
        for unit, _, _, message in expected:
            if unit == name:
                where, what = split_message(message)
                assert (where or "—", what) in shown


def test_problem_rows_show_where_expected_and_actual(docx_2025) -> None:
    rows = dict(problem_sections(docx_2025))
    mh = table_rows(rows["明湖街道"])
    s32 = next(r for r in mh if r[3] == "应为 2（各办理结果之和），报告为 3")
    assert s32[1] == "错误"
    assert s32[2].startswith("表三 第（七）项总计 自然人列")
    assert "原文表格" in s32[2]                           # where the cell sits in the source file
    assert (s32[4], s32[5]) == ("2", "3")
    n1 = next(r for r in mh if r[1] == "警告")
    assert n1[2].startswith("正文“收到依申请公开信息1件”与表三 第一项")
    yx = table_rows(rows["砚溪镇"])
    assert yx[1][1] == "提示（已确认）"
    assert table_rows(rows["渔歌镇"])[1][3].startswith("渔歌镇 缺少 2025 年度报告")


def test_dismissed_findings_are_not_in_the_briefing(db: Path, docx_2025) -> None:
    dismissed = sql_scalar(db, """SELECT f.message FROM findings f JOIN finding_reviews r USING (finding_id)
                                  WHERE r.status = 'dismissed'""")
    assert dismissed
    text = all_text(docx_2025)
    assert split_message(dismissed)[1] not in text


def test_ranking_table_lists_every_unit_with_unique_labels(db: Path, docx_2025) -> None:
    rank = docx_2025.tables[1]
    header = [c.text for c in rank.rows[0].cells]
    assert header[:4] == ["排名", "乡镇（街道）", "所属地区", "报告状态"]
    labels = [row.cells[1].text for row in rank.rows[1:]]
    assert len(labels) == sql_scalar(db, "SELECT count(*) FROM units")
    assert len(set(labels)) == len(labels)
    assert {"城关镇（甲区）", "城关镇（乙县）"} <= set(labels)
    assert labels[0] == "明湖街道"                                  # the most errors first
    assert [row.cells[0].text for row in rank.rows[1:]] == [str(i) for i in range(1, len(labels) + 1)]


def test_word_styles_carry_east_asian_fonts(docx_2025) -> None:
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        rfonts = docx_2025.styles[name].element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        assert rfonts is not None and rfonts.get(qn("w:eastAsia")), name
        assert rfonts.get(qn("w:eastAsiaTheme")) is None, name
    assert all(t.style.name == "Table Grid" for t in docx_2025.tables)


def test_filters_narrow_the_briefing(db: Path) -> None:
    doc = Document(io.BytesIO(build_briefing(str(db), year=2025, region="乙县")))
    assert [name for name, _ in problem_sections(doc)] == ["渔歌镇"]
    assert "范围：乙县，共 3 个乡镇（街道）" in all_text(doc)
    doc = Document(io.BytesIO(build_briefing(str(db), year=2025, townships=["明湖街道", "栖云镇"])))
    assert [name for name, _ in problem_sections(doc)] == ["明湖街道"]
    assert doc.paragraphs[0].text == "2025 年度\n乡镇政府信息公开工作年度报告监测简报"


def test_dashboard_scope_maps_to_the_briefing_filter(db: Path) -> None:
    from dashboard.briefing_data import scope_kwargs
    from dashboard.scope import Scope

    kw = scope_kwargs(Scope(years=(2023, 2025), regions=("甲区",), levels=("街道",), templates=("2021",),
                            severities=("error",)))
    assert kw == {"year": 2025, "region": ["甲区"], "townships": None, "levels": ["街道"], "name_contains": None}
    d = load_briefing_data(str(db), **kw)
    assert d.units["unit"].to_list() == ["明湖街道"]
    assert d.scope == "范围：甲区；层级：街道，共 1 个乡镇（街道）"
    d = load_briefing_data(str(db), **scope_kwargs(Scope(name="城关", regions=("甲区", "乙县"))))
    assert sorted(d.units["label"].to_list()) == ["城关镇（乙县）", "城关镇（甲区）"]
    assert d.year == 2025 and d.findings.is_empty()
    d = load_briefing_data(str(db), **scope_kwargs(Scope(units=("甲区/明湖街道", "乙县/渔歌镇"))))
    assert sorted(d.units["unit"].to_list()) == ["明湖街道", "渔歌镇"]
    assert sorted(set(d.findings["unit"].to_list())) == ["明湖街道", "渔歌镇"]


def test_a_year_without_problems_says_so(db: Path) -> None:
    doc = Document(io.BytesIO(build_briefing(str(db), year=2024)))
    assert problem_sections(doc) == []
    assert "所选范围内未发现未排除的问题。" in [p.text for p in doc.paragraphs]


def test_unknown_year_region_or_township_is_a_plain_chinese_error(db: Path) -> None:
    with pytest.raises(BriefingError, match="没有 2030 年度的报告"):
        load_briefing_data(str(db), year=2030)
    with pytest.raises(BriefingError, match="没有地区“丙市”"):
        load_briefing_data(str(db), year=2025, region="丙市")
    with pytest.raises(BriefingError, match="没有乡镇"):
        load_briefing_data(str(db), year=2025, townships=["不存在镇"])


def test_latest_year_is_the_default(db: Path) -> None:
    assert load_briefing_data(str(db), year=None).year == 2025


# ------------------------------------------------------------------ the workbook

def sheet_rows(ws) -> tuple[list[str], list[dict]]:
    header_row = 2                                     # row 1 is the title
    header = [c.value for c in ws[header_row]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=header_row + 1)]
    return header, rows


def test_rectification_summary_matches_sql(db: Path) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(build_rectification(str(db), year=2025)))
    ws = wb["汇总"]
    assert ws.freeze_panes == "A3"
    header, rows = sheet_rows(ws)
    assert header[:8] == ["序号", "乡镇（街道）", "所属地区", "年度", "严重程度", "规则", "问题所在", "问题说明"]
    assert {"应为", "报告为", "审核状态", "整改情况（由乡镇填写）"} <= set(header)
    expected = open_findings_sql(db, 2025)
    got = sorted((r["乡镇（街道）"], r["所属地区"], r["规则"],
                  (r["问题所在"] + "：" if r["问题所在"] != "—" else "") + r["问题说明"]) for r in rows)
    assert got == expected
    assert all(r["年度"] == 2025 for r in rows)
    assert ws.cell(row=3, column=header.index("年度") + 1).number_format == "0"      # 2025, not 2,025
    assert {r["审核状态"] for r in rows} == {"待处理", "已确认"}
    s32 = next(r for r in rows if r["规则"] == "S3-2")
    assert (s32["应为"], s32["报告为"], s32["严重程度"]) == (2, 3, "错误")


def test_rectification_has_one_sheet_per_township_with_problems(db: Path) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(build_rectification(str(db), year=2025)))
    expected = Counter(name for name, _, _, _ in open_findings_sql(db, 2025))
    assert wb.sheetnames[0] == "汇总"
    assert sorted(wb.sheetnames[1:]) == sorted(expected)
    for name, n in expected.items():
        ws = wb[name]
        assert name in ws["A1"].value
        header, rows = sheet_rows(ws)
        assert "乡镇（街道）" not in header and "规则" in header
        assert len(rows) == n
        assert ws.freeze_panes == "A3"


def test_rectification_sheet_names_are_valid_for_any_unit_name(tmp_path: Path) -> None:
    from ingest.store.loader import load_parsed
    from tests.store_helpers import item_for, make_result

    long_name = "很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长街道"   # 32 characters
    finding = {"rule": "S3-2", "severity": "error", "keys": ["s3.result_total.natural"], "expected": 1,
               "actual": 2, "message": "表三 第（七）项总计 自然人列：应为 1（各办理结果之和），报告为 2"}
    items = [item_for(make_result(unit=u, region=r, year=2025, findings=[finding], seed=i), path=f"/v/{i}.txt")
             for i, (u, r) in enumerate([(long_name, "甲区"), ("城关镇", "甲区"), ("城关镇", "乙县")])]
    db = tmp_path / "names.duckdb"
    load_parsed(db, items)
    wb = openpyxl.load_workbook(io.BytesIO(build_rectification(str(db), year=2025)))
    names = wb.sheetnames[1:]
    assert len(names) == 3 and len({n.lower() for n in names}) == 3
    assert all(len(n) <= 31 for n in names)
    assert {"城关镇（甲区）", "城关镇（乙县）"} <= set(names)


# ------------------------------------------------------------------ the command line

def test_cli_writes_both_files(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, rect = tmp_path / "新建文件夹" / "简报.docx", tmp_path / "整改清单.xlsx"
    assert run_briefing_cli(str(db), 2025, None, str(out), str(rect)) == 0
    printed = capsys.readouterr().out
    assert f"简报已写入：{out}" in printed and f"整改清单已写入：{rect}" in printed
    assert Document(str(out)).paragraphs[0].text.endswith("2025 年度\n乡镇政府信息公开工作年度报告监测简报")
    assert "汇总" in openpyxl.load_workbook(rect).sheetnames
    assert not [p for p in tmp_path.rglob("*.tmp")]


@pytest.mark.parametrize(("db_name", "year", "region", "message"), [
    ("nope.duckdb", 2025, None, "数据库文件不存在"),
    (None, 2030, None, "没有 2030 年度的报告"),
    (None, 2025, "丙市", "没有地区“丙市”"),
])
def test_cli_errors_are_plain_chinese(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      db_name: str | None, year: int, region: str | None, message: str) -> None:
    out = tmp_path / "b.docx"
    path = str(tmp_path / db_name) if db_name else str(db)
    assert run_briefing_cli(path, year, region, str(out), None) == 2
    err = capsys.readouterr().err
    assert err.startswith("无法生成简报：") and message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_cli_unwritable_output(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "已存在的文件夹"
    target.mkdir()
    assert run_briefing_cli(str(db), 2025, None, str(target), None) == 1
    assert "无法写入" in capsys.readouterr().err


def test_python_m_ingest_briefing(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "briefing.docx"
    proc = subprocess.run([sys.executable, "-m", "ingest", "briefing", "--db", str(db), "--year", "2025",
                           "--out", str(out), "--rectification", str(tmp_path / "r.xlsx")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "简报已写入" in proc.stdout and out.is_file() and (tmp_path / "r.xlsx").is_file()


# ------------------------------------------------------------------ the demo city

@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not demo_available():
        pytest.skip("示例数据生成器 ingest/demo/generate.py 尚不存在")
    return build_demo_db(tmp_path_factory.mktemp("demo"))


@pytest.mark.slow
def test_demo_city_briefing_and_rectification(demo_db: Path) -> None:
    year = sql_scalar(demo_db, "SELECT max(year) FROM reports WHERE status = 'current'")
    doc = Document(io.BytesIO(build_briefing(str(demo_db), year=None)))
    assert doc.paragraphs[0].text.endswith(f"{year} 年度\n乡镇政府信息公开工作年度报告监测简报")
    assert len(doc.inline_shapes) == 3
    expected = open_findings_sql(demo_db, year)
    assert expected, "the demo city plants problems in its latest year"
    labels = {name for name, _ in problem_sections(doc)}
    assert labels == {name for name, _, _, _ in expected}       # demo unit names are unique
    wb = openpyxl.load_workbook(io.BytesIO(build_rectification(str(demo_db), year=None)))
    _, rows = sheet_rows(wb["汇总"])
    assert len(rows) == len(expected)
    assert len(wb.sheetnames) == 1 + len(labels)
    sev = Counter(r["严重程度"] for r in rows)
    figures = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows[1:]}
    assert figures["问题（不含已排除）"] == (f"错误 {sev['错误']} 条，警告 {sev['警告']} 条，提示 {sev['提示']} 条")
