"""Format detection, decoding and the read_document entry point (ingest.sniff)."""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import Path

import pytest

from ingest import limits
from ingest.document import Block, Document
from ingest.errors import RejectedFile
from ingest.readers.common import decode_text
from ingest.sniff import detect_format, read_document
from ingest.textnorm import strip_invisible

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
_WORD = _OLE + "WordDocument".encode("utf-16-le")


def _rejected(data: bytes, name: str) -> RejectedFile:
    with pytest.raises(RejectedFile) as info:
        detect_format(data, name)
    assert CHINESE.search(info.value.reason), info.value.reason
    return info.value


# ---------------------------------------------------------------------------------------------
# detect_format

@pytest.mark.parametrize(
    ("data", "name", "fmt"),
    [
        (b"%PDF-1.7\n...", "a.pdf", "pdf"),
        (b"%PDF-1.4\n...", "renamed.txt", "pdf"),            # magic wins over the extension
        (b"<!DOCTYPE html><html><body>x</body></html>", "a.htm", "html"),
        (b"\xef\xbb\xbf  \n<html><head>", "noext", "html"),  # BOM and whitespace first
        ("<meta charset=gbk><p>报告</p>".encode("gbk"), "report.txt", "html"),
        (b"<table><tr><td>1</td></tr></table>", "t.dat", "html"),
        (b"<!-- saved from url=(0054)http://x --><html>", "a.html", "html"),
        (codecs.BOM_UTF16_LE + "<html><body>报告".encode("utf-16-le"), "u16.html", "html"),
        ("一、总体情况\n2023年……".encode(), "r.txt", "text"),
        ("一、总体情况".encode("gbk"), "r", "text"),
        (b"plain words", "page.html", "html"),                # extension decides when no tags
    ],
)
def test_detect_format(data: bytes, name: str, fmt: str) -> None:
    assert detect_format(data, name) == fmt


def test_docx_zip_is_docx_whatever_the_name() -> None:
    data = _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w:document/>"})
    assert detect_format(data, "report.docx") == "docx"
    assert detect_format(data, "report.zip") == "docx"


def test_empty_file() -> None:
    err = _rejected(b"", "a.txt")
    assert err.reason == "文件为空" and err.code == "empty"


def test_file_over_size_limit() -> None:
    err = _rejected(b"x" * (limits.MAX_FILE_BYTES + 1), "big.txt")
    assert err.code == "too_large"
    assert err.reason.startswith("文件过大（30.0 MB，上限 30 MB）")


@pytest.mark.parametrize(
    ("data", "name", "needle"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "sheet.xls", "Excel"),
        (_OLE + "Workbook".encode("utf-16-le"), "noext", "Excel"),
        (_OLE + "PowerPoint Document".encode("utf-16-le"), "a.doc", "PowerPoint"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "locked.docx", "加密"),
        (_OLE + "EncryptedPackage".encode("utf-16-le"), "locked.doc", "加密"),
        (_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}), "a.ods",
         "OpenDocument 表格"),
        (_zip({"xl/workbook.xml": b"<x/>"}), "a.xlsx", "Excel"),
        (_zip({"ppt/presentation.xml": b"<x/>"}), "a.pptx", "PowerPoint"),
        (_zip({"OFD.xml": b"<x/>"}), "a.ofd", "OFD"),
        (_zip({"report.txt": b"x"}), "reports.zip", "压缩包"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "scan.png", "图片"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 100, "scan.jpg", "图片"),
        (b"Rar!\x1a\x07\x00", "a.rar", "压缩包"),
        (b"MIME-Version: 1.0\r\nContent-Type: multipart/related", "page.mht", "MHT"),
        (b"just some text", "notes.xls", "Excel"),
    ],
)
def test_unsupported_formats_are_named(data: bytes, name: str, needle: str) -> None:
    err = _rejected(data, name)
    assert needle in err.reason
    assert err.code == "unsupported"


@pytest.mark.parametrize(("data", "name", "fmt"), [
    (_WORD, "old.doc", "doc"),
    (_WORD, "noext", "doc"),
    (_WORD, "report.wps", "wps"),            # WPS 文字 writes the Word 97 binary format
    (_WORD, "misnamed.txt", "doc"),
    (_OLE, "works.wps", "wps"),              # not Word 97: LibreOffice may still read it
    (b"{\\rtf1\\ansi ...}", "a.rtf", "rtf"),
    (b"{\\rtf1\\ansi ...}", "a.doc", "rtf"),     # an RTF saved as .doc
    (_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}), "a.odt", "odt"),
])
def test_legacy_office_files_go_to_the_libreoffice_reader(data: bytes, name: str, fmt: str) -> None:
    assert detect_format(data, name) == fmt


def test_a_doc_that_is_none_of_them_is_called_damaged() -> None:
    err = _rejected(b"hello, not a word file at all", "x.doc")
    assert err.code == "corrupt" and "旧版 Word 文档（.doc）" in err.reason and "另存为 .docx" in err.reason


def test_many_leading_comments_are_sniffed_in_linear_time() -> None:
    """The fuzz run's find: a file starting with many ``<!--x-->`` and then plain text made the HTML sniffing regex
    backtrack exponentially (20 comments: 0.25 s; 100: minutes).  Hang guard, not a timing test."""
    from tests.fuzzkit import cpu_budget

    with cpu_budget(10):
        assert detect_format(b"<!--x-->" * 12_000 + "一、总体情况".encode(), "r.txt") == "text"
        assert detect_format(b"<!--x-->" * 400 + b"<html><body>x</body></html>", "r.txt") == "html"


def test_extension_without_matching_content() -> None:
    assert _rejected(b"hello, not a pdf", "fake.pdf").reason == "不是有效的 PDF 文件，或文件已损坏"
    assert "不是有效的 Word" in _rejected(b"hello, not a docx", "fake.docx").reason


def test_broken_zip_goes_to_the_docx_reader() -> None:
    data = _zip({"word/document.xml": b"<w:document/>" * 1000})
    assert detect_format(data[: len(data) // 2], "cut.docx") == "docx"


# ---------------------------------------------------------------------------------------------
# decode_text

SAMPLE = "一、总体情况\n本年新收政府信息公开申请 81 件。𠀀"   # the last char needs GB18030's 4-byte form


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (SAMPLE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + SAMPLE.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"), "utf-16"),
        (SAMPLE.encode("gb18030"), "gb18030"),
    ],
)
def test_decode_text_encodings(data: bytes, encoding: str) -> None:
    text, enc = decode_text(data)
    assert text == SAMPLE
    assert enc == encoding


def test_decode_gbk_report() -> None:
    raw = "平潭综合实验区2023年度政府信息公开工作年度报告\n（一）主动公开方面".encode("gbk")
    text, enc = decode_text(raw)
    assert text.startswith("平潭综合实验区2023年度") and enc == "gb18030"


def test_decode_utf16_without_bom() -> None:
    plain = "2023年 政府信息公开 年度报告 1 2 3\n" * 20
    for codec in ("utf-16-le", "utf-16-be"):
        text, enc = decode_text(plain.encode(codec))
        assert text == plain and enc == codec


def test_declared_encoding_is_tried_after_utf8() -> None:
    raw = "年度報告".encode("big5")
    assert decode_text(raw, declared="big5") == ("年度報告", "big5hkscs")
    assert decode_text(raw)[1] != "big5hkscs"   # without the declaration GB18030 is tried first
    # a wrong declaration never beats valid UTF-8
    assert decode_text("报告".encode(), declared="gbk") == ("报告", "utf-8")


def test_newlines_normalised_and_invisibles_stripped() -> None:
    raw = "一、总\u200b体情况\r\n第二行\r第三行\u202e\ufeff\n".encode()
    text, _ = decode_text(raw)
    assert text == "一、总体情况\n第二行\n第三行\n"


def test_binary_junk_is_rejected() -> None:
    import random

    junk = random.Random(7).randbytes(50_000)
    with pytest.raises(RejectedFile) as info:
        decode_text(junk)
    assert info.value.reason == "无法识别文件的文字编码（可能是二进制文件或已损坏）"
    assert info.value.code == "encoding"


def test_control_characters_are_rejected() -> None:
    with pytest.raises(RejectedFile):
        decode_text(b"abc\x00\x01\x02" * 100)


def test_text_too_long() -> None:
    with pytest.raises(RejectedFile) as info:
        decode_text(("年" * (limits.MAX_TEXT_CHARS + 1)).encode())
    assert info.value.code == "too_large"
    assert decode_text(b"abc", max_chars=None)[0] == "abc"


@pytest.mark.parametrize("ch", ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff",
                                "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                                "\u2066", "\u2067", "\u2068", "\u2069"])
def test_strip_invisible(ch: str) -> None:
    assert strip_invisible(f"行政{ch}复议") == "行政复议"


def test_strip_invisible_keeps_visible_text() -> None:
    text = "（一）予以公开 22\t件　全角空格\n"
    assert strip_invisible(text) == text


# ---------------------------------------------------------------------------------------------
# read_document

def test_read_document_converts_reader_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.readers.html as html_reader

    def boom(data: bytes, source: str) -> Document:
        raise KeyError("whatever")

    monkeypatch.setattr(html_reader, "read", boom)
    with pytest.raises(RejectedFile) as info:
        read_document(b"<html><body>x</body></html>", "a.html")
    # plain words for the user: which kind of file, what to do; no library class name
    assert info.value.reason == "网页文件已损坏或格式异常，无法读取；请用原软件打开确认，或重新下载、另存后再导入"
    assert "KeyError" not in info.value.reason
    assert info.value.code == "corrupt"


def test_read_document_passes_rejections_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.readers.html as html_reader

    def reject(data: bytes, source: str) -> Document:
        raise RejectedFile("某个原因", "unsafe")

    monkeypatch.setattr(html_reader, "read", reject)
    with pytest.raises(RejectedFile) as info:
        read_document(b"<html><body>x</body></html>", "a.html")
    assert info.value.reason == "某个原因" and info.value.code == "unsafe"


def test_read_document_refuses_documents_without_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.readers.html as html_reader

    monkeypatch.setattr(html_reader, "read", lambda data, source: Document(
        source=source, format="html", blocks=[Block.paragraph("  ")]))
    with pytest.raises(RejectedFile) as info:
        read_document(b"<html><body> </body></html>", "a.html")
    assert info.value.code == "empty"


def test_read_document_dispatches_text() -> None:
    doc = read_document("一、总体情况\n今年收到申请3件。\n".encode("gbk"), "r.txt")
    assert doc.format == "text"
    assert "一、总体情况" in doc.plain_text()


@pytest.mark.parametrize("ext", ["html", "docx", "pdf"])
def test_read_document_dispatches_samples(samples_dir: Path, ext: str) -> None:
    path = samples_dir / f"pingtan-2023.{ext}"
    doc = read_document(path.read_bytes(), str(path))
    assert doc.format == ext
    assert doc.source == str(path)
    assert sum(b.kind == "table" for b in doc.blocks) >= 3


@pytest.mark.parametrize("limit", [0, 1, 7, 8, 30, 5000])
def test_plain_text_limit_is_the_beginning_of_the_whole_text(limit: int) -> None:
    from ingest.document import Block, Cell, Document

    blocks = [Block.paragraph("一、总体情况"), Block.table([[Cell("本年新收"), Cell("3")], [Cell("上年结转"), Cell("0")]]),
              Block.paragraph("今年收到申请3件。" * 20)]
    doc = Document(source="x", format="text", blocks=blocks)
    assert doc.plain_text(limit=limit) == doc.plain_text()[:limit]
