"""The PDF reader on the real pingtan PDF and on PDFs drawn here with reportlab."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from ingest.document import Block, Document
from ingest.errors import RejectedFile
from ingest.readers.pdf import read

NEW_RECEIVED = ["80", "1", "0", "0", "0", "0", "81"]
SECTION4 = ["1", "1", "0", "0", "2", "4", "0", "0", "1", "5", "1", "0", "1", "0", "2"]
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

BODY = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=18, wordWrap="CJK",
                      alignment=TA_JUSTIFY, firstLineIndent=24)
HEAD = ParagraphStyle("head", fontName=FONT, fontSize=12, leading=18)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=11, wordWrap="CJK")
GRID = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("FONTNAME", (0, 0), (-1, -1), FONT)]


def tables(doc: Document) -> list[Block]:
    return [b for b in doc.blocks if b.kind == "table"]


def texts(block: Block) -> list[list[str]]:
    return [[c.text for c in row] for row in block.rows]


def build(story: list, **kw: object) -> bytes:
    def page_number(c: canvas.Canvas, doc: SimpleDocTemplate) -> None:
        c.setFont(FONT, 9)
        c.drawCentredString(A4[0] / 2, 20, f"- {doc.page} -")

    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, **kw).build(story, onFirstPage=page_number,
                                                    onLaterPages=page_number)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# The real PDF (a browser print of the web page: chrome included, tables split across pages)

@pytest.fixture(scope="module")
def pingtan(samples_dir: Path) -> Document:
    return read((samples_dir / "pingtan-2023.pdf").read_bytes(), "pingtan-2023.pdf")


def _all_rows(doc: Document) -> list[list[str]]:
    return [row for t in tables(doc) for row in texts(t)]


def test_pingtan_tables_found(pingtan: Document) -> None:
    rows = _all_rows(pingtan)
    assert ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"] in rows
    assert ["行政事业性收\n费", "5949.088667"] in rows        # wrapped cell text keeps "\n"
    assert any(r[0] == "申请人情况" or "申请人情况" in r for r in rows)
    assert any(r[:1] == ["行政复议"] for r in rows)


def test_pingtan_table3_new_received(pingtan: Document) -> None:
    row = next(r for r in _all_rows(pingtan) if r[0].startswith("一、本年新收"))
    assert row[1:] == NEW_RECEIVED
    total = next(r for r in _all_rows(pingtan) if r[0] == "（七）总计")
    assert total[1:] == NEW_RECEIVED


def test_pingtan_table4_numbers(pingtan: Document) -> None:
    assert SECTION4 in _all_rows(pingtan)


def test_pingtan_split_tables_stay_in_order(pingtan: Document) -> None:
    labels = [r[0] for r in _all_rows(pingtan)]
    order = ["第二十条第（一）项", "第二十条第（八）项", "一、本年新收政府信息公开申请数量",
             "3.危及“三安全一稳\n定”", "（七）总计", "行政复议"]
    assert [labels.index(x) for x in order] == sorted(labels.index(x) for x in order)
    # the part of 表三 on page 5 does not start with the empty remains of merged label cells
    page5 = next(t for t in tables(pingtan) if t.where.startswith("第5页"))
    assert page5.rows[0][0].text.startswith("3.危及")
    assert page5.rows[0][1].where == "第5页 表格4 第1行第2格"


def test_pingtan_narrative(pingtan: Document) -> None:
    paras = [b.text for b in pingtan.blocks if b.kind == "text"]
    assert "一、总体情况" in paras
    # wrapped lines are joined into one paragraph (the date range straddles a line break)
    assert any("统计期限自2023年1月1日起至2023年12月31日止" in x for x in paras)
    assert "2023年全区接收通过邮寄、网络提交的各类政府信息公开申请共计81件" in pingtan.plain_text()
    kinds = [b.text if b.kind == "text" else "<table>" for b in pingtan.blocks]
    assert kinds[kinds.index("二、主动公开政府信息情况") + 1] == "<table>"


# ---------------------------------------------------------------------------------------------
# Synthetic PDFs

@pytest.fixture(scope="module")
def report() -> Document:
    data = [
        [Paragraph("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", CELL), "", "", "申请人情况"],
        ["自然人", "商业企业", "科研机构", "总计"],
        [Paragraph("一、本年新收政府信息公开申请数量", CELL), "2", "0", "2"],
        ["二、上年结转", "", "0", "0"],
    ]
    table = Table(data, colWidths=[110, 60, 60, 60])
    table.setStyle(TableStyle([*GRID, ("SPAN", (0, 0), (2, 0))]))
    story = [
        Paragraph("某镇2023年政府信息公开工作年度报告", HEAD),
        Paragraph("一、总体情况", HEAD),
        Paragraph("本报告中所列数据的统计期限自2023年1月1日起至2023年12月31日止。" * 3, BODY),
        Paragraph("三、收到和处理政府信息公开申请情况", HEAD),
        table,
        Paragraph("四、政府信息公开行政复议、行政诉讼情况", HEAD),
    ]
    return read(build(story), "synthetic.pdf")


def test_blocks_in_reading_order(report: Document) -> None:
    order = [b.text if b.kind == "text" else "<table>" for b in report.blocks]
    assert order[0] == "某镇2023年政府信息公开工作年度报告"
    assert order[1] == "一、总体情况"
    assert order[2] == "本报告中所列数据的统计期限自2023年1月1日起至2023年12月31日止。" * 3
    assert order[3:] == ["三、收到和处理政府信息公开申请情况", "<table>", "四、政府信息公开行政复议、行政诉讼情况"]


def test_page_numbers_are_dropped(report: Document) -> None:
    assert "- 1 -" not in report.plain_text()


def test_table_cells(report: Document) -> None:
    (t,) = tables(report)
    rows = texts(t)
    assert rows[0][0].replace("\n", "") == "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    assert "\n" in rows[0][0]                               # wrapped cell text keeps its line breaks
    assert rows[0][1] == "申请人情况"
    assert rows[1] == ["自然人", "商业企业", "科研机构", "总计"]
    assert rows[2][1:] == ["2", "0", "2"] and rows[2][0].replace("\n", "") == "一、本年新收政府信息公开申请数量"
    assert rows[3] == ["二、上年结转", "", "0", "0"]       # a blank cell stays, as ""
    assert t.rows[0][0].colspan == 3                       # merged cell once, with its span
    assert t.rows[2][3].where == "第1页 表格1 第3行第4格"


def test_table_split_across_pages() -> None:
    data = [["行号", "数量"]] + [[f"第{i}行", str(i)] for i in range(1, 80)]
    table = Table(data, colWidths=[100, 60], repeatRows=1)
    table.setStyle(TableStyle(GRID))
    doc = read(build([Paragraph("一、总体情况", HEAD), table]), "split.pdf")
    parts = tables(doc)
    assert len(parts) >= 2
    assert [t.where.split()[0] for t in parts] == [f"第{i}页" for i in range(1, len(parts) + 1)]
    assert all(texts(t)[0] == ["行号", "数量"] for t in parts)   # the repeated header is kept
    values = [r[1] for t in parts for r in texts(t) if r[0] != "行号"]
    assert values == [str(i) for i in range(1, 80)]


def _canvas_pdf(draw) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_letter_spaced_cjk_has_no_injected_spaces() -> None:
    def draw(c: canvas.Canvas) -> None:
        t = c.beginText(72, 700)
        t.setFont(FONT, 12)
        t.setCharSpace(5)
        t.textLine("一、总体情况")
        t.setCharSpace(0)
        t.setTextOrigin(72, 650)
        t.textOut("自然人")
        t.setTextOrigin(300, 650)
        t.textOut("80")                   # far apart on one line: a column gap stays a space
        c.drawText(t)

    doc = read(_canvas_pdf(draw), "spaced.pdf")
    assert [b.text for b in doc.blocks] == ["一、总体情况", "自然人 80"]


def test_fake_bold_duplicates_are_removed() -> None:
    def draw(c: canvas.Canvas) -> None:
        c.setFont(FONT, 12)
        c.drawString(72, 700, "二、主动公开政府信息情况")
        c.drawString(72.3, 700, "二、主动公开政府信息情况")

    doc = read(_canvas_pdf(draw), "bold.pdf")
    assert [b.text for b in doc.blocks] == ["二、主动公开政府信息情况"]


def test_scanned_pdf_needs_ocr() -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    img = Image.new("RGB", (200, 100), "white")
    for x in range(20, 180):
        img.putpixel((x, 50), (0, 0, 0))

    def draw(c: canvas.Canvas) -> None:
        c.drawImage(ImageReader(img), 72, 500, width=400, height=200)

    with pytest.raises(RejectedFile) as info:
        read(_canvas_pdf(draw), "scan.pdf")
    assert info.value.reason == "没有可提取的文字（可能是扫描件，需要 OCR）"
    assert info.value.code == "needs_ocr"


def test_encrypted_pdf() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=StandardEncryption("user-secret", "owner-secret"))
    c.setFont(FONT, 12)
    c.drawString(72, 700, "一、总体情况")
    c.showPage()
    c.save()
    with pytest.raises(RejectedFile) as info:
        read(buf.getvalue(), "locked.pdf")
    assert "加密" in info.value.reason


def test_owner_password_only_pdf_is_readable() -> None:
    # "禁止复制" PDFs: restrictions only, no password to open.  (An embedded TrueType font, so
    # the text has a ToUnicode map: pdfminer cannot map CID fonts without one in encrypted files.)
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=StandardEncryption("", "owner-secret", canPrint=0, canCopy=0))
    c.setFont("Vera", 12)
    c.drawString(72, 700, "Report 2023")
    c.showPage()
    c.save()
    assert [b.text for b in read(buf.getvalue(), "restricted.pdf").blocks] == ["Report 2023"]


def test_unmapped_cid_text_needs_ocr() -> None:
    # the same CID font naming a character collection pdfminer has no Unicode map for extracts as (cid:N)
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont(FONT, 12)
    c.drawString(72, 700, "一、总体情况")
    c.showPage()
    c.save()
    data = buf.getvalue()
    assert data.count(b"/Ordering (GB1) /Registry (Adobe)") == 1
    data = data.replace(b"/Ordering (GB1) /Registry (Adobe)", b"/Ordering (XB1) /Registry (Adobx)")  # same length
    with pytest.raises(RejectedFile) as info:
        read(data, "cid.pdf")
    assert info.value.code == "needs_ocr" and "编码" in info.value.reason


def test_partly_scanned_pdf_is_noted() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont(FONT, 12)
    c.drawString(72, 700, "一、总体情况")
    c.showPage()
    c.showPage()       # an empty (image-only, say) second page
    c.save()
    doc = read(buf.getvalue(), "partly.pdf")
    assert doc.notes == ["第2页没有可提取的文字（可能是扫描页）"]


def test_corrupt_pdf() -> None:
    with pytest.raises(RejectedFile) as info:
        read(b"%PDF-1.4\n1 0 obj garbage\n%%EOF", "broken.pdf")
    assert info.value.reason == "不是有效的 PDF 文件，或文件已损坏"


# ---------------------------------------------------------------------------------------------
# Encryption: an owner password alone (restrictions, no password to open) is read normally.

def _demo_pdf(monkeypatch: pytest.MonkeyPatch, encrypt: StandardEncryption | None) -> bytes:
    import functools

    import ingest.demo.render_pdf as render_pdf
    from tests.reportkit import base_report

    if encrypt is not None:
        monkeypatch.setattr(render_pdf, "SimpleDocTemplate",
                            functools.partial(render_pdf.SimpleDocTemplate, encrypt=encrypt))
    return render_pdf.render_pdf(base_report())


def test_owner_password_only_chinese_pdf_parses_like_the_plain_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.parse import parse_file

    plain = _demo_pdf(monkeypatch, None)
    locked = _demo_pdf(monkeypatch, StandardEncryption(userPassword="", ownerPassword="x", canPrint=1))
    assert b"/Encrypt" in locked and b"/Encrypt" not in plain
    expected = parse_file("plain.pdf", data=plain)["cells"]
    assert expected
    assert parse_file("locked.pdf", data=locked)["cells"] == expected


def test_user_password_pdf_is_refused_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.parse import parse_file

    locked = _demo_pdf(monkeypatch, StandardEncryption(userPassword="secret", ownerPassword="x", canPrint=1))
    with pytest.raises(RejectedFile) as info:
        parse_file("locked.pdf", data=locked)
    assert info.value.reason == "PDF 文件已加密（需要打开密码），请取消密码后再导入"
