"""The app's download buttons (dashboard/ui.py ``_export_slot``): every chart offers PNG and SVG, every
table CSV and XLSX, and the bytes behind each button are the real files.

AppTest shows a download button but not its bytes, so the buttons' ``data`` callables are
captured by running the slot with a stand-in for ``st.columns`` and then called here.
"""

from __future__ import annotations

import io
from pathlib import Path

import altair as alt
import openpyxl
import polars as pl
import pytest

from tests.export_db import build_synthetic_db

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_db(tmp_path_factory.mktemp("app"))


class _Column:
    def __init__(self, sink: list[dict]) -> None:
        self.sink = sink

    def download_button(self, label: str, **kw) -> bool:
        self.sink.append({"label": label, **kw})
        return False


def captured_buttons(monkeypatch: pytest.MonkeyPatch, db: Path, kind: str, chart=None) -> list[dict]:
    ui = pytest.importorskip("dashboard.ui")
    monkeypatch.setenv("NIANBAO_DB", str(db))
    sink: list[dict] = []
    monkeypatch.setattr(ui.st, "columns", lambda n: [_Column(sink) for _ in range(n)])
    data = pl.DataFrame({"乡镇（街道）": ["明湖街道", "栖云镇"], "本年新收申请（件）": [31, 2], "公开率": [0.5, None]})
    ui._export_slot(kind, "各乡镇收到申请数（件）", data, "test", chart)
    return sink


def test_chart_slot_offers_png_svg_csv_xlsx_with_real_bytes(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    df = pl.DataFrame({"乡镇（街道）": ["明湖街道", "栖云镇"], "件数": [31, 2]})
    chart = alt.Chart(df).mark_bar().encode(y="乡镇（街道）:N", x="件数:Q").properties(width="container")
    buttons = captured_buttons(monkeypatch, db, "chart", chart)
    assert [b["label"] for b in buttons] == ["图片 PNG", "矢量图 SVG", "表格 CSV", "表格 XLSX"]
    assert [b["file_name"] for b in buttons] == [f"各乡镇收到申请数（件）.{e}" for e in ("png", "svg", "csv", "xlsx")]
    assert len({b["key"] for b in buttons}) == 4
    assert all(b["on_click"] == "ignore" for b in buttons)          # a download does not rerun the page
    png, svg, csv, xlsx = (b["data"]() for b in buttons)             # made only when clicked
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.decode("utf-8")
    assert "各乡镇收到申请数（件）" in text and "筛选：全部数据" in text and "数据日期：20" in text
    assert csv.startswith(b"\xef\xbb\xbf")
    ws = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert ws["A1"].value == "各乡镇收到申请数（件）" and ws["A2"].value == "乡镇（街道）" and ws.freeze_panes == "A3"


def test_table_slot_offers_csv_and_xlsx(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    buttons = captured_buttons(monkeypatch, db, "table")
    assert [b["label"] for b in buttons] == ["表格 CSV", "表格 XLSX"]
    assert buttons[0]["data"]().decode("utf-8-sig").splitlines()[0] == "乡镇（街道）,本年新收申请（件）,公开率"


def test_app_pages_show_export_buttons(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    testing = pytest.importorskip("streamlit.testing.v1")
    monkeypatch.setenv("NIANBAO_DB", str(db))
    at = testing.AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    charts = at.get("vega_lite_chart")
    assert charts, "the overview page draws charts"
    assert labels.count("图片 PNG") >= 1 and labels.count("图片 PNG") == labels.count("矢量图 SVG")
    assert labels.count("表格 CSV") == labels.count("表格 XLSX") >= labels.count("图片 PNG")
