"""The intermediate document every reader produces.

A reader's only job is to turn bytes into a :class:`Document`: a sequence of blocks in reading
order, each either a paragraph of text or a table.  A table is a list of rows, each row the
list of its *physical* cells in order: a merged cell appears once, in the first row and column
it covers (as HTML writes it), never repeated.  The mapper maps value cells by their order within
a row, not by grid index (spec §12.5), so this is all it needs, and it is the one shape that every
format can produce faithfully.  Text formats that lost the table structure (one cell per line,
pipes) produce rows as best the layout allows.

Every cell and paragraph carries ``where``: a human-readable location in the source file
(``表格2 第3行第4格``, ``第120行``, ``第3页``) that ends up in findings and in the database as provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

# The formats of ingest.readers.REGISTRY read directly (tests/test_reader_registry.py checks that they
# agree); a converted format (.doc …) is read as one of these and named in ``Document.converted_from``.
SourceFormat = Literal["text", "html", "docx", "pdf"]


@lru_cache(maxsize=4096)
def table_cell_where(table: int, row: int, col: int) -> str:
    """``表格2 第3行第4格``: where a table cell sits (cached: a CJK f-string per cell is slow)."""
    return f"表格{table} 第{row}行第{col}格"


@dataclass(slots=True)   # not frozen only for speed (see Token); treat as immutable
class Cell:
    """One table cell (or one text line standing in for a cell)."""

    text: str
    where: str = ""
    colspan: int = 1
    rowspan: int = 1


@dataclass(slots=True)
class Block:
    """A paragraph (``kind == "text"``) or a table (``kind == "table"``)."""

    kind: Literal["text", "table"]
    text: str = ""
    rows: list[list[Cell]] = field(default_factory=list)
    where: str = ""

    @staticmethod
    def paragraph(text: str, where: str = "") -> Block:
        return Block(kind="text", text=text, where=where)

    @staticmethod
    def table(rows: list[list[Cell]], where: str = "") -> Block:
        return Block(kind="table", rows=rows, where=where)


@dataclass(slots=True)
class Document:
    """What a reader returns: the file's blocks plus where they came from."""

    source: str
    format: SourceFormat
    blocks: list[Block]
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    converted_from: str | None = None      # the file's own format when it was converted first ("doc" …)

    def plain_text(self, limit: int | None = None) -> str:
        """All text of the document, tables included (cells joined by spaces), one block per line.

        With ``limit``, only the first ``limit`` characters (built no further than needed).
        """
        out: list[str] = []
        size = 0
        for b in self.blocks:
            if b.kind == "text":
                out.append(b.text)
                size += len(b.text) + 1
            else:
                for row in b.rows:
                    line = " ".join(c.text for c in row)
                    out.append(line)
                    size += len(line) + 1
            if limit is not None and size > limit:     # (the joining newline needs the next block)
                break
        text = "\n".join(out)
        return text if limit is None else text[:limit]
