"""Flatten a Document into one stream of tokens and find the report's sections in it.

Whatever the format, a report's tables come out as cells in reading order; the mapper walks
that stream.  Paragraphs become tokens too, because text renderings often put table cells on
lines of their own (one cell per line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.document import Document
from ingest.errors import RejectedFile
from ingest.templates import layout
from ingest.textnorm import clean, join_cjk, squash, strip_artifacts

MAX_HEADING_CHARS = 60
# A report is a few thousand tokens.  Past this the token stream alone costs seconds and hundreds of MB
# (3 MB of values run together: 1.5 million tokens), so the file is refused like the readers' giants.
MAX_TOKENS = 300_000


# Not frozen: a frozen dataclass __init__ costs ~4× (1.3 vs 0.3 µs) and a report makes hundreds of
# tokens.  Treat tokens as immutable all the same.
@dataclass(slots=True)
class Token:
    raw: str           # the text as printed (invisible characters and artifacts removed)
    text: str          # NFKC-normalised, spaces between CJK characters removed
    key: str           # squashed form for matching
    where: str
    in_table: bool
    row_start: bool
    index: int


# Markdown pasted from PDF-to-Markdown tools and chat assistants: "## 一、总体情况", "**（一）主动公开**", and
# the |---|:---:| line under a table's first row.
_MD_MARKS = re.compile(r"^(?:#{1,6}[ \t]*)?(?:\*\*|__)?(?P<body>.*?)(?:\*\*|__)?$", re.S)
_MD_RULE = re.compile(r"^\s*:?-{3,}:?\s*$")


def tokenize(doc: Document, simplify=None) -> list[Token]:
    out: list[Token] = []
    append = out.append
    pieces = _pieces if simplify is None else (lambda text, in_table: _simplified_pieces(text, in_table, simplify))
    # (written out flat, without a helper per cell: this loop runs for every cell of every report)
    for b in doc.blocks:
        if b.kind == "text":
            row_start = True
            text = b.text
            if text[:1] in "#*":
                text = _MD_MARKS.sub(r"\g<body>", text)
            for raw, t, key in pieces(text, False):
                append(Token(raw, t, key, b.where, False, row_start, len(out)))
                row_start = False
        else:
            for row in b.rows:
                if row and row[0].text.lstrip()[:1] in ("-", ":") and all(_MD_RULE.match(c.text) for c in row):
                    continue                      # a Markdown table's |---|---| line
                row_start = True
                for c in row:
                    if len(out) >= MAX_TOKENS:
                        raise _too_many_tokens()
                    for raw, t, key in pieces(c.text, True):
                        append(Token(raw, t, key, c.where, True, row_start, len(out)))
                        row_start = False
        if len(out) >= MAX_TOKENS:
            raise _too_many_tokens()
    return out


def _too_many_tokens() -> RejectedFile:
    return RejectedFile(f"内容过于零散（超过 {MAX_TOKENS // 10000} 万个文字片段），不像是一份年度报告", "too_large")


# A page's number on a line of its own, copied into the text with the page: "— 5 —", "- 4 -",
# "第 3 页 共 6 页" (a line of text, or a cell of a table rebuilt from text).  Never a value: a value
# has no dashes on both sides.
_PAGE_FURNITURE = re.compile(r"^\s*(?:[-—–_－]+\s*\d{1,4}\s*[-—–_－]+|第\s*\d{1,4}\s*页(?:\s*[，,/／]?\s*共\s*\d{1,4}\s*页)?)\s*$")


@lru_cache(maxsize=1 << 16)
def _pieces(text: str, in_table: bool) -> tuple[tuple[str, str, str], ...]:
    """The (raw, text, key) forms of the tokens one cell or paragraph yields: one, or several when
    cells were run together (cached: labels and small numbers repeat in every report)."""
    if _PAGE_FURNITURE.match(text):
        return ()
    parts = split_run_together(text, in_table)
    if parts is not None:
        return tuple(p for part in parts for p in _pieces(part, in_table))
    raw = strip_artifacts(text).strip()
    t = join_cjk(clean(raw)).strip()
    return ((raw, t, squash(t)),)


def _simplified_pieces(text: str, in_table: bool, simplify) -> list[tuple[str, str, str]]:
    """As :func:`_pieces`, with Traditional characters converted (not cached: rare)."""
    parts = split_run_together(text, in_table)
    if parts is not None:
        return [p for part in parts for p in _simplified_pieces(part, in_table, simplify)]
    raw = strip_artifacts(text).strip()
    t = simplify(join_cjk(clean(raw)).strip())
    return [(simplify(raw), t, squash(t))]


_VALUE = r"(?:[+-]?\d[\d,]*(?:\.\d+)?(?:万元|元)?(?:[（(][^（）()\s]{1,30}[）)])?|/|／|—|-|－|无)"
_RUN = re.compile(rf"^(?P<label>.*?[^\d\s.,+-])??\s*(?P<values>{_VALUE}(?:[ \t\u3000]+{_VALUE})+)$")
_TABLE_ROW_TAIL = re.compile(rf"(?:[ \t\u3000]+{_VALUE}){{5,}}$")
# A row of one value (F2021 表二's 行政许可 97, 行政处罚\t7): a short label of words only — no digits, no
# sentence punctuation — then one number.  Markers (无, —) after a label are left alone: in a sentence they
# are words.
_ONE_VALUE = re.compile(r"^(?P<label>[\u4e00-\u9fff（）()、“”]{2,30}?)[ \t\u3000]+(?P<value>[+-]?\d[\d,]*(?:\.\d+)?(?:万元|元)?)$")


@lru_cache(maxsize=1 << 16)
def split_run_together(text: str, in_table: bool) -> tuple[str, ...] | None:
    """``规章 0 0 6`` or ``0 0 6`` (cells run together with spaces, typical of PDF text) → parts.

    Only short strings whose tail is two or more value-like words are split; narrative
    sentences are left alone.
    """
    s = text.strip()
    if " " not in s and "\t" not in s and "\u3000" not in s:
        return None
    # A 表三 row flattened to one line carries a long label and seven values; a sentence never ends so.
    long_row = len(s) <= 160 and _TABLE_ROW_TAIL.search(s) is not None
    if (len(s) > 80 or (not in_table and len(s) > 60)) and not long_row:
        return None
    m = _RUN.match(s)
    if not m:
        one = _ONE_VALUE.match(s)
        return (one.group("label"), one.group("value")) if one else None
    label = (m.group("label") or "").strip()
    if label and (re.search(r"\d年|年\d|月|日", label) or len(label) > (70 if long_row else 40)):
        return None
    values = tuple(m.group("values").split())
    return ((label,) if label else ()) + values


_SECTION_RES = None


def _section_res() -> list[tuple[str, re.Pattern[str]]]:
    global _SECTION_RES
    if _SECTION_RES is None:
        _SECTION_RES = [(s["id"], re.compile(s["regex"])) for s in layout()["sections"]]
    return _SECTION_RES


def find_headings(tokens: list[Token]) -> dict[str, int]:
    """Section id (一…六) → index of its heading token, in document order.

    A heading must be short (a table-三 row label like ``四、结转下年度继续办理`` never matches the
    full heading text) and appear after the previous section's heading.
    """
    found: dict[str, int] = {}
    order = [sid for sid, _ in _section_res()]
    for tok in tokens:
        if not tok.key or tok.key[0] not in "一二三四五六" or len(tok.key) > MAX_HEADING_CHARS:
            continue
        for sid, rx in _section_res():
            if sid in found:
                continue
            if rx.search(tok.key):
                later = [found[s] for s in order[order.index(sid) + 1:] if s in found]
                if not later:
                    found[sid] = tok.index
                break
    return found


_S3_ANCHORS = ("本列数据的勾稽关系", "申请人情况", "本年新收")


def table_regions(tokens: list[Token], headings: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Token ranges holding the tables of sections 二, 三 and 四.

    Headings bound the regions when present; anchors inside the tables stand in for a missing
    heading (pages often drop or misspell them).
    """
    n = len(tokens)
    caption = re.compile(layout()["s2"]["caption_regex"])

    def first(pred, start: int = 0) -> int | None:
        return next((t.index for t in tokens[start:] if pred(t)), None)

    s2 = headings.get("二")
    if s2 is None:
        s2 = first(lambda t: len(t.key) <= 30 and caption.search(t.key) is not None)
    s3 = headings.get("三")
    if s3 is None:
        s3 = first(lambda t: any(a in t.key for a in _S3_ANCHORS) and len(t.key) <= 60, s2 or 0)
    s4 = headings.get("四")
    if s4 is None and s3 is not None:
        carry = first(lambda t: "结转下年度" in t.key and len(t.key) <= 30, s3)
        s4 = first(lambda t: t.key.startswith("行政复议") and len(t.key) <= 10, carry if carry is not None else s3)
    end = min([headings[s] for s in ("五", "六") if s in headings] + [n])
    regions: dict[str, tuple[int, int]] = {}
    starts = [("二", s2), ("三", s3), ("四", s4)]
    for i, (sid, start) in enumerate(starts):
        if start is None:
            continue
        nexts = [s for _, s in starts[i + 1:] if s is not None and s > start]
        stop = min(nexts) if nexts else n
        if sid == "四" or start < end:
            stop = min(stop, end) if end > start else stop
        regions[sid] = (start, stop)
    return regions
