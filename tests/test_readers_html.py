"""The HTML reader on the real pingtan page and on synthetic pages built here."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import limits
from ingest.document import Block, Document
from ingest.errors import RejectedFile
from ingest.readers.html import read

NEW_RECEIVED = ["80", "1", "0", "0", "0", "0", "81"]
SECTION4 = ["1", "1", "0", "0", "2", "4", "0", "0", "1", "5", "1", "0", "1", "0", "2"]


def tables(doc: Document) -> list[Block]:
    return [b for b in doc.blocks if b.kind == "table"]


def paragraphs(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks if b.kind == "text"]


def texts(block: Block) -> list[list[str]]:
    return [[c.text for c in row] for row in block.rows]


def page(body: str, head: str = '<meta charset="utf-8">') -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


# ---------------------------------------------------------------------------------------------
# The real page

@pytest.fixture(scope="module")
def pingtan(samples_dir: Path) -> Document:
    return read((samples_dir / "pingtan-2023.html").read_bytes(), "pingtan-2023.html")


def test_pingtan_has_the_three_tables(pingtan: Document) -> None:
    t = tables(pingtan)
    assert len(t) == 3
    assert t[0].rows[0][0].text == "第二十条第（一）项"
    assert len(t[0].rows) == 14          # 表二: four sub-tables in one table
    assert t[1].rows[0][1].text == "申请人情况"
    assert t[2].rows[0][0].text == "行政复议"


def test_pingtan_table3_new_received_row(pingtan: Document) -> None:
    rows = texts(tables(pingtan)[1])
    row = next(r for r in rows if r[0].startswith("一、本年新收"))
    assert row[1:] == NEW_RECEIVED
    assert tables(pingtan)[1].rows[rows.index(row)][0].colspan == 3


def test_pingtan_table4_numbers_in_order(pingtan: Document) -> None:
    assert texts(tables(pingtan)[2])[-1] == SECTION4


def test_pingtan_merged_cells_appear_once(pingtan: Document) -> None:
    t3 = tables(pingtan)[1]
    first = t3.rows[0][0]
    assert first.text.startswith("（本列数据的勾稽关系为") and (first.colspan, first.rowspan) == (3, 3)
    result = next(c for row in t3.rows for c in row if c.text == "三、本年度办理结果")
    assert result.rowspan == 22
    assert sum(c.text == "三、本年度办理结果" for row in t3.rows for c in row) == 1
    assert t3.rows[2][0].text == "商业\n企业"   # two <p> in one cell


def test_pingtan_narrative_and_order(pingtan: Document) -> None:
    paras = paragraphs(pingtan)
    headings = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
    positions = [paras.index(h) for h in headings]
    assert positions == sorted(positions)
    assert any("统计期限自2023年1月1日起至2023年12月31日止" in p for p in paras)
    kinds = [b.kind if b.kind == "table" else b.text for b in pingtan.blocks]
    assert kinds.index("二、主动公开政府信息情况") + 1 == kinds.index("table")


def test_pingtan_site_chrome_is_left_out(pingtan: Document) -> None:
    text = pingtan.plain_text()
    for chrome in ("长者模式", "无障碍", "福建省人民政府", "扫一扫", "当前位置", "友情链接", "文字解读"):
        assert chrome not in text


def test_pingtan_title_and_date_from_the_page(pingtan: Document) -> None:
    head = pingtan.blocks[:3]
    assert head[0].text == "平潭综合实验区2023年度政府信息公开工作年度报告" and head[0].where == "网页标题"
    assert any(b.text == "时间：2024-03-08 15:34" and b.where == "网页信息" for b in head)


def test_pingtan_provenance(pingtan: Document) -> None:
    t3 = tables(pingtan)[1]
    assert t3.where == "表格2"
    assert t3.rows[3][1].where == "表格2 第4行第2格"
    assert pingtan.encoding == "utf-8"


# ---------------------------------------------------------------------------------------------
# Synthetic pages

SPAN_TABLE = """
<p>三、收到和处理政府信息公开申请情况</p>
<table border=1>
 <tr><td colspan="3" rowspan="2">（本列数据的勾稽关系）</td><td colspan=2>申请人情况</td></tr>
 <tr><td>自然人</td><td>总计</td></tr>
 <tr><td rowspan=2>三、本年度办理结果</td><td colspan=2>（一）予以公开</td><td>2</td><td>2</td></tr>
 <tr><td colspan=2>（二）部分公开</td><td>&nbsp;</td><td> &nbsp; </td></tr>
</table>
<p>四、政府信息公开行政复议、行政诉讼情况</p>
"""


def test_colspan_rowspan_physical_cells() -> None:
    doc = read(page(SPAN_TABLE), "s.html")
    (t,) = tables(doc)
    assert texts(t) == [
        ["（本列数据的勾稽关系）", "申请人情况"],
        ["自然人", "总计"],
        ["三、本年度办理结果", "（一）予以公开", "2", "2"],
        ["（二）部分公开", "", ""],
    ]
    assert (t.rows[0][0].colspan, t.rows[0][0].rowspan) == (3, 2)
    assert t.rows[2][0].rowspan == 2 and t.rows[2][1].colspan == 2
    assert t.rows[3][2].where == "表格1 第4行第3格"


def test_nbsp_and_whitespace_normalised() -> None:
    doc = read(page("<p>&nbsp;一、总体情况&nbsp;&nbsp;</p><p>今年   收到\n申请&nbsp;3件。</p>"), "n.html")
    assert paragraphs(doc) == ["一、总体情况", "今年 收到 申请 3件。"]


def test_br_and_p_inside_cells_become_newlines() -> None:
    body = ("<p>二、主动公开政府信息情况</p><table><tr><td>本年新<br>制作数量</td>"
            "<td><p>商业</p><p>企业</p></td></tr><tr><td>0</td><td>1</td></tr></table>")
    (t,) = tables(read(page(body), "b.html"))
    assert texts(t)[0] == ["本年新\n制作数量", "商业\n企业"]


def test_br_separates_paragraphs() -> None:
    doc = read(page("<div>一、总体情况<br>今年收到申请3件。<br/><br/>二、主动公开政府信息情况</div>"), "x.html")
    assert paragraphs(doc) == ["一、总体情况", "今年收到申请3件。", "二、主动公开政府信息情况"]


NESTED = """
<div class="menu"><a href="/">首页</a> <a href="/fy">行政复议</a></div>
<table width="100%"><tr><td class="left"><a href="#">网站导航</a></td><td class="main">
  <table><tr><td>
    <p>一、总体情况</p><p>本年度收到申请2件。</p>
    <p>二、主动公开政府信息情况</p>
    <table border="1"><tr><td>信息内容</td><td>本年制发件数</td></tr><tr><td>规章</td><td>0</td></tr></table>
  </td></tr>
  <tr><td>三、收到和处理政府信息公开申请情况</td></tr>
  <tr><td><table border="1"><tr><td>一、本年新收政府信息公开申请数量</td><td>2</td></tr></table></td></tr>
  </table>
</td></tr></table>
<div class="footer">版权所有 网站标识码</div>
"""


def test_nested_layout_tables_do_not_swallow_the_real_ones() -> None:
    doc = read(page(NESTED), "nested.html")
    t = tables(doc)
    assert [texts(x) for x in t] == [
        [["信息内容", "本年制发件数"], ["规章", "0"]],
        [["一、本年新收政府信息公开申请数量", "2"]],
    ]
    order = [b.text if b.kind == "text" else "<table>" for b in doc.blocks]
    assert order == ["一、总体情况", "本年度收到申请2件。", "二、主动公开政府信息情况", "<table>",
                     "三、收到和处理政府信息公开申请情况", "<table>"]
    assert t[1].where == "表格2"


def test_single_cell_frame_table_is_read_as_text() -> None:
    body = "<table><tr><td><p>一、总体情况</p><p>本年度收到申请2件。</p></td></tr></table>"
    doc = read(page(body), "frame.html")
    assert not tables(doc)
    assert paragraphs(doc) == ["一、总体情况", "本年度收到申请2件。"]


def test_gbk_page_with_meta_charset() -> None:
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            "<title>某镇2023年政府信息公开工作年度报告</title></head><body>"
            "<p>一、总体情况</p><p>本镇收到申请3件。</p><table><tr><td>规章</td><td>0</td></tr></table>"
            "</body></html>")
    doc = read(html.encode("gbk"), "gbk.htm")
    assert doc.encoding == "gb18030"
    assert "本镇收到申请3件。" in paragraphs(doc)
    assert texts(tables(doc)[0]) == [["规章", "0"]]


def test_gbk_page_without_declaration() -> None:
    doc = read("<html><body><p>一、总体情况</p><p>行政复议0件。</p></body></html>".encode("gbk"), "g.htm")
    assert paragraphs(doc) == ["一、总体情况", "行政复议0件。"]


def test_meta_charset_short_form() -> None:
    html = '<html><head><meta charset="GBK"></head><body><p>一、总体情况 规范性文件</p></body></html>'
    doc = read(html.encode("gbk"), "g2.htm")
    assert paragraphs(doc) == ["一、总体情况 规范性文件"]


def test_scripts_styles_and_hidden_elements_are_dropped() -> None:
    body = ("<script>var a='一、总体情况';</script><style>p{color:red}</style>"
            "<div><p>一、总体情况</p><p style='display: none'>隐藏的文字</p>"
            "<p>正文 &lt;script&gt;alert(1)&lt;/script&gt; 原样保留</p></div>")
    doc = read(page(body), "s.html")
    assert paragraphs(doc) == ["一、总体情况", "正文 <script>alert(1)</script> 原样保留"]


def test_article_hidden_until_javascript_shows_it_is_read() -> None:
    body = ("<div class='tabs'><div class='pdf-view'>全真版</div>"
            "<div class='word_con' style='display:none'><p>一、总体情况</p><p>本镇收到申请3件。</p>"
            "<p>二、主动公开政府信息情况</p><table><tr><td>规章</td><td>0</td></tr></table></div></div>")
    doc = read(page(body), "tabs.html")
    assert [b.text for b in doc.blocks if b.kind == "text"][:2] == ["一、总体情况", "本镇收到申请3件。"]
    assert len(tables(doc)) == 1


def test_invisible_unicode_is_stripped() -> None:
    doc = read(page("<p>一、总&#8203;体情况&#x202e;</p>"), "z.html")
    assert paragraphs(doc) == ["一、总体情况"]


def test_article_found_despite_menus_with_report_words() -> None:
    body = """
    <div class="nav"><ul><li><a href="/a">行政复议</a></li><li><a href="/b">依申请公开</a></li></ul>
      <div class="care">关怀版</div></div>
    <div class="sidebar"><p>热点：关于行政复议的通知</p></div>
    <div class="content"><h1 class="title">某镇2022年政府信息公开工作年度报告</h1>
      <div class="info">发布时间：2023-01-18</div>
      <div class="article">
        <p>一、总体情况</p><p>本镇…</p><p>二、主动公开政府信息情况</p>
        <p>三、收到和处理政府信息公开申请情况</p><p>四、政府信息公开行政复议、行政诉讼情况</p>
        <p>五、存在的主要问题及改进情况</p><p>六、其他需要报告的事项</p>
      </div></div>
    <div class="footer">主办单位 某镇人民政府</div>"""
    doc = read(page(body), "chrome.html")
    assert paragraphs(doc)[:3] == ["某镇2022年政府信息公开工作年度报告", "发布时间：2023-01-18", "一、总体情况"]
    assert paragraphs(doc)[-1] == "六、其他需要报告的事项"
    assert "关怀版" not in doc.plain_text() and "主办单位" not in doc.plain_text()


def test_page_without_markers_is_read_whole() -> None:
    doc = read(page("<div><p>第一段</p></div><div><p>第二段</p></div>"), "plain.html")
    assert paragraphs(doc) == ["第一段", "第二段"]


def test_caption_comes_before_its_table() -> None:
    body = "<p>一、总体情况</p><table><caption>表一</caption><tr><td>规章</td><td>0</td></tr></table>"
    doc = read(page(body), "cap.html")
    assert [b.text if b.kind == "text" else "T" for b in doc.blocks] == ["一、总体情况", "表一", "T"]


def test_too_many_cells_is_rejected() -> None:
    row = "<tr>" + "<td>0</td>" * 100 + "</tr>"
    body = "<p>一、总体情况</p><table>" + row * (limits.MAX_TABLE_CELLS // 100 + 1) + "</table>"
    with pytest.raises(RejectedFile) as info:
        read(page(body), "many.html")
    assert info.value.code == "too_large" and "单元格" in info.value.reason


def test_moderately_deep_sloppy_html_is_fine() -> None:
    # unclosed <p>/<td>/<li> and misnested inline tags do not count as nesting
    body = "<div>" + "<p>一、总体情况<span>x" * 600 + "</div>" + "<ul>" + "<li>项" * 500 + "</ul>"
    doc = read(page(body), "sloppy.html")
    assert paragraphs(doc)[0].startswith("一、总体情况")


@pytest.mark.parametrize("where", ["paragraphs", "cells"])
def test_page_with_too_much_text_is_refused(where: str) -> None:
    """The text limit counts what the article yields, paragraphs and table cells alike."""
    chunk = "年" * 10_000
    n = limits.MAX_TEXT_CHARS // len(chunk) + 2
    if where == "paragraphs":
        inner = "".join(f"<p>{chunk}</p>" for _ in range(n))
    else:
        inner = "<table>" + "".join(f"<tr><td>本年新收</td><td>{chunk}</td></tr>" for _ in range(n)) + "</table>"
    page = f"<html><body><div><p>一、总体情况</p>{inner}</div></body></html>".encode()
    with pytest.raises(RejectedFile) as info:
        read(page, "long.html")
    assert info.value.code == "too_large" and "文字内容过长" in info.value.reason


def test_page_just_under_the_text_limit_is_read() -> None:
    chunk = "年" * 10_000
    inner = "".join(f"<p>{chunk}</p>" for _ in range(limits.MAX_TEXT_CHARS // len(chunk) - 1))
    doc = read(f"<html><body><div><p>一、总体情况</p>{inner}</div></body></html>".encode(), "long.html")
    assert sum(len(b.text) for b in doc.blocks) > limits.MAX_TEXT_CHARS - 20_000


def test_marker_nodes_fall_back_to_a_node_by_node_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast search counts text nodes in the body's joined text; when that count cannot be
    trusted (here: a separator that also occurs inside the text), every node is tested instead."""
    from selectolax.lexbor import LexborHTMLParser

    from ingest.readers import html as reader

    page = ("<html><body><div><a>行政复议</a><p>一、总体情况</p><p>其他</p>"
            "<table><tr><td>本年新收</td><td>3</td></tr><tr><td>上年结转</td><td>0</td></tr></table>"
            "</div></body></html>")
    body = LexborHTMLParser(page).body
    fast = [n.text_content for n in reader._marker_text_nodes(body)]
    assert fast == ["行政复议", "一、总体情况", "本年新收", "上年结转"]
    monkeypatch.setattr(reader, "_NODE_SEP", "年")        # occurs inside 本年新收: the count is off
    assert [n.text_content for n in reader._marker_text_nodes(body)] == fast
