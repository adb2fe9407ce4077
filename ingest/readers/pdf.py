"""Text PDFs → :class:`Document` with pdfplumber.

Per page, in one pass: parse the characters once, drop fake-bold duplicates, find the ruled
tables (pdfplumber's line strategy), read each table's physical cells (pdfplumber gives None for
positions covered by a merged cell: those are dropped), read the text outside the tables as
lines, join wrapped lines into paragraphs, and emit paragraphs and tables in vertical order.

Tables split across pages come out as separate table blocks, in order; the second part may start
with a repeated header or with a row of empty cells (the part of a row-spanning cell that fell on
the new page).  Rows whose cells are all empty are dropped; everything else is kept, since the
mapper walks table tokens in order and a repeated header is harmless to it.

Refused: files pdfminer cannot open, files that need a password to open, more than ``limits.MAX_PDF_PAGES`` pages,
content streams that inflate beyond a sane size, and PDFs with no extractable text (scanned
pages: code ``needs_ocr``) — an empty extraction is never passed on as a document (§12.7).
"""

from __future__ import annotations

import io
import logging
import math
import re
import zlib
from bisect import bisect_left, bisect_right
from itertools import islice

import pdfplumber
from pdfminer.ascii85 import asciihexdecode
from pdfminer.layout import LTChar
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import PDFStream, resolve1
from pdfminer.runlength import rldecode
from pdfplumber.page import Page
from pdfplumber.table import Table
from pdfplumber.utils.exceptions import PdfminerException

from ingest import limits
from ingest.document import Block, Cell, Document, table_cell_where
from ingest.errors import RejectedFile
from ingest.readers.common import check_text_size, too_many_cells
from ingest.readers.pdf_patches import ascii85_decode, inflate_damaged  # importing it hardens pdfminer
from ingest.textnorm import strip_invisible

# pdfminer logs every oddity of a damaged file as a warning on stderr; users see our reasons.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

_NOT_PDF = "不是有效的 PDF 文件，或文件已损坏"
_ENCRYPTED = "PDF 文件已加密（需要打开密码），请取消密码后再导入"
_NEEDS_OCR = "没有可提取的文字（可能是扫描件，需要 OCR）"
_GARBLED = "PDF 中的文字无法正确提取（字体缺少编码信息），需要 OCR"

_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0002ffff"
_CJK_RE = re.compile(f"[{_CJK}]")
_CJK_SPACE = re.compile(f"(?<=[{_CJK}])[ \u00a0]+(?=[{_CJK}])")
_PAGE_NUMBER = re.compile(
    r"^[-—–_\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/／]\s*\d{1,4}|\s*共\s*\d{1,4}\s*页)?[-—–_\s]*$"
)
# A line that starts a new paragraph even when the previous line ran to the right margin.
_PARA_START = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．](?!\d)|第[一二三四五六七八九十]+|附件|[•·●■◆▪\-])"
)
# A line ending in a separate number (a row of a borderless table): never joined with the next.
_TABULAR_END = re.compile(r"\s[-+]?\d[\d,，.]*\s*$")



def read(data: bytes, source: str) -> Document:
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        inner = exc.args[0] if exc.args else None
        if type(inner).__name__ in ("PDFPasswordIncorrect", "PDFEncryptionError",
                                    "PDFEncryptionWarning"):
            raise RejectedFile(_ENCRYPTED, "unsupported") from exc
        raise RejectedFile(_NOT_PDF, "corrupt") from exc
    except Exception as exc:
        raise RejectedFile(_NOT_PDF, "corrupt") from exc
    with pdf:
        page_objs = _page_objects(pdf)
        reader = _Reader()
        doctop = 0.0
        for number, page_obj in enumerate(page_objs, start=1):
            _check_streams(page_obj, number)
            if pdf.doc.decipher:
                _repair_cid_system_info(page_obj)
            page = _Page(pdf, page_obj, page_number=number, initial_doctop=doctop)
            doctop += page.height
            try:
                reader.page(page, number)
            except PdfminerException as exc:        # pdfplumber wraps what pdfminer raised
                if exc.args and isinstance(exc.args[0], RejectedFile):
                    raise exc.args[0] from None
                raise
    if reader.chars == 0:
        raise RejectedFile(_NEEDS_OCR, "needs_ocr")
    if reader.cid_chars > reader.chars // 2:
        raise RejectedFile(_GARBLED, "needs_ocr")
    blocks = reader.finish()
    check_text_size(sum(len(b.text) + sum(len(c.text) for r in b.rows for c in r) for b in blocks))
    notes = []
    if reader.empty_pages and len(reader.empty_pages) < len(page_objs):
        pages = "、".join(str(p) for p in reader.empty_pages[:20])
        notes.append(f"第{pages}页没有可提取的文字（可能是扫描页）")
    return Document(source=source, format="pdf", blocks=blocks, notes=notes)


class _Page(Page):
    """A pdfplumber page that turns characters into small dicts.

    pdfplumber copies ~18 attributes per character, resolving colours and colour spaces; only
    the text, geometry, size and orientation are needed here, and building just those makes
    parsing a page about a quarter faster.  Lines, rects and curves keep the full treatment (the
    table finder needs them).
    """

    def process_object(self, obj):  # type: ignore[no-untyped-def]
        if obj.__class__ is not LTChar:
            return super().process_object(obj)
        mb_x0, mb_top = self.mediabox[:2]
        top = self.height - obj.y1 + mb_top
        return {
            "object_type": "char", "text": obj.get_text(), "x0": obj.x0 + mb_x0, "x1": obj.x1 + mb_x0,
            "y0": obj.y0, "y1": obj.y1, "top": top, "bottom": self.height - obj.y0 + mb_top,
            "doctop": self.initial_doctop + top, "width": obj.width, "height": obj.height,
            "size": obj.size, "upright": obj.upright, "fontname": obj.fontname,
            "page_number": self.page_number,
        }


# ---------------------------------------------------------------------------------------------
# Safety.

def _page_objects(pdf: pdfplumber.PDF) -> list[PDFPage]:
    """The document's pages, refusing more than MAX_PDF_PAGES before any page is parsed."""
    try:
        count = resolve1(resolve1(pdf.doc.catalog["Pages"]).get("Count"))
    except Exception:
        count = None
    if isinstance(count, int) and count > limits.MAX_PDF_PAGES:
        raise _too_many_pages(count)
    try:
        pages = list(islice(PDFPage.create_pages(pdf.doc), limits.MAX_PDF_PAGES + 1))
    except Exception as exc:
        raise RejectedFile(_NOT_PDF, "corrupt") from exc
    if len(pages) > limits.MAX_PDF_PAGES:
        raise _too_many_pages(count if isinstance(count, int) and count > len(pages) else None)
    if not pages:
        raise RejectedFile(_NOT_PDF, "corrupt")
    return pages


def _too_many_pages(count: int | None) -> RejectedFile:
    shown = f"{count} 页" if count else f"超过 {limits.MAX_PDF_PAGES} 页"
    return RejectedFile(f"PDF 页数过多（{shown}），不像是一份年度报告", "too_large")


def _check_streams(page_obj: PDFPage, number: int) -> None:
    """Refuse a page whose content (or a form it draws) inflates to more than limits.MAX_PDF_PAGE_STREAM.

    pdfminer inflates streams with an unbounded ``zlib.decompress``; a few MB of deflated zeros
    would otherwise take gigabytes of memory.
    """
    streams: list[PDFStream] = []
    try:
        for s in page_obj.contents:
            s = resolve1(s)
            if isinstance(s, PDFStream):
                streams.append(s)
        xobjects = resolve1(resolve1(page_obj.resources or {}).get("XObject")) or {}
        if isinstance(xobjects, dict):
            for ref in list(xobjects.values())[:200]:
                s = resolve1(ref)
                if isinstance(s, PDFStream) and _name(s.attrs.get("Subtype")) == "Form":
                    streams.append(s)
    except Exception:
        return   # malformed resources: pdfminer will complain (→ corrupt) or ignore them
    budget = limits.MAX_PDF_PAGE_STREAM
    for s in streams:
        raw = s.rawdata
        if raw is None:
            continue
        if s.decipher:              # encrypted with an empty password: measure the plain stream
            raw = s.decipher(s.objid, s.genno, raw, s.attrs)
        budget -= _decoded_size(raw, s.get_filters(), budget)
        if budget < 0:
            raise RejectedFile(
                f"PDF 第{number}页的内容解压后体积异常（疑似压缩炸弹），已拒绝", "unsafe"
            )


# The character collection a predefined CJK CMap (the font's /Encoding) belongs to.
_CMAP_COLLECTIONS = (
    (("UniGB", "GB", "GBK", "GBT", "GBpc", "GBK2K"), b"GB1"),
    (("UniCNS", "B5", "ETen", "HK", "CNS"), b"CNS1"),
    (("UniJIS", "90ms", "90pv", "83pv", "Add-", "EUC-", "Ext-", "NWP-", "RKSJ-"), b"Japan1"),
    (("UniKS", "KSC"), b"Korea1"),
)


def _collection_of(encoding: str | None) -> bytes | None:
    if not encoding or encoding in ("Identity-H", "Identity-V"):
        return None
    for prefixes, ordering in _CMAP_COLLECTIONS:
        if any(encoding.startswith(p) for p in prefixes):
            return ordering
    return None


def _repair_cid_system_info(page_obj: PDFPage) -> None:
    """Give an encrypted PDF's CID fonts back the character collection the producer left unencrypted.

    Some producers (reportlab among them) encrypt the content but write the /CIDSystemInfo
    strings of a font in plain text; pdfminer decrypts them into noise, finds no Unicode map and
    extracts ``(cid:N)``, while a browser reads the text.  A font with a predefined CJK CMap as
    its /Encoding names its collection anyway (UniGB-UCS2-H → Adobe-GB1): noise is replaced
    with that.  Fonts whose strings decrypt to plain names are left alone.
    """
    try:
        fonts = resolve1(resolve1(page_obj.resources or {}).get("Font")) or {}
        if not isinstance(fonts, dict):
            return
        for ref in list(fonts.values())[:200]:
            font = resolve1(ref)
            if not isinstance(font, dict) or _name(font.get("Subtype")) != "Type0":
                continue
            ordering = _collection_of(_name(font.get("Encoding")))
            descendants = resolve1(font.get("DescendantFonts"))
            if ordering is None or not isinstance(descendants, list) or not descendants:
                continue
            cid_font = resolve1(descendants[0])
            info = resolve1(cid_font.get("CIDSystemInfo")) if isinstance(cid_font, dict) else None
            if not isinstance(info, dict):
                continue
            registry, order = resolve1(info.get("Registry")), resolve1(info.get("Ordering"))
            if not (_plain_name(registry) and _plain_name(order)):
                info["Registry"], info["Ordering"] = b"Adobe", ordering
    except Exception:
        return   # malformed resources: pdfminer will complain (→ corrupt) or ignore them


def _plain_name(value: object) -> bool:
    return isinstance(value, bytes) and value.isascii() and value.decode("ascii").isprintable()


def _decoded_size(data: bytes, filters: list, limit: int) -> int:
    """Size of a stream after its whole filter chain, decoding no further than about ``limit`` bytes.

    Every step counts: a deflate bomb behind /ASCII85Decode, or deflated twice, inflates just the same
    (a PDF of under 1 KB held 400 MB).  Filters that do not expand text (images, unknown ones) stop
    the measurement at their input size.
    """
    for f, _params in filters:
        name = _name(f)
        try:
            if name in ("FlateDecode", "Fl"):
                d = zlib.decompressobj()
                try:
                    data = d.decompress(data, limit + 1)
                except zlib.error:
                    data = inflate_damaged(data)     # what pdfminer falls back to
            elif name in ("ASCII85Decode", "A85"):
                data = ascii85_decode(data)
            elif name in ("ASCIIHexDecode", "AHx"):
                data = asciihexdecode(data)
            elif name in ("LZWDecode", "LZW"):
                parts, size = [], 0
                for part in LZWDecoder(io.BytesIO(data)).run():
                    parts.append(part)
                    size += len(part)
                    if size > limit:
                        break
                data = b"".join(parts)
            elif name in ("RunLengthDecode", "RL"):
                size = _runlength_size(data)
                data = rldecode(data) if size <= limit else b" " * (limit + 1)
            else:
                break
        except Exception:
            return 0                # unreadable: pdfminer gives up on it too (empty content, or corrupt)
        if len(data) > limit:
            break
    return len(data)


def _runlength_size(data: bytes) -> int:
    """Decoded size of a RunLengthDecode stream, without decoding it (up to 128 times its size)."""
    i = size = 0
    while i < len(data):
        b = data[i]
        if b == 128:
            break
        if b < 128:
            size += b + 1
            i += b + 2
        else:
            size += 257 - b
            i += 2
    return size

def _name(obj: object) -> str | None:
    """The name of a PDF name object (pdfminer PSLiteral), else None."""
    name = getattr(obj, "name", None)
    return name.decode("latin-1") if isinstance(name, bytes) else name


# ---------------------------------------------------------------------------------------------
# Text helpers.

def _is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def _line_text(chars: list[dict]) -> str:
    """Rebuild a line from its characters: a gap becomes a space only when it is wide.

    pdfplumber inserts a space for any gap over 3 pt, which splits justified Chinese text
    (``年 度``), and Word/LibreOffice add extra spacing between Chinese and Latin text
    (``2023 年``).  Next to a CJK character a gap must be about one character wide to count;
    between Latin letters and digits 0.15 of the font size is a word space.  Space characters drawn by the PDF
    itself are kept (collapsed).
    """
    out: list[str] = []
    prev = None
    for ch in chars:
        text = ch["text"]
        if prev is not None and text != " " and out and out[-1] != " ":
            gap = ch["x0"] - prev["x1"]
            size = max(ch.get("size") or 0, prev.get("size") or 0, 1.0)
            cjk = _is_cjk(text[:1]) or _is_cjk(prev["text"][-1:])
            if gap > (0.9 * size if cjk else max(0.15 * size, 1.0)):
                out.append(" ")
        if text == " ":
            if out and out[-1] != " ":
                out.append(" ")
        else:
            out.append(text)
        prev = ch
    line = "".join(out).strip()
    return _CJK_SPACE.sub("", strip_invisible(line)) if " " in line else strip_invisible(line)


def _cluster_lines(chars: list[dict], tolerance: float = 3.0) -> list[list[dict]]:
    """Group characters into visual lines (tops within ``tolerance``), each sorted left to right."""
    lines: list[list[dict]] = []
    current: list[dict] = []
    last_top = None
    for ch in sorted(chars, key=lambda c: c["top"]):
        if current and ch["top"] - last_top > tolerance:
            lines.append(current)
            current = []
        current.append(ch)
        last_top = ch["top"]
    if current:
        lines.append(current)
    for line in lines:
        line.sort(key=lambda c: c["x0"])
    return lines


def _cell_texts(cells: list[tuple], chars: list[dict]) -> dict[tuple, str]:
    """Text of each cell (by bbox): its characters' lines, joined by "\n".

    Each character goes to the cell holding its centre, found by bisecting the table's grid
    lines — pdfplumber's ``Table.extract`` tests every character against every cell instead.
    """
    xs = sorted({c[0] for c in cells} | {c[2] for c in cells})
    ys = sorted({c[1] for c in cells} | {c[3] for c in cells})
    grid: dict[tuple[int, int], int] = {}
    for idx, (x0, top, x1, bottom) in enumerate(cells):
        for i in range(bisect_left(xs, x0), bisect_left(xs, x1)):
            for j in range(bisect_left(ys, top), bisect_left(ys, bottom)):
                grid[(i, j)] = idx
    per_cell: list[list[dict]] = [[] for _ in cells]
    for ch in chars:
        i = bisect_right(xs, (ch["x0"] + ch["x1"]) / 2) - 1
        j = bisect_right(ys, (ch["top"] + ch["bottom"]) / 2) - 1
        idx = grid.get((i, j))
        if idx is not None:
            per_cell[idx].append(ch)
    out: dict[tuple, str] = {}
    for bbox, cell_chars in zip(cells, per_cell, strict=True):
        lines = (_line_text(line) for line in _cluster_lines(cell_chars))
        out[bbox] = "\n".join(t for t in lines if t)
    return out


def _duplicates(chars: list[dict]) -> set[int]:
    """ids of characters drawn twice at (almost) the same place — fake bold in WPS/Word PDFs."""
    # x positions kept per (char, line, 1-pt bucket): a copy within 1 pt lies in this or a neighbouring
    # bucket, so each character is compared with a few others, not with every earlier copy on its line
    # (quadratic: a line of 30,000 identical characters took 30 s)
    seen: dict[tuple[str, int, int], list[float]] = {}
    dup: set[int] = set()
    for ch in chars:
        text = ch["text"]
        if text == " ":
            continue
        top = round(ch["top"])
        x0 = ch["x0"]
        bucket = math.floor(x0) if math.isfinite(x0) else 0      # inf/NaN in a damaged file
        if any(abs(x0 - x) <= 1.0 for b in (bucket - 1, bucket, bucket + 1) for x in seen.get((text, top, b), ())):
            dup.add(id(ch))
        else:
            seen.setdefault((text, top, bucket), []).append(x0)
    return dup


# ---------------------------------------------------------------------------------------------
# Page reading.

class _Line:
    __slots__ = ("bottom", "page", "size", "text", "top", "x0", "x1")

    def __init__(self, text: str, x0: float, x1: float, top: float, bottom: float, size: float,
                 page: int) -> None:
        self.text, self.x0, self.x1, self.top, self.bottom, self.size, self.page = (
            text, x0, x1, top, bottom, size, page)


class _Reader:
    def __init__(self) -> None:
        # items in reading order: _Line lists grouped per page ("lines", right margin) or tables
        self.items: list[tuple[str, object]] = []
        self.chars = 0
        self.cid_chars = 0
        self.tables = 0
        self.cells = 0
        self.empty_pages: list[int] = []

    def page(self, page: Page, number: int) -> None:
        chars = page.chars
        visible = [c for c in chars if not c["text"].isspace()]
        self.chars += len(visible)
        self.cid_chars += sum(1 for c in visible if c["text"].startswith("(cid:"))
        if not visible:
            self.empty_pages.append(number)
            return
        if self.chars > limits.MAX_TEXT_CHARS:
            check_text_size(self.chars)
        dup = _duplicates(chars)
        if dup:
            chars = [c for c in chars if id(c) not in dup]

        # The line strategy looks at ruling lines only; the characters are assigned to the
        # tables' cells (or to the running text) here, in one pass.
        tables = [t for t in page.find_tables() if len(t.cells) >= 2]
        boxes = [t.bbox for t in tables]
        in_table: list[list[dict]] = [[] for _ in tables]
        outside: list[dict] = []
        for ch in chars:
            cx = (ch["x0"] + ch["x1"]) / 2
            cy = (ch["top"] + ch["bottom"]) / 2
            for i, (x0, top, x1, bottom) in enumerate(boxes):
                if x0 <= cx <= x1 and top <= cy <= bottom:
                    in_table[i].append(ch)
                    break
            else:
                outside.append(ch)

        items: list[tuple[float, str, object]] = []
        height = float(page.height)
        for line in _cluster_lines(outside):
            text = _line_text(line)
            if not text:
                continue
            top = min(c["top"] for c in line)
            bottom = max(c["bottom"] for c in line)
            if (bottom < 0.1 * height or top > 0.9 * height) and _PAGE_NUMBER.match(text):
                continue   # page numbers ("- 3 -", "第 3 页 共 5 页")
            size = max((c.get("size") or 0) for c in line) or 10.0
            items.append((top, "line", _Line(text, line[0]["x0"], max(c["x1"] for c in line), top,
                                             bottom, size, number)))
        for t, t_chars in zip(tables, in_table, strict=True):
            items.append((t.bbox[1], "table", self.table(t, t_chars, number)))
        items.sort(key=lambda it: it[0])
        lines = [it[2] for it in items if it[1] == "line"]
        margins = (min((ln.x0 for ln in lines), default=0.0), max((ln.x1 for ln in lines), default=0.0))
        for _, kind, obj in items:
            self.items.append((kind, (obj, margins) if kind == "line" else obj))

    def table(self, table: Table, chars: list[dict], number: int) -> Block | None:
        self.tables += 1
        n = self.tables
        cells_geo = [c for row in table.rows for c in row.cells if c is not None]
        texts = _cell_texts(cells_geo, chars)
        xs = sorted({round(c[0], 1) for c in cells_geo})
        ys = sorted({round(c[1], 1) for c in cells_geo})
        rows: list[list[Cell]] = []
        for r_idx, row in enumerate(table.rows, start=1):
            out: list[Cell] = []
            c_idx = 0
            for bbox in row.cells:
                if bbox is None:
                    continue   # covered by a merged cell
                x0, top, x1, bottom = bbox
                colspan = sum(1 for x in xs if x0 - 0.5 <= x < x1 - 0.5) or 1
                rowspan = sum(1 for y in ys if top - 0.5 <= y < bottom - 0.5) or 1
                text = texts.get(bbox, "")
                if not text and rowspan > 1:
                    continue   # the part of a row-spanning label cell continued on a new page
                c_idx += 1
                self.cells += 1
                if self.cells > limits.MAX_TABLE_CELLS:
                    raise too_many_cells()
                out.append(Cell(text, f"第{number}页 {table_cell_where(n, r_idx, c_idx)}", colspan, rowspan))
            if any(c.text for c in out):
                rows.append(out)
        return Block.table(rows, f"第{number}页 表格{n}") if rows else None

    def finish(self) -> list[Block]:
        """Join wrapped lines into paragraphs (also across a page break) and emit all blocks."""
        blocks: list[Block] = []
        current: list[str] = []
        where = ""
        prev: tuple[_Line, tuple[float, float]] | None = None

        def flush() -> None:
            nonlocal current
            if current:
                blocks.append(Block.paragraph("".join(current), where))
                current = []

        for kind, obj in self.items:
            if kind == "table":
                flush()
                prev = None
                if obj is not None:
                    blocks.append(obj)
                continue
            line, margins = obj
            if prev is not None and _continues(prev, (line, margins)):
                a, b = current[-1][-1:], line.text[:1]
                current.append(" " + line.text if a.isascii() and a.isalnum() and b.isascii()
                               and b.isalnum() else line.text)
            else:
                flush()
                current = [line.text]
                where = f"第{line.page}页"
            prev = (line, margins)
        flush()
        return blocks


def _continues(prev: tuple[_Line, tuple[float, float]], nxt: tuple[_Line, tuple[float, float]]) -> bool:
    """Does ``nxt`` continue the paragraph of ``prev`` (a line wrapped at the right margin)?

    Yes when ``prev`` runs to within 2.5 characters of the page's right text margin (ragged
    right text from web pages stops up to two characters short), ``nxt`` is not indented (the
    first line of a Chinese paragraph is), follows at normal line spacing (or on the next page),
    and neither line looks like a heading, a list item or a row of a borderless table.
    """
    a, (_, right_a) = prev
    b, (left_b, _) = nxt
    if a.x1 < right_a - 2.5 * a.size or b.x0 > left_b + 0.8 * b.size:
        return False
    if _TABULAR_END.search(a.text) or _TABULAR_END.search(b.text) or _PARA_START.match(b.text):
        return False
    if b.page == a.page:
        gap = b.top - a.bottom
        return -1.0 <= gap <= 1.0 * max(a.size, b.size)
    return b.page == a.page + 1
