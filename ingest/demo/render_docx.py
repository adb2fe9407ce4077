"""A report as a Word document (python-docx): paragraphs plus tables with real merged cells.

python-docx stamps the current time into docProps/core.xml and into the zip entries; both are fixed here
so that the same report always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from ingest.demo.grid import Grid, blocks
from ingest.demo.render_html import SYNTHETIC
from ingest.demo.report import DemoReport

_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _fixed_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def _set_text(cell, text: str) -> None:
    cell.text = ""
    par = cell.paragraphs[0]
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = par.add_run(line)
        if i < len(lines) - 1:
            run.add_break()


def _table(document, grid: Grid) -> None:
    table = document.add_table(rows=len(grid.rows), cols=grid.ncols)
    table.style = "Table Grid"
    # table.cell() rebuilds the whole cell list on every call; fetch the unmerged cells once.  Merge regions
    # are disjoint, so each region's corner cells stay valid while other regions are merged.
    flat = table._cells
    covered: set[tuple[int, int]] = set()
    for r, row in enumerate(grid.rows):
        c = 0
        for cell in row:
            while (r, c) in covered:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    covered.add((r + dr, c + dc))
            target = flat[r * grid.ncols + c]
            if cell.colspan > 1 or cell.rowspan > 1:
                target = target.merge(flat[(r + cell.rowspan - 1) * grid.ncols + c + cell.colspan - 1])
            _set_text(target, cell.text)
            c += cell.colspan


def render_docx(report: DemoReport) -> bytes:
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(10.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    section = document.sections[0]
    section.header.paragraphs[0].text = SYNTHETIC
    for b in blocks(report):
        if b.kind == "table":
            assert b.grid is not None
            _table(document, b.grid)
            continue
        par = document.add_paragraph()
        run = par.add_run(b.text)
        if b.kind == "title":
            par.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            run.font.size = Pt(16)
        elif b.kind == "heading":
            run.bold = True
        elif b.kind == "meta":
            par.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif not b.section and b.text in report.sign_off:
            par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    props = document.core_properties
    stamp = dt.datetime(report.year + 1, 1, 1, 8, 0, 0)
    props.author = "示例数据生成器"
    props.last_modified_by = "示例数据生成器"
    props.title = report.title or report.default_title()
    props.subject = SYNTHETIC
    props.comments = "程序生成的示例数据，非真实报告"
    props.created = stamp
    props.modified = stamp
    props.revision = 1
    buf = io.BytesIO()
    document.save(buf)
    return _fixed_zip(buf.getvalue())
