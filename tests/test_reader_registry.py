"""The reader registry (ingest.readers.REGISTRY) and the one set of hidden/control characters."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import get_args

import pytest

from dashboard import config
from ingest.document import Block, Document, SourceFormat
from ingest.readers import REGISTRY, Reader
from ingest.sniff import detect_format, read_document
from ingest.store.units import normalise_region
from ingest.textnorm import CONTROL_CHARS, INVISIBLE_CHARS, clean, strip_invisible

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "samples"

# One file of every format sniff can return.
_KINDS = {
    "text": (b"2023\xe5\xb9\xb4\xe6\x8a\xa5\xe5\x91\x8a", "r.txt"),
    "html": (b"<html><body><p>x</p></body></html>", "r.html"),
    "docx": (b"PK\x03\x04 damaged", "r.docx"),
    "pdf": (b"%PDF-1.4\n", "r.pdf"),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"), "r.doc"),
    "wps": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"), "r.wps"),
    "rtf": (b"{\\rtf1 x}", "r.rtf"),
    "odt": (b"PK\x03\x04 damaged", "r.odt"),
}


def test_registry_keys_are_the_formats_sniff_returns() -> None:
    assert {detect_format(data, name) for data, name in _KINDS.values()} == set(REGISTRY)
    # what a Document can be: the formats read directly; the converted ones are read as .docx
    assert set(get_args(SourceFormat)) == {f for f, r in REGISTRY.items() if not r.converted}
    assert {f for f, r in REGISTRY.items() if r.converted} == {"doc", "wps", "rtf", "odt"}


def test_upload_types_come_from_the_registry() -> None:
    assert tuple(e for r in REGISTRY.values() for e in r.extensions) == config.UPLOAD_TYPES
    assert config.UPLOAD_TYPES == ("txt", "htm", "html", "docx", "pdf", "doc", "wps", "rtf", "odt")


def test_a_registered_reader_is_dispatched_to(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, str]] = []

    def fake(data: bytes, source: str) -> Document:
        seen.append((data, source))
        return Document(source, "text", [Block.paragraph("假的读取器")])

    monkeypatch.setitem(REGISTRY, "text", Reader(lambda: fake, "测试格式", ("tst",)))
    doc = read_document(b"anything", "r.txt")
    assert seen == [(b"anything", "r.txt")] and doc.blocks[0].text == "假的读取器"


def test_a_failing_reader_is_named_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes, source: str) -> Document:
        raise ValueError("library detail")

    monkeypatch.setitem(REGISTRY, "text", Reader(lambda: broken, "测试格式", ("tst",)))
    with pytest.raises(Exception) as exc:
        read_document(b"anything", "r.txt")
    assert str(exc.value).startswith("测试格式已损坏") and "ValueError" not in str(exc.value)


def test_reading_a_text_file_imports_no_other_reader() -> None:
    code = ("import sys; from ingest.sniff import read_document; read_document('2023年报告'.encode(), 'r.txt'); "
            "print([m for m in ('pdfplumber', 'lxml', 'selectolax', 'ingest.readers.pdf', 'ingest.readers.docx',"
            " 'ingest.readers.html') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_readers_do_not_import_the_dispatcher() -> None:
    """sniff imports the registry; a reader importing sniff back would be a cycle no import graph shows."""
    import ast

    for path in sorted((ROOT / "ingest" / "readers").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m and m.startswith("ingest.sniff")}, path.name


# ------------------------------------------------------------------------------------------- hidden characters

# The sets sniff.py, textnorm.py and store/units.py each defined before there was one.
_OLD_SETS = ("[\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069]",
             "[\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069\u00ad]",
             "[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def _chars(cls: str) -> set[str]:
    rx = re.compile(cls)
    return {chr(i) for i in range(0x110000) if rx.match(chr(i))}


def test_one_invisible_set_covers_the_old_ones() -> None:
    union = set().union(*(_chars(s) for s in _OLD_SETS))
    assert union <= _chars(f"[{INVISIBLE_CHARS}]")
    for ch in sorted(union):
        assert strip_invisible(f"行政{ch}复议") == "行政复议"
        assert clean(f"行政{ch}复议") == "行政复议"
        assert normalise_region(f"丰城{ch}市") == "丰城市"


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def test_control_chars_are_stripped_tab_and_newlines_kept() -> None:
    every = "".join(chr(i) for i in range(0x20)) + "\x7f\x85\x9f\ufffe\uffff"
    assert strip_invisible(f"a{every}b") == "a\t\n\rb"
    assert _chars(f"[{CONTROL_CHARS}]") == _chars(_XML_INVALID.pattern)


# ------------------------------------------------------------------------------------------- reading time

def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(k) + _strings(v)]
    if isinstance(obj, list | tuple | set):
        return [s for v in obj for s in _strings(v)]
    return []


def _parse(data: bytes, name: str) -> dict:
    from ingest.parse import parse_file

    return parse_file(Path(name), data=data)


def _assert_same_and_clean(clean_bytes: bytes, dirty_bytes: bytes, name: str) -> None:
    doc = read_document(dirty_bytes, name)
    texts = [b.text for b in doc.blocks] + [c.text for b in doc.blocks for row in b.rows for c in row]
    assert not any(_XML_INVALID.search(t) for t in texts)
    want, got = _parse(clean_bytes, name), _parse(dirty_bytes, name)
    assert got["cells"] == want["cells"] and got["sections"] == want["sections"]
    assert not [s for s in _strings(got) if _XML_INVALID.search(s)]


@pytest.fixture(scope="module")
def report():
    from tests.reportkit import base_report

    return base_report("2021")


def test_text_file_with_word_controls(report) -> None:
    from ingest.demo.layout import render

    clean_text = render(report, "text").decode("utf-8")
    dirty = clean_text.replace("公开", "公\x0b开").replace("政府", "政\x07府", 3).replace("复议", "复\x1f议")
    assert dirty != clean_text
    _assert_same_and_clean(clean_text.encode(), dirty.encode(), "r.txt")


def test_html_cell_with_control_references(report) -> None:
    from ingest.demo.layout import render

    page = render(report, "html").decode("utf-8")
    dirty = re.sub(r'(<td[^>]*>)', r"\1&#8;", page, count=40)
    dirty = dirty.replace("</td>", "&#1;&#x7f;</td>", 40)
    assert dirty.count("&#8;") > 10
    _assert_same_and_clean(page.encode(), dirty.encode(), "r.html")


def _with_document_xml(docx: bytes, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, edit(data) if item.filename == "word/document.xml" else data)
    return out.getvalue()


def test_docx_with_raw_and_referenced_controls(report) -> None:
    from ingest.demo.layout import render

    docx = render(report, "docx")

    def edit(xml: bytes) -> bytes:
        xml = xml.replace(b'<w:t xml:space="preserve">', b'<w:t xml:space="preserve">\x07', 60)
        xml = xml.replace(b"</w:t>", b"\x0b&#11;&#x1;</w:t>", 60)
        return xml

    dirty = _with_document_xml(docx, edit)
    assert b"\x07" in zipfile.ZipFile(io.BytesIO(dirty)).read("word/document.xml")
    _assert_same_and_clean(docx, dirty, "r.docx")


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples not present")
def test_samples_are_free_of_control_chars() -> None:
    for f in sorted(SAMPLES.glob("*")):
        if f.suffix in {".txt", ".html", ".docx"}:
            doc = read_document(f.read_bytes(), f.name)
            assert not any(_XML_INVALID.search(b.text) for b in doc.blocks), f.name

