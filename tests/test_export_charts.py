"""Chart pictures: title, scope and date on the picture; the project's own CJK font covers every character.

The coverage test renders each chart to SVG (text stays text there) and checks every character
of every ``<text>`` element against the cmap of the bundled font face, so no glyph can come
out as a box.  A subprocess test hides every system font from vl-convert and shows that the
bundled font alone draws the Chinese text.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import altair as alt
import polars as pl
import pytest

from dashboard import fonts
from dashboard.export import EXPORT_WIDTH, chart_png, chart_spec, chart_svg
from tests.export_db import build_synthetic_db

ROOT = Path(__file__).resolve().parents[1]
SVG_NS = "{http://www.w3.org/2000/svg}"
SCOPE = "范围：甲区、乙县，共 7 个乡镇（街道）"
DATE = "2026-02-01"


def svg_texts(svg: bytes) -> list[str]:
    """Every piece of text the SVG draws (titles, subtitles, axis titles and labels, legends, marks)."""
    root = ET.fromstring(svg)
    out = []
    for el in root.iter():
        if el.tag in (f"{SVG_NS}text", f"{SVG_NS}tspan") and el.text and el.text.strip():
            out.append(el.text)
    return out


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def simple_chart() -> alt.Chart:
    df = pl.DataFrame({"乡镇（街道）": ["明湖街道", "栖云镇", "鹭汀街道"], "件数": [31, 0, 7]})
    return alt.Chart(df).mark_bar().encode(y="乡镇（街道）:N", x="件数:Q")


def test_picture_carries_title_scope_and_date() -> None:
    svg = chart_svg(simple_chart(), title="各乡镇收到申请数", scope=SCOPE, data_date=DATE)
    texts = svg_texts(svg)
    assert "各乡镇收到申请数" in texts
    assert SCOPE in texts
    assert f"数据日期：{DATE}" in texts
    assert {"明湖街道", "栖云镇", "鹭汀街道", "乡镇（街道）", "件数"} <= set(texts)
    assert fonts.FAMILY in svg.decode("utf-8")


def test_png_is_high_resolution() -> None:
    chart = simple_chart()
    w1, h1 = png_size(chart_png(chart, title="标题", scope=SCOPE, data_date=DATE, scale=1))
    w3, h3 = png_size(chart_png(chart, title="标题", scope=SCOPE, data_date=DATE, scale=3))
    assert abs(w3 - 3 * w1) <= 3 and abs(h3 - 3 * h1) <= 3
    assert w3 >= 900


def test_spec_forces_font_fixes_container_width_and_drops_screen_hints() -> None:
    chart = (simple_chart().properties(width="container",
                                       title=alt.TitleParams("旧标题", subtitle="点击柱子打开报告；虚线为整体公开率"))
             .configure(font="Microsoft YaHei").configure_axis(labelFont="SimSun", titleFont="SimHei"))
    spec = chart_spec(chart, title="新标题", scope=SCOPE, data_date=DATE)
    assert spec["title"]["text"] == "新标题"
    assert spec["title"]["subtitle"] == [SCOPE, f"数据日期：{DATE}", "虚线为整体公开率"]
    assert spec["config"]["font"] == fonts.FAMILY
    assert spec["config"]["axis"]["labelFont"] == spec["config"]["axis"]["titleFont"] == fonts.FAMILY
    assert spec["width"] == EXPORT_WIDTH


def test_long_scope_wraps() -> None:
    names = "、".join(f"第{i}测试街道" for i in range(1, 16))
    spec = chart_spec(simple_chart(), title="t", scope=f"范围：{names}", data_date=DATE)
    lines = spec["title"]["subtitle"][:-1]
    assert len(lines) > 1
    assert "".join(lines) == f"范围：{names}"


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_db(tmp_path_factory.mktemp("charts"))


def exported_charts(db: Path) -> list[tuple[str, alt.TopLevelMixin, str]]:
    """Every chart the exports produce: the briefing's, for the whole city and a narrowed filter."""
    from dashboard.briefing import briefing_charts
    from dashboard.briefing_data import load_briefing_data

    out = []
    for kw in ({}, {"region": "乙县"}, {"townships": ["明湖街道", "城关镇"]}):
        d = load_briefing_data(str(db), year=2025, **kw)
        out += [(caption, chart, d.scope) for caption, chart in briefing_charts(d)]
    return out


def test_every_exported_character_is_in_the_bundled_font(synthetic_db: Path) -> None:
    charts = exported_charts(synthetic_db)
    assert len(charts) == 9
    seen: set[str] = set()
    for caption, chart, scope in charts:
        texts = svg_texts(chart_svg(chart, title=caption, scope=scope, data_date=DATE))
        assert caption in texts
        joined = "".join(texts)
        seen |= set(joined)
        missing = fonts.missing_glyphs(joined)
        assert not missing, f"{caption}: 字体缺少 {sorted(missing)}"
    # the check must have looked at Chinese text, full-width punctuation and digits
    assert {"镇", "街", "（", "）", "：", "2", "%"} <= seen


def test_missing_glyphs_detects_uncovered_characters() -> None:
    assert fonts.missing_glyphs("明湖街道（甲区）：12.5%") == set()
    assert fonts.missing_glyphs("明湖\U0001F600") == {"\U0001F600"}  # an emoji the font lacks
    assert fonts.FAMILY == "Noto Sans CJK SC"
    assert fonts.font_path().is_file()


_ISOLATED = """
import io, sys
from PIL import Image
import altair as alt, polars as pl, vl_convert
df = pl.DataFrame({"乡镇": ["明湖街道", "栖云镇"], "件数": [3, 5]})
chart = alt.Chart(df).mark_bar().encode(y="乡镇:N", x="件数:Q")
if sys.argv[1] == "bundled":
    from dashboard.export import chart_png
    png = chart_png(chart, title="各乡镇收到申请数", scope="范围：甲区", data_date="2026-02-01", scale=1)
else:  # the same spec, without registering the project's font
    from dashboard.export import chart_spec
    png = vl_convert.vegalite_to_png(chart_spec(chart, title="各乡镇收到申请数", scope="范围：甲区",
                                                data_date="2026-02-01"), scale=1)
im = Image.open(io.BytesIO(png)).convert("L")
# ink left of the bars and above the plot: the title block and the y-axis labels
w, h = im.size
box = im.crop((0, 0, w, 60))
print(sum(box.histogram()[:128]))
"""


def test_bundled_font_draws_chinese_without_any_system_font(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    # A font configuration whose only folder is empty (with no <dir> at all, font loaders fall
    # back to the standard system folders).
    (tmp_path / "nofonts").mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
                    f"<fontconfig><dir>{tmp_path}/nofonts</dir><cachedir>{tmp_path}/cache</cachedir></fontconfig>",
                    encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}

    def ink(mode: str) -> int:
        proc = subprocess.run([sys.executable, "-c", _ISOLATED, mode], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return int(proc.stdout.strip().splitlines()[-1])

    without, bundled = ink("none"), ink("bundled")
    assert bundled > 300, "the bundled font drew no title text"
    assert without < bundled / 5, "text was drawn without the bundled font: the isolation did not work"


def test_register_is_idempotent() -> None:
    from dashboard.export import warm_up

    warm_up()
    assert fonts.ensure_registered() == fonts.FAMILY
    assert fonts.ensure_registered() == fonts.FAMILY
    png = chart_png(simple_chart(), title="标题", scope=SCOPE, data_date=DATE, scale=1)
    assert png_size(png)[0] > 100
    assert io.BytesIO(png).getbuffer().nbytes > 1000


def test_png_density_metadata_matches_scale() -> None:
    png = chart_png(simple_chart(), title="标题", scope=SCOPE, data_date=DATE, scale=3)
    i = png.find(b"pHYs")
    assert i > 0
    x, y, unit = struct.unpack(">IIB", png[i + 4:i + 13])
    assert unit == 1 and x == y
    assert abs(x * 0.0254 - 216) < 1               # 216 pixels per inch = 3 × 72
