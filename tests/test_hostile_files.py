"""Hostile and broken inputs: each must end in RejectedFile with a Chinese reason, quickly.

``pytest.raises(RejectedFile)`` lets any other exception fail the test, so these tests also
check that no traceback type escapes ``read_document``.  Time limits are pytest-timeout marks.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
import zlib

import docx
import pytest
from reportlab.pdfgen import canvas

from ingest import limits
from ingest.errors import RejectedFile
from ingest.sniff import read_document

CHINESE = re.compile(r"[\u4e00-\u9fff]")
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def rejected(data: bytes, name: str) -> RejectedFile:
    with pytest.raises(RejectedFile) as info:
        read_document(data, name)
    err = info.value
    assert CHINESE.search(err.reason), err.reason
    assert "Traceback" not in err.reason
    return err


def small_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph("一、总体情况")
    t = d.add_table(rows=3, cols=3)
    for r in range(3):
        for c in range(3):
            t.cell(r, c).text = str(r * 3 + c)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def minimal_pdf(content: bytes, filters: str = "/Filter /FlateDecode") -> bytes:
    """A one-page PDF whose page content stream is ``content`` (already encoded)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d %s >>\nstream\n" % (len(content), filters.encode()) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


# ---------------------------------------------------------------------------------------------

@pytest.mark.timeout(20)
def test_empty_file() -> None:
    err = rejected(b"", "empty.txt")
    assert err.reason == "文件为空" and err.code == "empty"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", ["junk.bin", "junk.txt", "junk.html", "junk.pdf", "junk.docx", "junk"])
def test_random_binary_junk(name: str) -> None:
    junk = random.Random(20240308).randbytes(200_000)
    rejected(junk, name)


@pytest.mark.timeout(20)
def test_docx_that_is_not_a_zip() -> None:
    err = rejected("一、总体情况\n这是一个改了扩展名的文本文件。".encode(), "report.docx")
    assert err.reason == "不是有效的 Word（.docx）文件，或文件已损坏/不完整"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.9])
def test_truncated_docx(fraction: float) -> None:
    data = small_docx()
    err = rejected(data[: int(len(data) * fraction)], "cut.docx")
    assert "Word" in err.reason or "损坏" in err.reason


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A .docx whose word/document.xml inflates to 200 MB of zeros (~200 KB compressed)."""
    buf = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            for _ in range(200):
                fh.write(chunk)
    return buf.getvalue()


@pytest.mark.timeout(20)
def test_zip_bomb_docx(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 2 * 1024 * 1024
    err = rejected(zip_bomb, "bomb.docx")
    assert err.reason == "文件疑似压缩炸弹（解压后体积异常），已拒绝" and err.code == "unsafe"


@pytest.mark.timeout(20)
def test_zip_bomb_in_another_member() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", f"<w:document {W}><w:body/></w:document>")
        with zf.open("word/media/image1.png", "w", force_zip64=True) as fh:
            for _ in range(80):
                fh.write(b"\0" * (1024 * 1024))
    assert rejected(buf.getvalue(), "bomb2.docx").code == "unsafe"


@pytest.mark.timeout(20)
def test_zip_member_lying_about_its_size() -> None:
    """Central directory says 1 000 bytes; the member really inflates to 5 MB."""
    real = f"<w:document {W}><w:body>".encode() + b" " * (5 * 1024 * 1024) + b"</w:body></w:document>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", real)
    data = bytearray(buf.getvalue())
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):   # local and central headers
        pos = data.find(sig)
        data[pos + size_at: pos + size_at + 4] = struct.pack("<I", 1000)
    rejected(bytes(data), "liar.docx")


@pytest.mark.timeout(20)
def test_billion_laughs_docx() -> None:
    ents = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    ]
    xml = (f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(ents)}]>'
           f"<w:document {W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", xml)
    err = rejected(buf.getvalue(), "laughs.docx")
    assert err.reason == "文件包含不安全的 XML 实体声明，已拒绝" and err.code == "unsafe"


@pytest.mark.timeout(20)
def test_entity_declaration_in_utf16_xml() -> None:
    xml = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]>'
           f"<w:document {W}><w:body/></w:document>").encode("utf-16")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", xml)
    assert rejected(buf.getvalue(), "u16.docx").code == "unsafe"


@pytest.mark.timeout(20)
def test_deeply_nested_docx_xml() -> None:
    deep = "<w:sdt><w:sdtContent>" * 5000 + "</w:sdtContent></w:sdt>" * 5000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", f"<w:document {W}><w:body>{deep}</w:body></w:document>")
    rejected(buf.getvalue(), "deep.docx")


@pytest.mark.timeout(20)
def test_fake_pdf() -> None:
    err = rejected("一、总体情况\n这其实是文本文件。".encode(), "report.pdf")
    assert err.reason == "不是有效的 PDF 文件，或文件已损坏"


@pytest.mark.timeout(20)
def test_pdf_header_then_garbage() -> None:
    err = rejected(b"%PDF-1.7\n" + random.Random(1).randbytes(5000), "garbage.pdf")
    assert err.code == "corrupt"


@pytest.mark.timeout(20)
def test_pdf_with_500_blank_pages() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(500):
        c.showPage()
    c.save()
    err = rejected(buf.getvalue(), "blank500.pdf")
    assert err.reason == "PDF 页数过多（500 页），不像是一份年度报告" and err.code == "too_large"


@pytest.mark.timeout(20)
def test_pdf_with_only_blank_pages() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(3):
        c.showPage()
    c.save()
    assert rejected(buf.getvalue(), "blank3.pdf").code == "needs_ocr"


@pytest.mark.timeout(20)
def test_pdf_content_stream_bomb() -> None:
    comp = zlib.compressobj(1)
    chunk = b"\0" * (1024 * 1024)
    content = b"".join(comp.compress(chunk) for _ in range(100)) + comp.flush()
    err = rejected(minimal_pdf(content), "streambomb.pdf")
    assert err.code == "unsafe" and "压缩炸弹" in err.reason


@pytest.mark.timeout(20)
def test_html_nested_10000_deep() -> None:
    html = "<html><body>" + "<div>" * 10_000 + "一、总体情况" + "</div>" * 10_000 + "</body></html>"
    err = rejected(html.encode(), "deep.html")
    assert err.code == "unsafe" and "嵌套过深" in err.reason


@pytest.mark.timeout(20)
def test_html_nested_tables_deep() -> None:
    html = "<table><tr><td>" * 3_000 + "一、总体情况"
    assert rejected(html.encode(), "tables.html").code == "unsafe"


@pytest.mark.timeout(20)
def test_html_with_too_many_tags() -> None:
    html = "<html><body><p>一、总体情况</p>" + "<br>" * 300_000 + "</body></html>"
    assert rejected(html.encode(), "tags.html").code == "too_large"


@pytest.mark.timeout(20)
def test_html_giant_table() -> None:
    row = "<tr>" + "<td>0</td>" * 50 + "</tr>"
    html = "<html><body><p>一、总体情况</p><table>" + row * 1000 + "</table></body></html>"
    assert rejected(html.encode(), "giant.html").code == "too_large"


@pytest.mark.timeout(20)
def test_40_mb_file() -> None:
    err = rejected(b"a" * (40 * 1024 * 1024), "huge.txt")
    assert err.code == "too_large" and err.reason.startswith("文件过大（40.0 MB，上限 30 MB）")


@pytest.mark.timeout(20)
def test_text_too_long_for_a_report() -> None:
    data = ("一、总体情况\n" + "年" * (limits.MAX_TEXT_CHARS + 10)).encode("gbk")
    assert rejected(data, "long.txt").code == "too_large"


@pytest.mark.timeout(20)
def test_html_without_text() -> None:
    assert rejected(b"<html><body><div><img src=x></div></body></html>", "blank.html").code == "empty"
