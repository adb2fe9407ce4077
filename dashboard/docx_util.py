"""python-docx helpers for Chinese documents that Word and WPS open as ordinary, editable files.

Word picks the font of Chinese characters from ``w:rFonts/@w:eastAsia``; python-docx's
``font.name`` sets only the Latin slots, and the default template's Title and Heading styles use
theme fonts that override explicit names.  :func:`set_style_fonts` therefore writes all four
slots and removes the theme attributes.  The fonts named are those every Chinese Windows/WPS
install has (宋体 for text, 黑体 for headings); the document embeds no font.
"""

from __future__ import annotations

from collections.abc import Sequence

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from dashboard.export import xml_text

BODY_FONT_EA = "宋体"
HEADING_FONT_EA = "黑体"
LATIN_FONT = "Times New Roman"
HEADER_FILL = "DDEBF7"

_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def _set_rfonts(rpr, latin: str, east_asia: str) -> None:
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in _THEME_ATTRS:
        rfonts.attrib.pop(qn(attr), None)
    for attr, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:cs", latin), ("w:eastAsia", east_asia)):
        rfonts.set(qn(attr), value)


def set_style_fonts(doc: DocxDocument, style_name: str, east_asia: str, latin: str = LATIN_FONT,
                    size: float | None = None, bold: bool | None = None, color: str | None = "000000") -> None:
    style = doc.styles[style_name]
    rpr = style.element.get_or_add_rPr()
    _set_rfonts(rpr, latin, east_asia)
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    if color is not None:
        style.font.color.rgb = RGBColor.from_string(color)


def prepare_document(doc: DocxDocument) -> None:
    """A4 portrait, Chinese fonts and language on the default and the built-in styles used."""
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.4)
    sec.top_margin, sec.bottom_margin = Cm(2.5), Cm(2.2)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _set_rfonts(rpr, LATIN_FONT, BODY_FONT_EA)
            lang = rpr.find(qn("w:lang"))
            if lang is None:
                lang = OxmlElement("w:lang")
                rpr.append(lang)
            lang.set(qn("w:eastAsia"), "zh-CN")
    set_style_fonts(doc, "Normal", BODY_FONT_EA, size=11, color=None)
    set_style_fonts(doc, "Title", HEADING_FONT_EA, size=20, bold=True)
    set_style_fonts(doc, "Heading 1", HEADING_FONT_EA, size=15, bold=True)
    set_style_fonts(doc, "Heading 2", HEADING_FONT_EA, size=13, bold=True)
    set_style_fonts(doc, "Caption", HEADING_FONT_EA, size=10, bold=False)
    set_style_fonts(doc, "Table Grid", BODY_FONT_EA, color=None)
    doc.styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER


def shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def row_props(row, *, header: bool = False) -> None:
    """Keep the row on one page; a header row also repeats at the top of every page the table runs onto."""
    trpr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader") if header else ("w:cantSplit",):  # schema order
        el = OxmlElement(tag)
        el.set(qn("w:val"), "true")
        trpr.append(el)


def add_table(doc: DocxDocument, header: Sequence[str], rows: Sequence[Sequence[object]],
              widths_cm: Sequence[float], *, size: float = 9.5,
              colors: Sequence[Sequence[str | None]] | None = None,
              align_right: Sequence[int] = ()) -> Table:
    """A 'Table Grid' table with a shaded, repeating header row.

    ``colors[i][j]`` (hex) colours and bolds the text of body cell (i, j).
    """
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    right = set(align_right)
    all_rows = table.rows
    for j, name in enumerate(header):
        cell = all_rows[0].cells[j]
        _write(cell, str(name), size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        shade(cell, HEADER_FILL)
    row_props(all_rows[0], header=True)
    for i, values in enumerate(rows, start=1):
        row_props(all_rows[i])
        cells = all_rows[i].cells
        for j, v in enumerate(values):
            color = colors[i - 1][j] if colors else None
            _write(cells[j], "" if v is None else str(v), size, bold=bool(color), color=color,
                   align=WD_ALIGN_PARAGRAPH.RIGHT if j in right else None)
    set_widths(table, widths_cm)
    return table


def set_widths(table: Table, widths_cm: Sequence[float]) -> None:
    """Fixed column widths that Word, WPS and LibreOffice all honour (grid, cell and table width)."""
    for gc, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm, strict=False):
        gc.set(qn("w:w"), str(Cm(w).twips))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(w)
    table.autofit = False  # w:tblLayout fixed
    tblw = table._tbl.tblPr.find(qn("w:tblW"))
    if tblw is None:  # python-docx always writes one; keep the schema order if it ever does not
        return
    tblw.set(qn("w:type"), "dxa")
    tblw.set(qn("w:w"), str(sum(Cm(w).twips for w in widths_cm)))


def _write(cell, text: str, size: float, *, bold: bool = False, color: str | None = None, align=None) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(xml_text(text))
    run.font.size = Pt(size)
    if bold:
        run.font.bold = True
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    if align is not None:
        p.alignment = align


_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五 (for chapter numbering)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + cn_number(rest) if rest < 10 else
                                 (_CN_DIGITS[1] if rest < 20 else "") + cn_number(rest))
    return _CN_DIGITS[n // 100] + "百" + tail
