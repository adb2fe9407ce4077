"""A report as a saved government web page: site chrome (banner, menu, breadcrumb, footer) around the article,
tables with the template's colspan/rowspan merges (spec §4.2/§4.3).

Style options: ``encoding`` (``utf-8`` | ``gbk``; the page declares it in a meta tag), ``nbsp`` (blank cells
written as ``&nbsp;``), ``heading_tag`` (``strong`` | ``h3``), ``site`` (banner name), ``neighbours``
(titles shown as 上一篇/下一篇), ``views`` (visit counter).
"""

from __future__ import annotations

from html import escape

from ingest.demo.grid import Block, Grid, blocks
from ingest.demo.report import DemoReport

SYNTHETIC = "（示例数据，非真实报告）"

_CSS = (
    "body{font-family:SimSun,serif;margin:0}.top{background:#b22;color:#fff;padding:12px 24px;font-size:22px}"
    ".nav ul{list-style:none;margin:0;padding:0;background:#eee}.nav li{display:inline-block;padding:8px 16px}"
    ".crumb{padding:8px 24px;color:#666}.article{width:900px;margin:0 auto}.article h1{text-align:center;font-size:22px}"
    ".info{text-align:center;color:#888;border-bottom:1px solid #ddd;padding-bottom:8px}"
    ".content p{text-indent:2em;line-height:1.8}.content table{border-collapse:collapse;margin:8px auto}"
    ".content td{border:1px solid #000;padding:4px;text-align:center}.footer{background:#333;color:#ccc;padding:16px;"
    "margin-top:24px;text-align:center;font-size:12px}"
)


def _cell_html(text: str, nbsp: bool) -> str:
    if not text:
        return "&nbsp;" if nbsp else ""
    return "<br/>".join(escape(part) for part in text.split("\n"))


def _table(grid: Grid, nbsp: bool) -> str:
    out = ['<table border="1" cellspacing="0" cellpadding="0" align="center"><tbody>']
    for r, row in enumerate(grid.rows):
        out.append('<tr class="firstRow">' if r == 0 else "<tr>")
        for cell in row:
            attrs = ""
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            out.append(f'<td{attrs} valign="center"><p>{_cell_html(cell.text, nbsp)}</p></td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _block(b: Block, report: DemoReport) -> str:
    if b.kind == "table":
        assert b.grid is not None
        return _table(b.grid, bool(report.style.get("nbsp")))
    if b.kind == "heading":
        if report.style.get("heading_tag") == "h3":
            return f"<h3>{escape(b.text)}</h3>"
        return f'<p style="text-indent:2em"><strong>{escape(b.text)}</strong></p>'
    if b.kind == "para" and not b.section and b.text in report.sign_off:
        return f'<p style="text-align:right">{escape(b.text)}</p>'
    return f'<p style="text-indent:2em">{escape(b.text)}</p>'


def render_html(report: DemoReport) -> bytes:
    enc = report.style.get("encoding", "utf-8")
    charset = "gb2312" if enc.lower() in ("gbk", "gb2312", "gb18030") else "utf-8"
    city = report.city or ""
    region = report.region or ""
    site = report.style.get("site") or f"{city}{region}人民政府"
    bl = blocks(report)
    title = bl[0].text
    body = "\n".join(_block(b, report) for b in bl[1:] if b.kind != "meta")
    info = []
    if report.published:
        info.append(f"发布时间：{report.published} {report.style.get('time', '09:30')}")
    info.append(f"来源：{escape(report.issuer or report.unit)}")
    info.append(f"浏览次数：{report.style.get('views', 100)}")
    info.append("字体：[大 中 小]")
    prev_next = "".join(
        f"<li>{label}<a href=\"#\">{escape(t)}</a></li>"
        for label, t in zip(("上一篇：", "下一篇："), report.style.get("neighbours", []), strict=False)
    )
    menu = "".join(f'<li><a href="#">{m}</a></li>' for m in ("首页", "政务公开", "政务服务", "互动交流", "走进" + (region or city)))
    page = f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<meta name="SiteName" content="{escape(site)}（示例站点）" />
<meta name="ColumnName" content="政府信息公开年报" />
<meta name="ArticleTitle" content="{escape(title)}" />
<title>{escape(title)}_{escape(site)}</title>
<style>{_CSS}</style>
</head>
<body>
<div class="top">{escape(site)}门户网站 <span class="demo">{SYNTHETIC}</span></div>
<div class="nav"><ul>{menu}</ul></div>
<div class="crumb">当前位置：<a href="#">首页</a> &gt; <a href="#">政务公开</a> &gt; <a href="#">政府信息公开年报</a> &gt; <a href="#">{escape(report.unit)}</a></div>
<div class="article">
<h1>{escape(title)}</h1>
<div class="info">{"　".join(info)}</div>
<div class="content">
{body}
</div>
<ul class="prevnext">{prev_next}</ul>
</div>
<div class="footer">主办：{escape(site)}办公室　{SYNTHETIC}<br/>本站所有内容均为程序生成的示例数据，不代表任何真实机关</div>
</body>
</html>
"""
    return page.encode(enc)
