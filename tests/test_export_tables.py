"""Table downloads: CSV with a UTF-8 BOM that round-trips, XLSX with Chinese headers, number formats and a frozen header."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pandas as pd
import polars as pl
import pytest

from dashboard.export import BOM, FMT_INT, FMT_PCT, FMT_WAN, sheet_title, table_csv, table_xlsx


def sample() -> pl.DataFrame:
    return pl.DataFrame({
        "乡镇（街道）": ["明湖街道", "栖云镇", "城关镇（乙县）"],
        "本年新收申请（件）": [31, 0, 7],
        "办理结果总计（件）": [30.0, None, 7.0],        # whole numbers stored as float
        "公开率": [0.5833, None, 1.0],
        "采购总金额（万元）": [12.5, 0.0, 1234.567],
        "平均值": [1.25, 2.0, None],
        "发布日期": [dt.date(2026, 1, 20), None, dt.date(2026, 3, 2)],
        "涉及单元格": [["s3.granted.total", "s3.partial.total"], [], None],
        "备注": ["含“引号”,逗号", "换行\n第二行", None],
    })


def read_csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_starts_with_bom_and_round_trips() -> None:
    df = sample()
    data = table_csv(df)
    assert data.startswith(BOM)
    assert not data[len(BOM):].startswith(BOM)
    rows = read_csv_rows(data)
    assert rows[0] == df.columns                        # Chinese headers, in order
    assert len(rows) == df.height + 1
    back = pl.read_csv(io.BytesIO(data[len(BOM):]), schema_overrides={"发布日期": pl.Date})
    for name in ("乡镇（街道）", "本年新收申请（件）", "公开率", "采购总金额（万元）", "备注", "发布日期"):
        assert back[name].to_list() == df[name].to_list(), name
    assert back["涉及单元格"].to_list() == ["s3.granted.total、s3.partial.total", "", None]


def test_csv_accepts_pandas() -> None:
    pdf = pd.DataFrame({"单位": ["甲镇", "乙街道"], "件数": [1, 2]}, index=[5, 9])
    rows = read_csv_rows(table_csv(pdf))
    assert rows == [["单位", "件数"], ["甲镇", "1"], ["乙街道", "2"]]


def load_sheet(data: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert len(wb.sheetnames) == 1
    return wb[wb.sheetnames[0]]


def test_xlsx_headers_frozen_and_values() -> None:
    df = sample()
    ws = load_sheet(table_xlsx(df, "排名"))
    assert ws.title == "排名"
    assert [c.value for c in ws[1]] == df.columns
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == df.height + 1
    assert ws["A2"].value == "明湖街道"
    assert ws["B2"].value == 31
    assert ws["C3"].value is None                      # missing stays empty, never 0
    assert ws["H2"].value == "s3.granted.total、s3.partial.total"
    assert ws.auto_filter.ref == f"A1:I{df.height + 1}"


def test_xlsx_number_formats() -> None:
    ws = load_sheet(table_xlsx(sample(), "数据"))
    fmt = {ws.cell(row=1, column=j).value: ws.cell(row=2, column=j).number_format for j in range(1, 10)}
    assert fmt["本年新收申请（件）"] == FMT_INT
    assert fmt["办理结果总计（件）"] == FMT_INT
    assert fmt["公开率"] == FMT_PCT
    assert fmt["采购总金额（万元）"] == FMT_WAN == "#,##0.00"
    assert fmt["平均值"] == "#,##0.00"
    assert fmt["发布日期"] == "yyyy-mm-dd"
    assert fmt["乡镇（街道）"] == "General"


def test_xlsx_years_and_serial_numbers_have_no_thousands_separator() -> None:
    ws = load_sheet(table_xlsx(pl.DataFrame({"序号": [1, 2], "年度": [2024, 2025], "申请数": [1200, 3]}), "x"))
    assert (ws["A2"].number_format, ws["B2"].number_format, ws["C2"].number_format) == ("0", "0", FMT_INT)


def test_xlsx_rate_outside_fraction_is_not_percent() -> None:
    ws = load_sheet(table_xlsx(pl.DataFrame({"增长率（%）": [12.5, 40.0]}), "x"))
    assert ws["A2"].number_format != FMT_PCT


def test_xlsx_title_row_and_widths() -> None:
    df = sample()
    ws = load_sheet(table_xlsx(df, "问题清单", title="2025 年度问题清单"))
    assert ws["A1"].value == "2025 年度问题清单"
    assert [c.value for c in ws[2]] == df.columns
    assert ws.freeze_panes == "A3"
    assert ws.max_row == df.height + 2
    widths = {ws.cell(row=2, column=j).value: ws.column_dimensions[ws.cell(row=2, column=j).column_letter].width
              for j in range(1, len(df.columns) + 1)}
    assert widths["乡镇（街道）"] >= 14                    # 7 CJK characters are 14 columns wide
    assert all(6 <= w <= 62 for w in widths.values())


def test_xlsx_accepts_pandas_and_empty_frames() -> None:
    ws = load_sheet(table_xlsx(pd.DataFrame({"单位": ["甲镇"], "件数": [3]}), "a"))
    assert [c.value for c in ws[1]] == ["单位", "件数"] and ws["B2"].value == 3
    ws = load_sheet(table_xlsx(pl.DataFrame(schema={"单位": pl.String, "件数": pl.Int64}), "空"))
    assert [c.value for c in ws[1]] == ["单位", "件数"] and ws.max_row == 1


HOSTILE = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "-3", "-0.5",
           "<script>alert('x')</script>镇", "普通文字"]


def test_csv_defuses_formulas() -> None:
    rows = read_csv_rows(table_csv(pl.DataFrame({"单位": HOSTILE, "件数": list(range(len(HOSTILE)))})))
    shown = [r[0] for r in rows[1:]]
    assert shown[:4] == ["'" + h for h in HOSTILE[:4]]
    assert shown[4:] == HOSTILE[4:]                    # numbers and ordinary text are left alone
    assert rows[1 + 4][1] == "4"


def test_xlsx_never_writes_formulas() -> None:
    ws = load_sheet(table_xlsx(pl.DataFrame({"单位": HOSTILE}), "x"))
    cells = [ws.cell(row=i, column=1) for i in range(2, len(HOSTILE) + 2)]
    assert [c.value for c in cells] == HOSTILE
    assert all(c.data_type == "s" for c in cells)


@pytest.mark.parametrize(("name", "taken", "expected"), [
    ("明湖街道", [], "明湖街道"),
    ("a/b:c*d?e[f]g\\h", [], "a_b_c_d_e_f_g_h"),
    ("很" * 40, [], "很" * 31),
    ("明湖街道", ["明湖街道"], "明湖街道(2)"),
    ("明湖街道", ["明湖街道", "明湖街道(2)"], "明湖街道(3)"),
    ("长" * 31, ["长" * 31], "长" * 28 + "(2)"),
    ("  ", [], "Sheet"),
    ("Sheet", ["sheet"], "Sheet(2)"),                  # Excel compares sheet names case-insensitively
])
def test_sheet_title(name: str, taken: list[str], expected: str) -> None:
    got = sheet_title(name, taken)
    assert got == expected
    assert len(got) <= 31
