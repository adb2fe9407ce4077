"""Chart and table downloads: PNG/SVG pictures that carry their title, scope and data date; CSV and XLSX tables.

Charts are drawn on the server with vl-convert and the project's own Chinese font
(:mod:`dashboard.fonts`), so a picture looks the same on every machine and never shows boxes.
Tables are written for Excel/WPS users: CSV as UTF-8 with a byte-order mark (Excel reads BOM-less
UTF-8 as the local ANSI code page and garbles Chinese), XLSX with Chinese headers, number formats
and a frozen header row.

Number formats in XLSX are chosen per column (override with ``formats``):

* a header containing ``万元`` → two decimals (``#,##0.00``);
* a header containing ``率``, ``占比`` or ``比例`` whose values lie within [-1, 1] → percent (``0.0%``);
  rates are stored as fractions, as in the ``v_report_measures`` view;
* a header containing ``年度``, ``年份``, ``序号``, ``排名`` or ``编号`` with whole numbers → ``0`` (2025, not 2,025);
* integers, and float columns holding only whole numbers → ``#,##0``; other floats → ``#,##0.00``.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import altair as alt
import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dashboard import fonts

BOM = b"\xef\xbb\xbf"

FMT_INT = "#,##0"
FMT_PLAIN_INT = "0"            # years, serial numbers, ranks: no thousands separator (2025, not 2,025)
FMT_DEC = "#,##0.00"
FMT_WAN = "#,##0.00"
FMT_PCT = "0.0%"
FMT_DATE = "yyyy-mm-dd"
FMT_DATETIME = "yyyy-mm-dd hh:mm"

_RATE_WORDS = ("率", "占比", "比例")
_PLAIN_INT_WORDS = ("年度", "年份", "序号", "排名", "编号")
_SUBTITLE_WIDTH = 64          # display columns per subtitle line before it wraps
_FONT_KEYS = re.compile(r"^(font|[a-z]+Font)$")


# ------------------------------------------------------------------ charts

def chart_spec(chart: alt.TopLevelMixin | Mapping[str, Any], *, title: str, scope: str,
               data_date: str) -> dict[str, Any]:
    """The chart's Vega-Lite spec as exported: the export title, scope and data date on top; the CJK font forced.

    * Every ``font`` / ``…Font`` setting is replaced by the bundled family, so that a chart
      configured elsewhere with a font this machine lacks still renders its Chinese text.
    * The chart's own subtitle is kept after the scope and date, except for parts that only make
      sense on screen (“点击…”, “选择…”), split at ``；``.
    * ``width``/``height`` ``"container"`` (fit the page in the app) become fixed sizes, since a
      picture has no container.
    """
    if isinstance(chart, Mapping):
        spec = copy.deepcopy(dict(chart))
    else:
        try:
            spec = chart.to_dict()
        except alt.MaxRowsError:
            with alt.data_transformers.disable_max_rows():
                spec = chart.to_dict()
    family = fonts.FAMILY
    own_subtitle = _own_subtitle(spec)
    _force_font(spec, family)
    _fix_container_size(spec)
    subtitle = [*(_wrap(scope) if scope else []), f"数据日期：{data_date}"]
    for part in own_subtitle:
        subtitle += _wrap(part)
    spec["title"] = {"text": title, "subtitle": subtitle, "anchor": "start", "fontSize": 17,
                     "subtitleFontSize": 12, "subtitleColor": "#444444", "subtitlePadding": 4,
                     "offset": 10, "font": family, "subtitleFont": family}
    config = spec.setdefault("config", {})
    config["font"] = family
    config.setdefault("background", "white")
    config.setdefault("padding", 12)
    return spec


EXPORT_WIDTH = 640
EXPORT_HEIGHT = 360
_SCREEN_ONLY = ("点击", "双击", "悬停", "鼠标", "选择", "拖动", "滚动")


def _own_subtitle(spec: dict[str, Any]) -> list[str]:
    """The chart's subtitle parts worth keeping on paper; removes titles of layer members (the export
    title replaces them)."""
    titles = [spec.get("title")] + [m.pop("title", None) for m in spec.get("layer", []) if isinstance(m, dict)]
    for t in titles:
        if isinstance(t, dict) and t.get("subtitle"):
            sub = t["subtitle"]
            lines = [sub] if isinstance(sub, str) else [str(x) for x in sub]
            parts = [p.strip() for line in lines for p in re.split(r"[；;]", line) if p.strip()]
            return [p for p in parts if not any(w in p for w in _SCREEN_ONLY)]
    return []


def _fix_container_size(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("width") == "container":
            node["width"] = EXPORT_WIDTH
        if node.get("height") == "container":
            node["height"] = EXPORT_HEIGHT
        for k, v in node.items():
            if k not in ("data", "datasets", "config"):
                _fix_container_size(v)
    elif isinstance(node, list):
        for v in node:
            _fix_container_size(v)


def chart_png(chart: alt.TopLevelMixin | Mapping[str, Any], *, title: str, scope: str, data_date: str,
              scale: float = 3) -> bytes:
    """A PNG of the chart for Word: ``scale`` × the on-screen pixel size, with matching pixels-per-inch
    metadata (72·scale) so that Word inserts it at its natural size."""
    import vl_convert

    fonts.ensure_registered()
    spec = chart_spec(chart, title=title, scope=scope, data_date=data_date)
    # vl-convert multiplies the pixel size by scale × ppi / 72: scale 1 at 72·scale ppi gives
    # scale× the pixels *and* the matching density metadata.
    return vl_convert.vegalite_to_png(spec, scale=1, ppi=72 * scale, allowed_base_urls=[],
                                      format_locale="zh-CN", time_format_locale="zh-CN")


def chart_svg(chart: alt.TopLevelMixin | Mapping[str, Any], *, title: str, scope: str, data_date: str) -> bytes:
    """An SVG of the chart (UTF-8); text stays text and names the bundled font family."""
    import vl_convert

    fonts.ensure_registered()
    spec = chart_spec(chart, title=title, scope=scope, data_date=data_date)
    svg = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[], format_locale="zh-CN",
                                     time_format_locale="zh-CN")
    return svg.encode("utf-8")


def warm_up() -> None:
    """Start vl-convert's engine and load the font now (about 0.5 s of CPU), so that the first
    picture a user downloads is not slower than the rest.  Safe to call from a background thread."""
    import vl_convert

    family = fonts.ensure_registered()
    vl_convert.vegalite_to_svg({"data": {"values": [{"t": "中"}]}, "mark": "text",
                                "encoding": {"text": {"field": "t"}}, "config": {"font": family}},
                               allowed_base_urls=[])


def _force_font(node: Any, family: str) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("data", "datasets", "values"):
                continue
            if isinstance(v, str) and _FONT_KEYS.match(k):
                node[k] = family
            else:
                _force_font(v, family)
    elif isinstance(node, list):
        for v in node:
            _force_font(v, family)


def display_width(text: str) -> int:
    """Columns a string takes in a fixed-width view: CJK and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(text: str, width: int = _SUBTITLE_WIDTH) -> list[str]:
    """Split a long scope line into lines of about ``width`` columns, preferring breaks after 、，；."""
    lines: list[str] = []
    rest = text.strip()
    while display_width(rest) > width:
        cut, w = 0, 0
        for i, ch in enumerate(rest):
            w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if w > width:
                break
            if ch in "、，；,;":
                cut = i + 1
        if cut == 0:
            cut = max(1, i)
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines.append(rest)
    return lines


# ------------------------------------------------------------------ tables

def to_polars(df: Any) -> pl.DataFrame:
    """Accept a polars or pandas DataFrame (or anything ``pl.DataFrame`` takes)."""
    if isinstance(df, pl.DataFrame):
        return df
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    try:
        import pandas as pd

        if isinstance(df, pd.DataFrame):
            return pl.from_pandas(df.reset_index(drop=True))
    except ImportError:
        pass
    return pl.DataFrame(df)


def _flatten(df: pl.DataFrame) -> pl.DataFrame:
    """List and struct columns become readable strings (CSV cannot hold them; Excel users cannot read them)."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.List | pl.Array):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join("、").alias(name))
        elif isinstance(dtype, pl.Struct | pl.Object):
            exprs.append(pl.col(name).map_elements(str, return_dtype=pl.String).alias(name))
    return df.with_columns(exprs) if exprs else df


# What XML 1.0 cannot hold (C0 controls other than tab, newline and carriage return; U+FFFE/U+FFFF;
# lone surrogates, which only Python strings can carry): one such character in a cell makes openpyxl
# and python-docx refuse the whole file.
_XML_INVALID_RANGES = ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0xFFFE, 0xFFFF))
_XML_INVALID_RE = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in _XML_INVALID_RANGES)
                             + "\\ud800-\\udfff]")
_XML_INVALID_POLARS = "[" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in _XML_INVALID_RANGES) + "]"


def xml_text(text: str) -> str:
    """``text`` without the characters no XLSX/DOCX file may contain (Word's \\x07 and \\x0b, ``&#8;`` …)."""
    return _XML_INVALID_RE.sub("", text)


def xml_frame(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with :func:`xml_text` applied to every text column and column name."""
    exprs = [pl.col(n).str.replace_all(_XML_INVALID_POLARS, "") for n, t in df.schema.items() if t == pl.String]
    df = df.with_columns(exprs) if exprs else df
    names = {n: xml_text(n) for n in df.columns}
    if names != {n: n for n in df.columns} and len(set(names.values())) == len(names):
        df = df.rename(names)
    return df


def _defuse(df: pl.DataFrame) -> pl.DataFrame:
    """Text that Excel would run as a formula (=…, +…, @…, or -… that is not just a number) gets a
    leading ``'``.

    Unit names, file names and messages come from documents anybody can write; opening an export
    must never execute something (CSV injection).  Excel shows the ``'`` as typed text.
    """
    def risky(n: str) -> pl.Expr:
        c = pl.col(n)
        return c.str.contains(r"^[=+@\t\r]") | (c.str.starts_with("-") & ~c.str.contains(r"^-\d*\.?\d+$"))

    exprs = [pl.when(risky(n)).then(pl.lit("'") + pl.col(n)).otherwise(pl.col(n)).alias(n)
             for n, t in df.schema.items() if t == pl.String]
    return df.with_columns(exprs) if exprs else df


def table_csv(df: Any) -> bytes:
    """CSV bytes, UTF-8 with a byte-order mark so that Excel opens Chinese text correctly.

    Text cells that Excel would treat as a formula are prefixed with ``'`` (see :func:`_defuse`).
    """
    frame = _defuse(xml_frame(_flatten(to_polars(df))))
    return BOM + frame.write_csv().encode("utf-8")


def column_format(name: str, series: pl.Series) -> str | None:
    """The Excel number format for a column (see the module docstring), or None for text."""
    dtype = series.dtype
    if dtype == pl.Date:
        return FMT_DATE
    if isinstance(dtype, pl.Datetime):
        return FMT_DATETIME
    if not dtype.is_numeric():
        return None
    values = [v for v in series.to_list() if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if "万元" in name:
        return FMT_WAN
    if any(w in name for w in _RATE_WORDS) and all(-1 <= v <= 1 for v in values):
        return FMT_PCT
    if any(w in name for w in _PLAIN_INT_WORDS) and all(float(v).is_integer() for v in values):
        return FMT_PLAIN_INT
    if dtype.is_integer() or all(float(v).is_integer() for v in values):
        return FMT_INT
    return FMT_DEC


_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def write_table(ws: Worksheet, df: Any, *, title: str | None = None, formats: Mapping[str, str] | None = None,
                wrap_columns: Iterable[str] = (), max_width: int = 60) -> int:
    """Write ``df`` into ``ws``: optional title row, bold Chinese header, typed cells, frozen header,
    auto-filter and column widths.  Returns the row number of the header."""
    frame = xml_frame(_flatten(to_polars(df)))
    cols = frame.columns
    ncols = max(1, len(cols))
    row = 1
    if title:
        ws.cell(row=1, column=1, value=xml_text(title)).font = Font(bold=True, size=14)
        if ncols > 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
        ws.row_dimensions[1].height = 24
        row = 2
    header_row = row
    for j, name in enumerate(cols, start=1):
        c = ws.cell(row=header_row, column=j, value=name)
        c.font = Font(bold=True)
        c.fill = _HEADER_FILL
        c.border = _BORDER
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    fmts = {name: (formats or {}).get(name) or column_format(name, frame[name]) for name in cols}
    wrap = set(wrap_columns)
    widths = [display_width(str(name)) for name in cols]
    for i, values in enumerate(frame.iter_rows(), start=header_row + 1):
        for j, (name, v) in enumerate(zip(cols, values, strict=True), start=1):
            if isinstance(v, float) and math.isnan(v):
                v = None
            c = ws.cell(row=i, column=j, value=_excel_value(v))
            if isinstance(v, str) and v.startswith("="):
                c.data_type = "s"      # text, never a formula (openpyxl treats "=…" as one)
            c.border = _BORDER
            if fmts[name] and v is not None:
                c.number_format = fmts[name]
            if name in wrap:
                c.alignment = Alignment(wrap_text=True, vertical="top")
            if i - header_row <= 500 and v is not None:
                widths[j - 1] = max(widths[j - 1], _shown_width(v, fmts[name]))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(6, min(max_width, w + 2))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if cols:
        last = header_row + max(frame.height, 1)
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{last}"
    return header_row


def _excel_value(v: Any) -> Any:
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    if isinstance(v, dt.timedelta | dt.time | list | dict):
        return xml_text(str(v))
    return v


def _shown_width(v: Any, fmt: str | None) -> int:
    if fmt == FMT_PCT:
        return 7
    if fmt in (FMT_INT, FMT_DEC, FMT_PLAIN_INT) and isinstance(v, int | float):
        return len(f"{v:,.2f}")
    if isinstance(v, dt.datetime):
        return 16
    return display_width(str(v))


def table_xlsx(df: Any, sheet_name: str, *, title: str | None = None,
               formats: Mapping[str, str] | None = None) -> bytes:
    """XLSX bytes with one sheet holding ``df`` (see :func:`write_table`)."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(sheet_name)
    write_table(ws, df, title=title, formats=formats)
    return workbook_bytes(wb)


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str, taken: Sequence[str] = ()) -> str:
    """A valid, unique Excel sheet name: no ``[]:*?/\\``, at most 31 characters, not blank.

    Names that collide (case-insensitively, as Excel compares them) get ``(2)``, ``(3)``, … appended.
    """
    base = _SHEET_BAD.sub("_", xml_text(name)).strip().strip("'") or "Sheet"
    base = base[:31]
    used = {t.lower() for t in taken}
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        suffix = f"({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    return candidate
