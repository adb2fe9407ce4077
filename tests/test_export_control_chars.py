"""Control characters from report text or file names never stop an export (XLSX, CSV, DOCX).

XML 1.0 cannot hold C0 controls other than tab/newline/CR; one ``&#8;`` in an HTML cell or Word's
``\\x07``/``\\x0b`` used to make the 简报, the 整改清单 and table downloads fail.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from docx import Document

from dashboard.briefing import build_briefing, build_rectification
from dashboard.export import table_csv, table_xlsx, xml_text
from tests.export_db import build_synthetic_db

CONTROLS = "\x01\x07\x08\x0b"
BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def hostile(text: str) -> str:
    """``text`` with the controls spread through it: ``x`` → ``\\x01x\\x07…``."""
    return "".join(c + ch for c, ch in zip(CONTROLS * len(text), text, strict=False)) + CONTROLS


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_db(tmp_path_factory.mktemp("ctl"))


@pytest.fixture
def db(clean_db: Path, tmp_path: Path) -> Path:
    """The synthetic city with control characters in a unit name, a file name and every 2025 message."""
    p = tmp_path / "ctl.duckdb"
    shutil.copyfile(clean_db, p)
    con = duckdb.connect(str(p))
    try:
        con.execute("UPDATE findings SET message = ? || message WHERE year = 2025", [hostile("注意")])
        unit_id, name = con.execute("SELECT unit_id, name FROM units WHERE unit_id IN "
                                    "(SELECT unit_id FROM findings WHERE year = 2025) LIMIT 1").fetchone()
        con.execute("UPDATE units SET name = ? WHERE unit_id = ?", [hostile(name), unit_id])
        con.execute("UPDATE reports SET file_name = ? || file_name WHERE unit_id = ?", [hostile("文件"), unit_id])
    finally:
        con.close()
    return p


def test_xml_text_keeps_tab_newline_and_drops_controls():
    assert xml_text(f"甲{CONTROLS}乙\t丙\n丁\x00\x1f\ufffe") == "甲乙\t丙\n丁"


def test_briefing_docx_is_made_without_the_controls(db: Path):
    doc = Document(io.BytesIO(build_briefing(str(db), year=2025, area="测试市")))
    texts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    joined = "\n".join(texts)
    assert "注意" in joined and "文件" in joined
    assert not BAD.search(joined)


def test_rectification_xlsx_is_made_without_the_controls(db: Path):
    wb = openpyxl.load_workbook(io.BytesIO(build_rectification(str(db), year=2025, area="测试市")))
    values = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    assert any("注意" in v for v in values)
    assert not any(BAD.search(v) for v in values + wb.sheetnames)


def test_table_downloads_drop_the_controls():
    df = pl.DataFrame({hostile("单位"): [hostile("泉港镇"), "=1+1"], "件数": [1, 2]})
    wb = openpyxl.load_workbook(io.BytesIO(table_xlsx(df, hostile("表"), title=hostile("标题"))))
    ws = wb.active
    values = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "标题" in values and "单位" in values and "泉港镇" in values and ws.title == "表"
    assert not any(BAD.search(v) for v in values)
    csv = table_csv(df).decode("utf-8-sig")
    assert "泉港镇" in csv and not BAD.search(csv)
