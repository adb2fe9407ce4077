"""Plain-text renderings of a report.

``tab``:  the DOCX→text layout of samples/quangang-2020.txt: each table cell on its own line prefixed by a tab,
          a line break inside a cell continues at column 0, rows separated by a blank line, and a cell merged
          down from the row above printed as an empty tab cell.
``pipe``: the scraped-web-page layout: one table row per line, cells joined by `` | ``, spanned columns
          leaving ``||`` (``信息内容 | 本年处理决定数量 | ||``), merged-down cells not repeated.  With style
          ``pipe_per_line`` each cell and each ``|`` is on its own line (spec §12.5).
Style options: ``encoding`` (``utf-8`` | ``gbk``), ``pipe_break`` (what a line break inside a label becomes in
the pipe layout: " " or "").
"""

from __future__ import annotations

from ingest.demo.grid import Block, Grid, blocks, occupancy
from ingest.demo.report import DemoReport


def _tab_table(grid: Grid) -> list[str]:
    lines: list[str] = []
    for slots in occupancy(grid):
        for kind, cell in slots:
            text = "" if kind == "cont" or cell is None else cell.text
            lines.append("\t" + text)
        lines.append("")
    return lines


def _pipe_row(grid: Grid, row_index: int, brk: str, per_line: bool) -> str:
    row = grid.rows[row_index]
    texts = [c.text.replace("\n", brk) for c in row]
    extra = sum(c.colspan - 1 for c in row)
    if per_line:
        parts: list[str] = []
        for c, t in zip(row, texts, strict=True):
            if t:
                parts.append(t)
            parts.extend(["|"] * c.colspan)
        return "\n".join(parts)
    return (" | ".join(texts) + " | " + "|" * extra).rstrip()


def _text_lines(report: DemoReport, layout: str) -> list[str]:
    brk = report.style.get("pipe_break", " ")
    per_line = bool(report.style.get("pipe_per_line"))
    lines: list[str] = []
    if layout == "pipe":
        lines.extend(report.style.get("chrome_top", []))
    for b in blocks(report):
        if b.kind == "table":
            assert b.grid is not None
            if layout == "tab":
                lines.extend(_tab_table(b.grid))
                lines.extend(["", ""])
            else:
                lines.extend(_pipe_row(b.grid, i, brk, per_line) for i in range(len(b.grid.rows)))
        else:
            lines.append(_para(b))
    if layout == "pipe":
        lines.extend(report.style.get("chrome_bottom", []))
    return lines


def _para(b: Block) -> str:
    return b.text


def render_text(report: DemoReport, layout: str = "tab") -> bytes:
    text = "\n".join(_text_lines(report, layout)) + "\n"
    return text.encode(report.style.get("encoding", "utf-8"))
