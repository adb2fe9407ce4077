"""Fuzz inputs and output checks shared by ``tests/test_fuzz.py`` (hypothesis) and ``bench/fuzz_parse.py``.

Every mutation draws from a :class:`random.Random`, so the benchmark's seeded generator and hypothesis's
``st.randoms()`` drive the same code, and one seed always gives the same bytes (that is the reproducer).

* **Seeds**: the real samples in ../shared/samples (when present) and clean demo reports rendered in every
  format (``text``/``pipe``/``html``/``docx``/``pdf``, both templates).
* **Byte mutations** (:data:`BYTE_MUTATORS`): bit flips, truncation, random insertions and deletions,
  duplicated chunks, splices of two files; plus structure-aware ones that mutate the XML inside a DOCX or an
  inflated PDF content stream, so that the mutation reaches the reader rather than the zip/zlib checksum.
* **Encoding mislabelling** (:data:`ENCODING_MUTATORS`): GBK/UTF-16-without-BOM text, stray invalid bytes,
  GBK pages that declare UTF-8 and the reverse, odd declared charsets.
* **Text mutations** (:func:`mutate_text`): label typos, deleted/duplicated/swapped lines, random numbers
  (negative, decimal, huge), markers, whitespace and zero-width characters, stray headings and pipes.
* **Report mutations** (:func:`mutate_report`): the same on a :class:`DemoReport` before it is rendered, so
  that DOCX/PDF/HTML carry well-formed but hostile content (HTML/JS, Markdown, formula injection).

:func:`check_result` states what every parse result must satisfy; :func:`check_refusal` what a refusal must.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import random
import re
import signal
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from ingest.errors import RejectedFile

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
KEYS_TSV = ROOT / "ingest" / "templates" / "keys.tsv"

FORMATS = ("text", "html", "docx", "pdf")
DEMO_FORMATS = {"text": "text", "pipe": "text", "html": "html", "docx": "docx", "pdf": "pdf"}
EXT = {"text": ".txt", "html": ".html", "docx": ".docx", "pdf": ".pdf"}

CHINESE = re.compile(r"[\u4e00-\u9fff]")

# Content that must come out as inert text: script and event handlers, Markdown links and emphasis,
# template and formula injection, SQL, a bidi override.
HOSTILE = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<iframe src=javascript:alert(document.cookie)></iframe>",
    "**重要通知**",
    "[点击查看](javascript:alert(1))",
    "![图](http://evil.example/x.png)",
    "{{7*7}}${7*7}",
    "=HYPERLINK(\"http://evil.example\",\"点我\")",
    "'; DROP TABLE reports; --",
    "</td></tr></table><b>",
    "&lt;b&gt;&amp;",
    "\u202e反转文字",
)


# ------------------------------------------------------------------------------------------- seeds

@dataclass(frozen=True)
class Seed:
    """A clean input file to mutate."""

    name: str            # "real:quangang-2020.txt", "demo:2021-pipe"
    fmt: str             # the reader it is meant for: text | html | docx | pdf
    filename: str        # the file name handed to the parser (its extension matters for text/html)
    data: bytes


def real_seeds() -> list[Seed]:
    """The real samples (empty when ../shared is absent: the demo seeds still run)."""
    if not SAMPLES.is_dir():
        return []
    out: list[Seed] = []
    fmts = {".txt": "text", ".html": "html", ".docx": "docx", ".pdf": "pdf"}
    for p in sorted([*SAMPLES.glob("*.*"), *(SAMPLES / "excerpts").glob("*.txt")]):
        if p.suffix in fmts:
            out.append(Seed(f"real:{p.name}", fmts[p.suffix], p.name, p.read_bytes()))
    return out


def demo_report(template: str = "2021"):
    """A clean synthetic report (tests/reportkit.py) as a :class:`DemoReport`."""
    from tests.reportkit import base_report

    return base_report(template)


def render_report(report, demo_fmt: str) -> Seed:
    from ingest.demo.layout import render

    fmt = DEMO_FORMATS[demo_fmt]
    return Seed(f"demo:{report.template}-{demo_fmt}", fmt, f"r{EXT[fmt]}", render(report, demo_fmt))


@cache
def demo_seeds() -> tuple[Seed, ...]:
    out = []
    for template in ("2019", "2021"):
        rep = demo_report(template)
        for demo_fmt in DEMO_FORMATS:
            out.append(render_report(rep, demo_fmt))
    gbk = demo_report("2021")
    gbk.style["encoding"] = "gbk"
    out.append(Seed("demo:2021-html-gbk", "html", "r.html", _render(gbk, "html")))
    out.append(Seed("demo:2021-text-gbk", "text", "r.txt", _render(gbk, "pipe")))
    return tuple(out)


def _render(report, demo_fmt: str) -> bytes:
    from ingest.demo.layout import render

    return render(report, demo_fmt)


@cache
def all_seeds() -> tuple[Seed, ...]:
    return (*real_seeds(), *demo_seeds())


def seeds_for(fmt: str) -> list[Seed]:
    return [s for s in all_seeds() if s.fmt == fmt]


# ------------------------------------------------------------------------------------------- bytes

_TOKENS = (
    b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\xff", b"\x80", b"\r", b"\n\n", b"\t", b"|", b"||||",
    b"<", b">", b"</td>", b"<td colspan=\"999999\">", b"<tr>", b"<table>", b"&nbsp;", b"&#0;", b"&#x110000;",
    b"<!--", b"]]>", b"%PDF-1.4", b"PK\x03\x04", b"stream", b"endobj", b"/Length 999999999",
    "一、总体情况".encode(), "三、收到和处理政府信息公开申请情况".encode(), "第二十条第（一）项".encode(),
    "本年新收".encode(), "2020年度政府信息公开工作年度报告".encode(), b"-1", b"99999999999999999999",
    b"1e309", "—".encode(), "／".encode(), "无".encode(), "\u200b".encode(), "\u202e".encode(),
)


def _pos(data: bytes, rng: random.Random) -> int:
    return rng.randrange(len(data) + 1)


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8, 32))):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.8:
        return data[:_pos(data, rng)]
    return data[_pos(data, rng):]                 # the head is lost instead


def insert_bytes(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    if rng.random() < 0.5:
        chunk = rng.choice(_TOKENS) * rng.choice((1, 1, 2, 50))
    else:
        chunk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return data[:i] + chunk + data[i:]


def delete_range(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    n = rng.choice((1, 2, 8, 64, 512, 4096))
    return data[:i] + data[i + n:]


def duplicate_chunk(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    chunk = data[i:i + rng.choice((4, 32, 256, 2048))]
    j = _pos(data, rng)
    return data[:j] + chunk * rng.choice((1, 2, 5)) + data[j:]


# Units repeated by blow_up: the building blocks of each format's structure.
_RUN_UNITS = (
    b"\t", b"\t0", b"|", b"\n|", b"9", "一".encode(), "\t（一）予以公开".encode(), b"\n", b" ", b"0 ", b"\n0",
    "—".encode(), b"<td>", b"<td></td>", b"<tr><td>0</td></tr>", b"<div>", b"<p>", b"<table>", b"</table>",
    b"&nbsp;", b"<br>", b"<!--x-->", b'<td colspan="1000">', b"<w:p/>", b"<w:tc><w:p/></w:tc>",
    b"<w:r><w:t>9</w:t></w:r>", b"(9) Tj ", b"BT /F1 8 Tf 1 0 0 1 10 700 Tm (9999) Tj ET\n", b"0 0 m 500 0 l S\n",
)


def blow_up(data: bytes, rng: random.Random, before: bytes | None = None) -> bytes:
    """A long run of one structural unit or of a repeated chunk (100 KB – 1 MB): finds work that grows
    faster than the input (a quadratic loop shows up as a hang at this size, a linear one does not).
    ``before``: insert just before an occurrence of these bytes (a tag, a line) when there is one."""
    if rng.random() < 0.6 or len(data) < 16:
        unit = rng.choice(_RUN_UNITS)
    else:
        i = rng.randrange(len(data))
        unit = data[i:i + rng.choice((16, 256, 4096))]
    chunk = unit * (rng.choice((100_000, 300_000, 1_000_000)) // len(unit))
    spots = [m.start() for m in re.finditer(re.escape(before), data)] if before else []
    j = rng.choice(spots) if spots else _pos(data, rng)
    return data[:j] + chunk + data[j:]


def splice(data: bytes, rng: random.Random) -> bytes:
    """The head of this file and the tail of another seed (mixed formats and encodings)."""
    other = rng.choice(all_seeds()).data
    return data[:_pos(data, rng)] + other[_pos(other, rng):]


def mutate_docx_xml(data: bytes, rng: random.Random, how=None) -> bytes:
    """Mutate ``word/document.xml`` inside the zip and re-zip, so the XML reader sees the damage."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zin:
            members = [(info, zin.read(info)) for info in zin.infolist()]
    except Exception:
        return flip_bits(data, rng)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, body in members:
            if info.filename == "word/document.xml" and how is not None:
                body = how(body, rng)
            elif info.filename == "word/document.xml" or (info.filename.endswith(".xml") and rng.random() < 0.05):
                body = mutate_bytes(body, rng, plain=True)
            zout.writestr(info.filename, body)
    return buf.getvalue()


_STREAM = re.compile(rb"/Length (\d+)(?P<mid>[^>]*?/Filter\s*/FlateDecode[^>]*>>\s*stream\r?\n)", re.S)


def mutate_pdf_stream(data: bytes, rng: random.Random, how=None) -> bytes:
    """Inflate one FlateDecode stream, mutate it, deflate it back (xref offsets go stale, as in damaged PDFs)."""
    found = list(_STREAM.finditer(data))
    if not found:
        return flip_bits(data, rng)
    m = rng.choice(found)
    start, length = m.end(), int(m.group(1))
    try:
        body = zlib.decompress(data[start:start + length])
    except zlib.error:
        return flip_bits(data, rng)
    body = zlib.compress(how(body, rng) if how else mutate_bytes(body, rng, plain=True))
    return data[:m.start()] + b"/Length %d" % len(body) + m.group("mid") + body + data[start + length:]


_PLAIN: tuple[tuple[str, Callable[[bytes, random.Random], bytes]], ...] = (
    ("flip_bits", flip_bits), ("truncate", truncate), ("insert", insert_bytes), ("delete", delete_range),
    ("duplicate", duplicate_chunk),
)
BYTE_MUTATORS: tuple[tuple[str, Callable[[bytes, random.Random], bytes]], ...] = (
    *_PLAIN, ("splice", splice), ("docx_xml", mutate_docx_xml), ("pdf_stream", mutate_pdf_stream),
    ("blow_up", blow_up),
    ("docx_blow_up", lambda d, r: mutate_docx_xml(d, r, lambda b, r2: blow_up(b, r2, b"<w:"))),
    ("pdf_blow_up", lambda d, r: mutate_pdf_stream(d, r, lambda b, r2: blow_up(b, r2, b"BT"))),
)


def mutate_bytes(data: bytes, rng: random.Random, *, plain: bool = False, n: int | None = None) -> bytes:
    """Apply 1–3 random byte mutations (``plain``: only the format-agnostic ones)."""
    pool = _PLAIN if plain else BYTE_MUTATORS
    for _ in range(n or rng.choice((1, 1, 2, 3))):
        data = rng.choice(pool)[1](data, rng)
    return data


def byte_mutators_for(fmt: str) -> list[str]:
    names = [n for n, _ in _PLAIN] + ["splice", "blow_up"]
    if fmt == "docx":
        names += ["docx_xml", "docx_xml", "docx_xml", "docx_blow_up"]
    if fmt == "pdf":
        names += ["pdf_stream", "pdf_stream", "pdf_stream", "pdf_blow_up"]
    return names


BYTE_MUTATOR = dict(BYTE_MUTATORS)


# ------------------------------------------------------------------------------------------- encodings

def decoded(seed: Seed) -> str | None:
    """The text of a text/HTML seed (None for DOCX/PDF)."""
    if seed.fmt not in ("text", "html"):
        return None
    for enc in ("utf-8", "gb18030"):
        try:
            return seed.data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def _encode(text: str, enc: str) -> bytes:
    return text.encode(enc, errors="replace")


_CHARSET = re.compile(r"charset=[\"']?[\w-]+", re.I)


def _declare(html: str, charset: str) -> str:
    if _CHARSET.search(html):
        return _CHARSET.sub(f"charset={charset}", html, count=1)
    return f'<meta http-equiv="Content-Type" content="text/html; charset={charset}" />\n' + html


def as_gbk(text: str, rng: random.Random) -> bytes:
    return _encode(text, rng.choice(("gbk", "gb18030", "gb2312")))


def as_utf16_without_bom(text: str, rng: random.Random) -> bytes:
    return _encode(text, rng.choice(("utf-16-le", "utf-16-be")))


def utf8_with_stray_bytes(text: str, rng: random.Random) -> bytes:
    """Mostly UTF-8 with a few invalid bytes: strict UTF-8 fails, the GBK/charset-detection paths run."""
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 4)):
        i = _pos(bytes(data), rng)
        data[i:i] = bytes([rng.choice((0x80, 0xC3, 0xE4, 0xFF, 0xFE, 0xA1))])
    return bytes(data)


def gbk_with_stray_bytes(text: str, rng: random.Random) -> bytes:
    data = bytearray(_encode(text, "gbk"))
    for _ in range(rng.randint(1, 4)):
        i = _pos(bytes(data), rng)
        data[i:i] = bytes([rng.choice((0x80, 0xFF, 0x81, 0xA1))])
    return bytes(data)


def mixed_halves(text: str, rng: random.Random) -> bytes:
    """One half UTF-8, the other GBK (a page pasted together from two sources)."""
    i = rng.randrange(len(text) + 1)
    return text[:i].encode("utf-8") + _encode(text[i:], "gbk")


def html_gbk_claiming_utf8(text: str, rng: random.Random) -> bytes:
    return _encode(_declare(text, "utf-8"), "gbk")


def html_utf8_claiming_gbk(text: str, rng: random.Random) -> bytes:
    return _declare(text, rng.choice(("gb2312", "gbk", "big5"))).encode("utf-8")


def html_odd_charset(text: str, rng: random.Random) -> bytes:
    label = rng.choice(("utf-7", "base64", "rot13", "utf-16", "utf-32", "latin-1", "x-user-defined",
                        "koi8-r", "zlib", "hex", "", "utf-8\"><script>"))
    data = _declare(text, label).encode("utf-8")
    return utf8_with_stray_bytes(data.decode("utf-8"), rng) if rng.random() < 0.5 else data


ENCODING_MUTATORS: dict[str, tuple[tuple[str, Callable[[str, random.Random], bytes]], ...]] = {
    "text": (("gbk", as_gbk), ("utf16_nobom", as_utf16_without_bom), ("utf8_stray", utf8_with_stray_bytes),
             ("gbk_stray", gbk_with_stray_bytes), ("mixed_halves", mixed_halves)),
    "html": (("gbk_claims_utf8", html_gbk_claiming_utf8), ("utf8_claims_gbk", html_utf8_claiming_gbk),
             ("odd_charset", html_odd_charset), ("utf16_nobom", as_utf16_without_bom),
             ("utf8_stray", utf8_with_stray_bytes), ("mixed_halves", mixed_halves)),
}


# ------------------------------------------------------------------------------------------- text

_CJK_POOL = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于年度政府信息公开申请本新收结转办理予以部分不予无法提供处理总计自然人法人其他组织行政复议诉讼维持纠正结果"
_MARKERS = ("-", "—", "——", "/", "／", "\\", "无", "〃", "–", "－", "", " ", "　", "&nbsp;", "N/A", "空")
_SPACES = (" ", "\t", "\u3000", "\xa0", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e",
           "\u2028", "\r", "\n", "\f", "\v")
_HEADINGS = ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
             "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项",
             "第二十条第（一）项", "第二十条第（五）项", "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
             "申请人情况", "行政复议", "本年新收政府信息公开申请数量", "（七）总计", "小计")


def random_number(rng: random.Random) -> str:
    """A number as a report might (or should never) print it."""
    kind = rng.randrange(12)
    if kind == 0:
        return str(-rng.randint(1, 10**6))
    if kind == 1:
        return f"{rng.uniform(-1e6, 1e6):.{rng.randint(1, 6)}f}"
    if kind == 2:
        return str(rng.randint(10**15, 10**40))
    if kind == 3:
        return "9" * rng.choice((300, 400, 4301, 5000))          # past float range / int-str digit limit
    if kind == 4:
        return "1" * rng.choice((309, 400)) + ".5"
    if kind == 5:
        return f"{rng.randint(0, 10**9):,}"
    if kind == 6:
        return rng.choice(("1.2.3", "+5", "−3", "１２", "٣", "²", "1e5", "0x1F", "NaN", "inf", "-0", "00012",
                           "3件", "251000元", "25.6万元", "1,2,,3", "，5", ".5", "5."))
    if kind == 7:
        return f"{rng.randint(0, 50)}{rng.choice(('万元', '元', '件', '项', '个', '条', '%', '人'))}"
    return str(rng.randint(0, 60))


def _lines_op(lines: list[str], rng: random.Random) -> list[str]:
    if not lines:
        return lines
    i = rng.randrange(len(lines))
    op = rng.randrange(4)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
    elif op == 2:
        j = min(len(lines) - 1, i + rng.choice((1, 1, 2, 9)))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines.insert(i, rng.choice(_HEADINGS))
    return lines


def _typo(text: str, rng: random.Random) -> str:
    idx = [i for i, ch in enumerate(text) if CHINESE.match(ch)]
    if not idx:
        return text
    i = rng.choice(idx)
    op = rng.randrange(3)
    if op == 0:
        return text[:i] + rng.choice(_CJK_POOL) + text[i + 1:]
    if op == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


_NUM = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")


def _renumber(text: str, rng: random.Random) -> str:
    found = list(_NUM.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    return text[:m.start()] + random_number(rng) + text[m.end():]


def _marker(text: str, rng: random.Random) -> str:
    found = list(_NUM.finditer(text))
    if found and rng.random() < 0.7:
        m = rng.choice(found)
        return text[:m.start()] + rng.choice(_MARKERS) + text[m.end():]
    i = rng.randrange(len(text) + 1)
    return text[:i] + "\n" + rng.choice(_MARKERS) + "\n" + text[i:]


def _whitespace(text: str, rng: random.Random) -> str:
    out = text
    for _ in range(rng.choice((1, 3, 10))):
        i = rng.randrange(len(out) + 1)
        out = out[:i] + rng.choice(_SPACES) * rng.choice((1, 1, 3)) + out[i:]
    return out


def _layout(text: str, rng: random.Random) -> str:
    """Pipes and tabs in random places: changes which table layout the text reader sees."""
    out = text
    for _ in range(rng.choice((1, 2, 5))):
        i = rng.randrange(len(out) + 1)
        out = out[:i] + rng.choice(("|", "\n|\n", "\t", "\n\t", "||", "|" * 25, "\n\n")) + out[i:]
    return out


def _hostile(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(HOSTILE) + text[i:]


TEXT_MUTATORS: tuple[tuple[str, Callable[[str, random.Random], str]], ...] = (
    ("typo", _typo),
    ("lines", lambda t, r: "\n".join(_lines_op(t.split("\n"), r))),
    ("number", _renumber), ("marker", _marker), ("whitespace", _whitespace), ("layout", _layout),
    ("hostile", _hostile),
)


def mutate_text(text: str, rng: random.Random, n: int | None = None) -> str:
    for _ in range(n or rng.choice((1, 2, 3, 6, 12))):
        text = rng.choice(TEXT_MUTATORS)[1](text, rng)
    return text


# ------------------------------------------------------------------------------------------- reports

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def mutate_report(report, rng: random.Random, xml_safe: bool = False):
    """A copy of a DemoReport with random cells, narrative, title and unit replaced (well-formed files).

    ``xml_safe``: drop the control characters XML forbids (python-docx writes them into document.xml
    as they are, giving a file Word cannot open either; the DOCX reader strips them before parsing)."""
    rep = _mutate_report(report, rng)
    if xml_safe:
        rep.cells = {k: _XML_INVALID.sub("", v) for k, v in rep.cells.items()}
        rep.sections = {k: _XML_INVALID.sub("", v) for k, v in rep.sections.items()}
        rep.title = _XML_INVALID.sub("", rep.title) if rep.title else rep.title
        rep.unit = _XML_INVALID.sub("", rep.unit)
    return rep


def _mutate_report(report, rng: random.Random):
    rep = copy.deepcopy(report)
    keys = sorted(rep.cells)
    for _ in range(rng.choice((1, 3, 10, 40))):
        k = rng.choice(keys)
        roll = rng.random()
        if roll < 0.45:
            rep.cells[k] = random_number(rng)
        elif roll < 0.65:
            rep.cells[k] = rng.choice(_MARKERS)
        elif roll < 0.8:
            rep.cells[k] = rng.choice(HOSTILE)
        elif roll < 0.9:
            del rep.cells[k]
            keys.remove(k)
            if not keys:
                break
        else:
            rep.cells[k] = mutate_text(rep.cells[k] or "0", rng, 2)
    for sid in list(rep.sections):
        if rng.random() < 0.4:
            rep.sections[sid] = mutate_text(rep.sections[sid] or "", rng)
    if rng.random() < 0.2:
        rep.title = mutate_text(rep.default_title(), rng, 2)
    if rng.random() < 0.1:
        rep.unit = rng.choice((*HOSTILE, rep.unit + rng.choice(HOSTILE)))
    return rep


# ------------------------------------------------------------------------------------------- checks

@cache
def template_keys() -> dict[str, frozenset[str]]:
    """keys.tsv read directly (not through the parser's loader): template → canonical keys."""
    out: dict[str, set[str]] = {"2019": set(), "2021": set()}
    with open(KEYS_TSV, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            for t in ("2019", "2021") if row["template"] == "both" else (row["template"],):
                out[t].add(row["key"])
    return {t: frozenset(v) for t, v in out.items()}


CONTRACT = ("source", "sha256", "format", "unit", "unit_level", "region", "year", "template", "published",
            "cells", "units", "narrative", "findings")
KINDS = {"number", "zero_marker", "na_marker", "blank", "text"}
SEVERITIES = {"error", "warning", "info"}
MONEY = {"s2.procurement.amount", "s2.fee.amount"}


def _opt_year(name: str, v: object) -> None:
    assert v is None or (type(v) is int and 1990 <= v <= 2100), f"{name} 超出范围：{v!r}"


def check_result(r: dict, fmt: str | None = None) -> None:
    """Every invariant a parse result must satisfy, whatever the input was."""
    assert isinstance(r, dict)
    for f in CONTRACT:
        assert f in r, f"缺少字段 {f}"
    assert r["format"] in FORMATS and (fmt is None or r["format"] == fmt), r["format"]
    assert r["template"] in ("2019", "2021", "legacy", "unknown"), r["template"]
    allowed = template_keys().get(r["template"], frozenset())
    cells = r["cells"]
    assert isinstance(cells, dict) and set(cells) <= allowed, sorted(set(cells) - allowed)[:5]
    for k, v in cells.items():
        assert v is None or type(v) in (int, float), (k, type(v))
    kinds = r["kinds"]
    assert set(kinds) == set(cells) == set(r["raw"]) == set(r["where"])
    for k, kind in kinds.items():
        assert kind in KINDS, (k, kind)
        assert (kind == "number") == (cells[k] is not None), (k, kind, cells[k])
        assert isinstance(r["raw"][k], str) and isinstance(r["where"][k], str)
    assert set(r["units"]) <= MONEY & set(cells), r["units"]
    assert all(u in (None, "元", "万元") for u in r["units"].values()), r["units"]
    for f in r["findings"]:
        assert isinstance(f["rule"], str) and f["rule"], f
        assert f["severity"] in SEVERITIES, f
        assert isinstance(f["message"], str) and CHINESE.search(f["message"]), f
        assert "\n" not in f["message"], f"消息应为一行：{f['message']!r}"
        assert isinstance(f["keys"], list) and all(isinstance(k, str) for k in f["keys"]), f
        for x in ("expected", "actual"):
            assert f[x] is None or type(f[x]) in (int, float, str), f     # numeric where numeric (spec §9.1)
        assert isinstance(f["assumed_zero"], list) and isinstance(f["evidence"], str), f
    _opt_year("year", r["year"])
    for y in ("title_year", "period_year"):
        assert r[y] is None or type(r[y]) is int, (y, r[y])
    assert r["unit_level"] in (None, "镇", "乡", "街道", "其他"), r["unit_level"]
    for f in ("unit", "region"):
        assert r[f] is None or (isinstance(r[f], str) and r[f] and "<" not in r[f] and ">" not in r[f]), r[f]
    if r["published"] is not None:
        date.fromisoformat(r["published"])
    assert isinstance(r["sections"], dict) and set(r["sections"]) <= set("一二三四五六")
    assert all(isinstance(s, str) for s in r["sections"].values())
    for e in r["extra"]:
        assert isinstance(e["label"], str) and all(isinstance(v, str) for v in e["values"]), e
    assert isinstance(r["narrative"], dict)
    # the CLI prints it as strict JSON (no NaN/Infinity)
    json.dumps(r, ensure_ascii=False, allow_nan=False)


def check_refusal(e: RejectedFile) -> None:
    """A refusal is one line of plain Chinese plus a short code."""
    assert isinstance(e.reason, str) and e.reason.strip(), repr(e.reason)
    assert "\n" not in e.reason and "Traceback" not in e.reason, e.reason
    assert CHINESE.search(e.reason), e.reason
    assert isinstance(e.code, str) and e.code, e.code


class OverBudget(BaseException):
    """A parse used more CPU time than its budget: a hang, for the fuzz tests and the fuzz run.

    A BaseException, so that no ``except Exception`` on the way (``read_document`` turns reader
    failures into refusals) can hide it as a refusal."""


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`OverBudget` inside the block once it has used ``seconds`` of CPU time.

    CPU time (SIGPROF), not wall time: a busy shared machine slows a parse down but cannot make it look
    hung, and SIGALRM stays free for pytest-timeout.
    """
    def _over(signum, frame):
        raise OverBudget(f"解析用时超过 {seconds:g} 秒 CPU 时间")

    old = signal.signal(signal.SIGPROF, _over)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def parse_bytes(data: bytes, filename: str) -> dict:
    """Parse bytes as if read from ``filename`` (nothing is written to disk)."""
    from ingest.parse import parse_file

    return parse_file(Path(filename), data=data)


def outcome(data: bytes, filename: str, fmt: str | None = None, budget: float = 30) -> str:
    """'parsed' or 'refused' after checking the result; any other exception propagates (OverBudget when
    the parse uses more than ``budget`` CPU seconds)."""
    try:
        with cpu_budget(budget):
            r = parse_bytes(data, filename)
    except RejectedFile as e:
        check_refusal(e)
        return "refused"
    check_result(r, fmt)
    return "parsed"


# ------------------------------------------------------------------------------------------- documents

@cache
def seed_documents() -> tuple:
    """The seeds read into :class:`Document` objects (the mapper's input), for document-level mutation."""
    from ingest.sniff import read_document

    return tuple(read_document(s.data, s.filename) for s in all_seeds())


def _cell_text(rng: random.Random, pool: list[str]) -> str:
    roll = rng.random()
    if roll < 0.35:
        return random_number(rng)
    if roll < 0.5:
        return rng.choice(_MARKERS)
    if roll < 0.6:
        return rng.choice(HOSTILE)
    if roll < 0.7:
        return rng.choice(_HEADINGS)
    return rng.choice(pool) if pool else ""


def mutate_document(doc, rng: random.Random):
    """Shuffle, drop, duplicate, split, merge and rewrite the blocks, rows and cells of a Document."""
    from ingest.document import Block, Cell, Document

    blocks = [Block(b.kind, b.text, [list(r) for r in b.rows], b.where) for b in doc.blocks]
    pool = [c.text for b in blocks for r in b.rows for c in r][:2000] + [b.text for b in blocks if b.text][:500]
    for _ in range(rng.choice((1, 3, 10, 30))):
        if not blocks:
            break
        i = rng.randrange(len(blocks))
        b = blocks[i]
        op = rng.randrange(10) if rng.random() < 0.98 else -1
        if op == -1:          # blow up to the readers' cell limit: a huge row, or a row repeated many times
            row = [Cell(_cell_text(rng, pool), "") for _ in range(rng.choice((10, 100)))]
            rows = [row * rng.choice((1, 50))] if rng.random() < 0.5 else [row] * rng.choice((20, 50))
            blocks.insert(i, Block.table(rows))
        elif op == 0:
            del blocks[i]
        elif op == 1:
            blocks.insert(rng.randrange(len(blocks) + 1), Block(b.kind, b.text, [list(r) for r in b.rows], b.where))
        elif op == 2:
            j = rng.randrange(len(blocks))
            blocks[i], blocks[j] = blocks[j], blocks[i]
        elif op == 3 and b.kind == "table":          # the table flattened to one cell per line
            blocks[i:i + 1] = [Block.paragraph(c.text, c.where) for r in b.rows for c in r]
        elif op == 4 and b.kind == "table" and len(b.rows) > 1:   # split / merge tables
            k = rng.randrange(1, len(b.rows))
            blocks[i:i + 1] = [Block.table(b.rows[:k], b.where), Block.table(b.rows[k:], b.where)]
        elif op == 5 and b.kind == "text":
            blocks[i] = Block.paragraph(mutate_text(b.text, rng, 1), b.where)
        elif b.kind == "table" and b.rows:
            rows = b.rows
            r = rng.randrange(len(rows))
            row_op = rng.randrange(6)
            if row_op == 0:
                del rows[r]
            elif row_op == 1:
                rows.insert(rng.randrange(len(rows) + 1), list(rows[r]))
            elif row_op == 2:
                s = rng.randrange(len(rows))
                rows[r], rows[s] = rows[s], rows[r]
            elif rows[r]:
                c = rng.randrange(len(rows[r]))
                cell = rows[r][c]
                if row_op == 3:
                    rows[r][c] = Cell(_cell_text(rng, pool), cell.where, cell.colspan, cell.rowspan)
                elif row_op == 4:
                    del rows[r][c]
                else:
                    rows[r][c] = Cell(cell.text, cell.where, rng.choice((0, 1, 3, 10**6)), rng.choice((0, 1, 2, 10**6)))
            else:
                rows[r].append(Cell(_cell_text(rng, pool), ""))
        else:
            blocks.insert(i, Block.paragraph(_cell_text(rng, pool)))
    return Document(doc.source, doc.format, blocks, doc.encoding)


def parse_doc(doc, budget: float = 30) -> str:
    """'parsed' or 'refused' for a Document given straight to the mapper; other exceptions propagate."""
    from ingest.parse import parse_document

    try:
        with cpu_budget(budget):
            r = parse_document(doc, sha256="0" * 64, source=doc.source)
    except RejectedFile as e:
        check_refusal(e)
        return "refused"
    check_result(r)
    return "parsed"
