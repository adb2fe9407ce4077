"""The DOCX reader on the real pingtan document and on documents built here."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest

from ingest.document import Block, Document
from ingest.errors import RejectedFile
from ingest.readers.docx import read

NEW_RECEIVED = ["80", "1", "0", "0", "0", "0", "81"]
SECTION4 = ["1", "1", "0", "0", "2", "4", "0", "0", "1", "5", "1", "0", "1", "0", "2"]
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def tables(doc: Document) -> list[Block]:
    return [b for b in doc.blocks if b.kind == "table"]


def texts(block: Block) -> list[list[str]]:
    return [[c.text for c in row] for row in block.rows]


def raw_docx(body: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .docx whose word/document.xml has ``body`` inside <w:body>."""
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{body}</w:body></w:document>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", xml.encode())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def p(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def tc(text: str, props: str = "") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{p(text)}</w:tc>"


# ---------------------------------------------------------------------------------------------
# The real document

@pytest.fixture(scope="module")
def pingtan(samples_dir: Path) -> Document:
    return read((samples_dir / "pingtan-2023.docx").read_bytes(), "pingtan-2023.docx")


def test_pingtan_three_tables(pingtan: Document) -> None:
    t = tables(pingtan)
    assert len(t) == 3
    assert texts(t[0])[1] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert texts(t[0])[3] == ["行政规范性文件", "77", "132", "470"]
    assert texts(t[0])[-1] == ["行政事业性收费", "5949.088667"]


def test_pingtan_table3_rows(pingtan: Document) -> None:
    rows = texts(tables(pingtan)[1])
    new = next(r for r in rows if r[0].startswith("一、本年新收"))
    assert new[1:] == NEW_RECEIVED
    total = next(r for r in rows if r[0] == "（七）总计")
    assert total[1:] == NEW_RECEIVED
    # vertically merged label: emitted once, with its rowspan
    t3 = tables(pingtan)[1]
    result = [c for row in t3.rows for c in row if c.text == "三、本年度办理结果"]
    assert len(result) == 1 and result[0].rowspan == 22
    assert t3.rows[0][0].colspan == 3 and t3.rows[0][0].rowspan == 3


def test_pingtan_table4_numbers(pingtan: Document) -> None:
    assert texts(tables(pingtan)[2])[-1] == SECTION4


def test_pingtan_narrative(pingtan: Document) -> None:
    paras = [b.text for b in pingtan.blocks if b.kind == "text"]
    assert "一、总体情况" in paras
    assert paras.index("一、总体情况") < paras.index("六、其他需要报告的事项")
    assert any("统计期限自2023年1月1日起至2023年12月31日止" in x for x in paras)
    kinds = [b.text if b.kind == "text" else "<table>" for b in pingtan.blocks]
    assert kinds[kinds.index("三、收到和处理政府信息公开申请情况") + 1] == "<table>"


def test_pingtan_provenance(pingtan: Document) -> None:
    t = tables(pingtan)[1]
    assert t.where == "表格2"
    assert t.rows[3][7].where == "表格2 第4行第8格"


# ---------------------------------------------------------------------------------------------
# Built with python-docx

def _built() -> bytes:
    d = docx.Document()
    d.add_paragraph("一、总体情况")
    para = d.add_paragraph()
    run = para.add_run("甲")
    run.add_tab()
    run.add_text("乙")
    run.add_break()
    run.add_text("丙")
    t = d.add_table(rows=4, cols=4)
    head = t.cell(0, 0).merge(t.cell(0, 2))          # horizontal: gridSpan 3
    head.text = "表头"
    t.cell(0, 3).text = "总计"
    group = t.cell(1, 0).merge(t.cell(3, 0))         # vertical: vMerge restart + 2 continuations
    group.text = "三、本年度办理结果"
    for r in range(1, 4):
        for c in range(1, 4):
            t.cell(r, c).text = f"{r}{c}"
    nest_cell = t.cell(2, 2)
    nest_cell.text = "外层文字"
    inner = nest_cell.add_table(rows=2, cols=2)
    for r in range(2):
        for c in range(2):
            inner.cell(r, c).text = f"内{r}{c}"
    cell = t.cell(3, 3)
    cell.text = "第一行"
    cell.add_paragraph("第二行")
    d.add_paragraph("二、主动公开政府信息情况")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def built() -> Document:
    return read(_built(), "built.docx")


def test_paragraph_runs_tabs_and_breaks(built: Document) -> None:
    assert built.blocks[0].text == "一、总体情况"
    assert built.blocks[1].text == "甲\t乙\n丙"


def test_merged_cells_are_physical(built: Document) -> None:
    outer = tables(built)[0]
    assert texts(outer) == [
        ["表头", "总计"],
        ["三、本年度办理结果", "11", "12", "13"],
        ["21", "外层文字", "23"],
        ["31", "32", "第一行\n第二行"],
    ]
    assert outer.rows[0][0].colspan == 3
    assert outer.rows[1][0].rowspan == 3
    assert outer.rows[2][1].where == "表格1 第3行第2格"


def test_nested_table_follows_the_outer_one(built: Document) -> None:
    order = [b.text if b.kind == "text" else b.where for b in built.blocks]
    assert order == ["一、总体情况", "甲\t乙\n丙", "表格1", "表格2", "二、主动公开政府信息情况"]
    assert texts(tables(built)[1]) == [["内00", "内01"], ["内10", "内11"]]


# ---------------------------------------------------------------------------------------------
# Raw XML cases

def test_tracked_changes_read_as_accepted() -> None:
    body = ('<w:p><w:r><w:t>收到申请</w:t></w:r><w:del w:id="1"><w:r><w:delText>5</w:delText></w:r></w:del>'
            '<w:ins w:id="2"><w:r><w:t>3</w:t></w:r></w:ins><w:r><w:t>件</w:t></w:r></w:p>')
    doc = read(raw_docx(body), "t.docx")
    assert doc.blocks[0].text == "收到申请3件"
    assert doc.notes


def test_content_controls_hyperlinks_and_fields() -> None:
    body = ('<w:sdt><w:sdtContent>' + p("一、总体情况") + '</w:sdtContent></w:sdt>'
            '<w:p><w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink>'
            '<w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:t>文字</w:t></w:r></w:p>')
    doc = read(raw_docx(body), "s.docx")
    assert [b.text for b in doc.blocks] == ["一、总体情况", "链接文字"]


def test_grid_before_and_legacy_hmerge() -> None:
    vrestart = '<w:vMerge w:val="restart"/>'
    hrestart = '<w:hMerge w:val="restart"/>'
    before = '<w:trPr><w:gridBefore w:val="1"/></w:trPr>'
    body = ("<w:tbl>"
            f"<w:tr>{tc('A', vrestart)}{tc('B')}{tc('C')}</w:tr>"
            f"<w:tr>{tc('', '<w:vMerge/>')}{tc('D', hrestart)}{tc('', '<w:hMerge/>')}</w:tr>"
            f"<w:tr>{before}{tc('E')}{tc('F')}</w:tr>"
            "</w:tbl>")
    (t,) = tables(read(raw_docx(body), "g.docx"))
    assert texts(t) == [["A", "B", "C"], ["D"], ["E", "F"]]
    assert t.rows[0][0].rowspan == 2 and t.rows[1][0].colspan == 2


def test_vmerge_continuation_without_restart_is_kept() -> None:
    body = f"<w:tbl><w:tr>{tc('X', '<w:vMerge/>')}{tc('1')}</w:tr></w:tbl>"
    (t,) = tables(read(raw_docx(body), "v.docx"))
    assert texts(t) == [["X", "1"]]


def test_empty_cells_are_kept_as_blank() -> None:
    body = f"<w:tbl><w:tr>{tc('规章')}<w:tc><w:p/></w:tc>{tc('0')}</w:tr></w:tbl>"
    (t,) = tables(read(raw_docx(body), "e.docx"))
    assert texts(t) == [["规章", "", "0"]]


def test_hidden_unicode_stripped() -> None:
    doc = read(raw_docx(p("一、总\u200b体情况\u202e")), "z.docx")
    assert doc.blocks[0].text == "一、总体情况"


def test_missing_document_xml() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/other.xml", "<x/>")
    with pytest.raises(RejectedFile) as info:
        read(buf.getvalue(), "m.docx")
    assert info.value.reason == "不是有效的 Word（.docx）文件，或文件已损坏/不完整"


def test_malformed_xml() -> None:
    with pytest.raises(RejectedFile) as info:
        read(raw_docx("<w:p><w:r><w:t>未闭合</w:r>"), "bad.docx")
    assert info.value.code == "corrupt"


def test_doctype_is_refused() -> None:
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x "1">]>'
           f'<w:document {W}><w:body>{p("&x;")}</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", xml)
    with pytest.raises(RejectedFile) as info:
        read(buf.getvalue(), "dtd.docx")
    assert info.value.reason == "文件包含不安全的 XML 实体声明，已拒绝"
    assert info.value.code == "unsafe"
