"""A report as a text PDF (reportlab, built-in CID font STSong-Light, tables with grid lines and SPAN merges).

Labels are Paragraphs so long labels wrap inside their cell, as in real PDFs (narrow header cells wrap one or
two characters per line, spec §12.5).  ``invariant=1`` makes the bytes depend only on the content.
"""

from __future__ import annotations

import io
from functools import cache
from html import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ingest.demo.grid import Grid, blocks
from ingest.demo.render_html import SYNTHETIC
from ingest.demo.report import DemoReport

FONT = "STSong-Light"
_WIDTH = A4[0] - 30 * mm


@cache
def _styles() -> dict[str, ParagraphStyle]:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK", firstLineIndent=21)
    return {
        "para": base,
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=24, alignment=TA_CENTER, firstLineIndent=0),
        "meta": ParagraphStyle("meta", parent=base, alignment=TA_CENTER, firstLineIndent=0),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12, leading=20, firstLineIndent=0, spaceBefore=4),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10, wordWrap="CJK", alignment=TA_CENTER),
    }


def _para_text(text: str) -> str:
    return "<br/>".join(escape(t) for t in text.split("\n"))


def _table(grid: Grid) -> Table:
    st = _styles()["cell"]
    data: list[list[object]] = [["" for _ in range(grid.ncols)] for _ in grid.rows]
    spans: list[tuple] = []
    covered: set[tuple[int, int]] = set()
    for r, row in enumerate(grid.rows):
        c = 0
        for cell in row:
            while (r, c) in covered:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    covered.add((r + dr, c + dc))
            if cell.head and cell.text:
                data[r][c] = Paragraph(_para_text(cell.text), st)
            else:      # values: short plain strings need no wrapping (and draw much faster)
                data[r][c] = cell.text
            if cell.colspan > 1 or cell.rowspan > 1:
                spans.append(("SPAN", (c, r), (c + cell.colspan - 1, r + cell.rowspan - 1)))
            c += cell.colspan
    total = sum(grid.widths) or grid.ncols
    widths = [_WIDTH * w / total for w in (grid.widths or [1] * grid.ncols)]
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            *spans,
        ]
    )
    return Table(data, colWidths=widths, style=style)


def render_pdf(report: DemoReport) -> bytes:
    st = _styles()
    story: list[object] = []
    for b in blocks(report):
        if b.kind == "table":
            assert b.grid is not None
            story.append(_table(b.grid))
            story.append(Spacer(1, 4 * mm))
        elif b.kind == "title":
            story.append(Paragraph(_para_text(b.text), st["title"]))
        elif b.kind == "meta":
            story.append(Paragraph(_para_text(b.text), st["meta"]))
        elif b.kind == "heading":
            story.append(Paragraph(_para_text(b.text), st["heading"]))
        elif not b.section and b.text in report.sign_off:
            story.append(Paragraph(_para_text(b.text), st["right"]))
        else:
            story.append(Paragraph(_para_text(b.text), st["para"]))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=report.title or report.default_title(),
        author="示例数据生成器",
        subject=SYNTHETIC,
        creator="nianbao demo",
        invariant=1,
    )
    doc.build(story)
    return buf.getvalue()
