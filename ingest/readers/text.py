"""Plain-text reports: text copied out of Word, or scraped from web pages.

Four table layouts occur in real text renderings (spec §12.5) and may mix in one file:

* **tab cells** (DOCX → text, the seed): each cell is a line starting with ``\\t``; a following
  line without a tab continues that cell (a label wrapped inside its cell); a blank line ends
  the row.
* **pipe rows**: ``规章 | 0 | 0 | 0``; spanned header cells leave ``||``.
* **pipe on its own line**: ``规章\\n|\\n0\\n|\\n0\\n|`` — the ``|`` lines separate cells, ``|\\n|``
  is an empty cell.
* **one cell per line**: labels and numbers each on their own line.

The first three become table rows; the last stays as short paragraphs, which the mapper reads
as a stream of cells just the same.  Long lines that hold a whole collapsed report are split
before section headings so that sections can still be found.
"""

from __future__ import annotations

import re

from ingest import limits
from ingest.document import Block, Cell, Document
from ingest.errors import RejectedFile
from ingest.readers.common import decode_text, too_many_cells

# (?<!\s): a split starts at the first white space of a run only; without it the regex retried every
# position inside a long run of spaces, quadratic (100,000 spaces in one line took minutes).
_HEADING_SPLIT = re.compile(
    r"(?<!\s)\s+(?=(?:[一二三四五六]、\s*(?:\d{4}年)?(?:总体情况|主动公开|收到和处理|政府信息公开行政复议|因政府信息公开|"
    r"存在的主要问题|政府信息公开工作存在|其他需要报告)))"
)
_PIPE_RUN = re.compile(r"\|{20,}")
# A report is a few thousand lines; 3 MB of one-value lines (1.4 million) took 11 s and 600 MB.
MAX_LINES = 200_000


def read(data: bytes, source: str) -> Document:
    text, encoding = decode_text(data)
    doc = read_text(text, source)
    doc.encoding = encoding
    return doc


def read_text(text: str, source: str) -> Document:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > MAX_LINES:
        raise RejectedFile(f"文字行数过多（超过 {MAX_LINES // 10000} 万行），不像是一份年度报告", "too_large")
    # Every table cell starts at a tab or a pipe (rules of 20+ pipes aside): refuse a file that could hold
    # far more cells than the other readers allow before any is made (2.9 million tab cells: 850 MB).
    n_cells = text.count("\t") + sum(line.count("|") for line in lines if not _PIPE_RUN.search(line))
    if n_cells > limits.MAX_TABLE_CELLS * 2:
        raise too_many_cells()
    blocks: list[Block] = []
    table_rows: list[list[Cell]] = []
    row: list[Cell] = []
    table_start = 0
    # pipe-per-line state: cells collected between lone "|" lines
    pipe_cells: list[Cell] | None = None
    last_was_pipe = False

    def flush_row() -> None:
        nonlocal row
        if row:
            table_rows.append(row)
            row = []

    def flush_table() -> None:
        nonlocal table_rows
        flush_row()
        if table_rows:
            blocks.append(Block.table(table_rows, where=f"第{table_start}行起的表格"))
            table_rows = []

    for n, line in enumerate(lines, start=1):
        where = f"第{n}行"
        stripped = line.strip()
        # ---- pipe on its own line
        if stripped == "|":
            if pipe_cells is None:
                pipe_cells = []
                # the label before the first lone pipe was emitted as a paragraph: take it back
                if blocks and blocks[-1].kind == "text" and len(blocks[-1].text) <= 40:
                    prev = blocks.pop()
                    pipe_cells.append(Cell(prev.text, prev.where))
            elif last_was_pipe:
                pipe_cells.append(Cell("", where))
            last_was_pipe = True
            continue
        if pipe_cells is not None:
            if stripped == "" and last_was_pipe:
                continue
            if stripped and "|" not in stripped and not line.startswith("\t") and last_was_pipe:
                pipe_cells.append(Cell(stripped, where))
                last_was_pipe = False
                continue
            # two text lines in a row: the table ended at the last "|"; the line before this
            # one (a heading, usually) is a paragraph, not a cell
            held = None
            if not last_was_pipe and pipe_cells and stripped:
                held = pipe_cells.pop()
            if pipe_cells:
                blocks.append(Block.table([pipe_cells], where=f"第{n}行前的表格"))
            if held is not None:
                blocks.append(Block.paragraph(held.text, held.where))
            pipe_cells = None
            last_was_pipe = False
        # ---- tab cells
        if line.startswith("\t"):
            if not table_rows and not row:
                flush_table()
                table_start = n
            parts = line.split("\t")[1:]
            for p in parts:
                row.append(Cell(p.strip(), where))
            continue
        if stripped == "":
            flush_row()
            continue
        if row:
            # continuation of the last tab cell (label wrapped inside its cell)
            last = row[-1]
            row[-1] = Cell(f"{last.text}\n{stripped}" if last.text else stripped, last.where)
            continue
        # ---- pipe rows
        if "|" in stripped and not _PIPE_RUN.search(stripped):
            flush_table()
            cells = [c.strip() for c in stripped.split("|")]
            if cells and cells[0] == "":
                cells = cells[1:]
            if cells and cells[-1] == "":
                cells = cells[:-1]
            blocks.append(Block.table([[Cell(c, where) for c in cells]], where=where))
            continue
        flush_table()
        stripped = _PIPE_RUN.sub(" ", stripped).strip()
        if not stripped:
            continue
        if len(stripped) > 200:
            for part in _HEADING_SPLIT.split(stripped):
                if part.strip():
                    blocks.append(Block.paragraph(part.strip(), where))
        else:
            blocks.append(Block.paragraph(stripped, where))
    if pipe_cells:
        blocks.append(Block.table([pipe_cells], where="文末表格"))
    flush_table()
    return Document(source=source, format="text", blocks=blocks)
