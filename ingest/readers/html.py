"""Saved web pages (HTML, UTF-8 or GBK) → :class:`Document`.

Government sites wrap the report in site chrome: menus, breadcrumbs, "关怀版"/无障碍 switches,
share buttons, related-article lists, footers.  The reader

1. decodes the bytes (BOM, then strict UTF-8, then the page's ``<meta charset>``, then GB18030 and
   charset detection — see :func:`ingest.readers.common.decode_text`);
2. refuses hostile markup *before* parsing (lexbor needs quadratic time on very deep nesting);
3. finds the article: the deepest element that holds (nearly) all report markers — section
   headings such as ``一、总体情况`` and table labels such as ``本年新收`` — ignoring link text;
4. emits the page's article title and its date/source line (found just before the article) and
   then the article's paragraphs and tables in reading order.

Tables keep HTML's physical cells (a merged cell appears once, with its colspan/rowspan).  A layout
table whose cells contain other tables is not a data table: its inner tables become table blocks
of their own and its plain cells become paragraphs.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ingest import limits
from ingest.document import Block, Cell, Document, table_cell_where
from ingest.errors import RejectedFile
from ingest.readers.common import check_text_size, decode_text, too_many_cells
from ingest.textnorm import strip_invisible

# More tags than this is not a report page (pingtan-2023.html, with all its chrome, has ~2 000).
MAX_HTML_TAGS = 200_000
# Below this many tags lexbor parses even the worst nesting in well under a second, and the
# DOM walk enforces MAX_HTML_DEPTH; above it, the nesting is estimated before parsing.
PRECHECK_ABOVE_TAGS = 10_000

_SKIP = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "select", "option", "button", "input", "textarea", "canvas", "audio", "video", "map", "head",
}
_BLOCK = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "section",
    "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre", "address", "figure",
    "figcaption", "center", "form", "fieldset", "legend", "hr", "caption", "tr", "td", "th",
    "thead", "tbody", "tfoot", "title", "body", "html", "details", "summary",
}
# Elements an article can live in (a marker found only inside a <p> or <strong> climbs to one).
_CONTAINERS = {"div", "td", "th", "table", "article", "section", "main", "body", "center", "form",
               "blockquote", "dd", "li"}
# For the pre-parse depth estimate (see _precheck).
_NOT_COUNTED = {"thead", "tbody", "tfoot", "option", "optgroup", "colgroup", "caption", "rb", "rt",
                "rtc", "rp", "html", "head", "body"}
_P_SCOPE = frozenset({"table", "td", "th", "caption", "button", "object", "template", "marquee"})
_END_STOPS = frozenset({"table", "td", "th"})
_CLOSES_P = {"div", "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
             "blockquote", "section", "article", "header", "footer", "nav", "aside", "form", "hr",
             "address", "center", "fieldset", "figure", "main", "details", "menu", "p"}
_CLOSED_BY: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "li": (("li",), frozenset({"ul", "ol", "menu", "table", "td", "th"})),
    "dt": (("dt", "dd"), frozenset({"dl", "table", "td", "th"})),
    "dd": (("dt", "dd"), frozenset({"dl", "table", "td", "th"})),
    "td": (("td", "th"), frozenset({"tr", "table"})),
    "th": (("td", "th"), frozenset({"tr", "table"})),
    "tr": (("tr",), frozenset({"table"})),
}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr", "keygen", "frame", "basefont", "bgsound", "isindex", "image"}

# Words that mark the report itself (headings of §3 and labels of the fixed tables).
_MARKERS = ("总体情况", "主动公开政府信息", "收到和处理政府信息公开申请", "行政复议", "存在的主要问题",
            "其他需要报告", "本年新收", "上年结转", "予以公开", "不予公开", "无法提供", "不予处理",
            "第二十条", "本年制发件数", "本年新制作数量", "本年处理决定数量")

_WS_CHARS = " \t\n\r\f\u00a0"
_WS = re.compile(f"[{_WS_CHARS}]+")
# A marker, allowing white space between its characters (本年\n新收) but never a text-node boundary.
_MARKER_RE = re.compile("|".join(f"[{_WS_CHARS}]*".join(map(re.escape, m)) for m in _MARKERS))
_NODE_SEP = "\x00"
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.I)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)|<!--")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_DATE = re.compile(r"(?:19|20)\d{2}\s*[-年/.]\s*\d{1,2}")
_INFO_LABEL = re.compile(r"^(?:来源|信息来源|发布机构|发文机关|发布单位|发布时间|发布日期|成文日期|时间|日期)\s*[:：]")


def read(data: bytes, source: str) -> Document:
    text, encoding = _decode(data)
    _precheck(text)
    tree = LexborHTMLParser(text)
    doc_title = _document_title(tree)
    tree.strip_tags(sorted(_SKIP - {"head"}))
    body = tree.body
    if body is None:
        return Document(source=source, format="html", blocks=[], encoding=encoding)
    article = _find_article(body)
    _drop_hidden(article)
    walker = _Walker()
    header = _header_blocks(body, article, doc_title)
    walker.walk_container(article, 0)
    blocks = _dedupe_title(header, walker.blocks)
    check_text_size(walker.chars + sum(len(b.text) for b in header))
    return Document(source=source, format="html", blocks=blocks, encoding=encoding)


# ---------------------------------------------------------------------------------------------
# Decoding and pre-parse checks.

def _decode(data: bytes) -> tuple[str, str]:
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    declared = m.group(1).decode("ascii", "ignore") if m else None
    return decode_text(data, declared=declared, max_chars=None)


def _precheck(text: str) -> None:
    """Reject pages that are too big or too deeply nested, without building a DOM.

    The depth estimate follows start and end tags on a stack the way an HTML parser roughly
    does: an end tag closes up to its matching open element; ``<p>``, ``<li>``, ``<td>``, ``<tr>``
    ... close an open sibling, and block starts close an open ``<p>``; void tags and tags that
    are never nested deeply (``tbody``, ``option`` ...) are not counted; comments, ``<script>``
    and ``<style>`` contents are skipped.  Sloppy real pages (unclosed ``<p>``, ``<li>``,
    ``<span>`` inside paragraphs) therefore stay shallow, while ``<div>`` × 10 000 does not.
    """
    n_tags = text.count("<")
    if n_tags > MAX_HTML_TAGS:
        raise RejectedFile(
            f"网页内容过于复杂（标签超过 {MAX_HTML_TAGS} 个），不像是一份年度报告网页", "too_large"
        )
    if n_tags <= PRECHECK_ABOVE_TAGS:
        return
    stack: list[str] = []
    pos = 0
    search = _TAG.search
    lower = None

    def close(targets: tuple[str, ...], stops: frozenset[str]) -> None:
        for i in range(len(stack) - 1, max(len(stack) - 60, -1), -1):
            tag = stack[i]
            if tag in targets:
                del stack[i:]
                return
            if tag in stops:
                return

    while True:
        m = search(text, pos)
        if m is None:
            break
        pos = m.end()
        if m.group(0) == "<!--":
            end = text.find("-->", pos)
            pos = len(text) if end < 0 else end + 3
            continue
        name = m.group(2).lower()
        if m.group(1):   # end tag
            close((name,), _END_STOPS)
            continue
        if name in ("script", "style"):
            if lower is None:
                lower = text.lower()
            end = lower.find(f"</{name}", pos)
            pos = len(text) if end < 0 else end
            continue
        if name in _CLOSES_P:
            close(("p",), _P_SCOPE)
        rule = _CLOSED_BY.get(name)
        if rule is not None:
            close(*rule)
        if name in _VOID or name in _NOT_COUNTED:
            continue
        stack.append(name)
        if len(stack) > limits.MAX_HTML_DEPTH:
            raise _too_deep()


def _too_deep() -> RejectedFile:
    return RejectedFile(
        f"网页结构嵌套过深（超过 {limits.MAX_HTML_DEPTH} 层），不像是一份正常的年度报告网页", "unsafe"
    )


# ---------------------------------------------------------------------------------------------
# Finding the article.

@lru_cache(maxsize=1 << 14)
def _clean(text: str) -> str:
    # cached: table labels and small numbers repeat in every report
    return _WS.sub(" ", strip_invisible(text)).strip()


def _find_article(body: LexborNode) -> LexborNode:
    """The deepest element holding at least 80% of the report markers (body when none)."""
    chains = _Ancestors()
    counts: Counter[int] = Counter()
    total = 0
    for node in _marker_text_nodes(body):
        parent = node.parent
        chain = chains.of(parent) if parent is not None else None
        if not chain:
            continue                     # inside a link (menus, related articles), or outside body
        total += 1
        counts.update(chain)
    if not total:
        return body
    need = max(1, -(-total * 4 // 5))
    best_id = max((i for i, n in counts.items() if n >= need), key=chains.depth)
    best = chains.nodes[best_id]
    while best.tag not in _CONTAINERS and best.parent is not None:
        best = best.parent
    if best.tag in ("tr", "tbody", "thead", "tfoot"):
        while best.tag != "table" and best.parent is not None:
            best = best.parent
    return best


def _marker_text_nodes(body: LexborNode) -> list[LexborNode]:
    """The text nodes under ``body`` that contain a report marker, in document order.

    The markers are searched for once, in C, over all of the body's text (text nodes joined by
    NUL, which lexbor never leaves in text); the walk over the tree then only counts text nodes
    to pick out the hits, instead of running regexes on each of the page's hundreds of nodes.
    """
    text = body.text(deep=True, separator=_NODE_SEP, skip_empty=False)
    # a hit's text node is the number of separators before it (counted in C, from the previous hit on)
    hits: list[int] = []
    index = pos = 0
    for m in _MARKER_RE.finditer(text):
        index += text.count(_NODE_SEP, pos, m.start())
        pos = m.start()
        if not hits or hits[-1] != index:
            hits.append(index)
    if not hits:
        return []
    found: list[LexborNode] = []
    index = -1
    want = iter(hits)
    target = next(want)
    for node in body.traverse(include_text=True):
        if not node.is_text_node:
            continue
        index += 1
        if index == target:
            found.append(node)
            target = next(want, None)
            if target is None:
                break
    if len(found) == len(hits) and all(_MARKER_RE.search(n.text_content or "") for n in found):
        return found
    # the text and the tree disagree (never seen): test every text node
    return [n for n in body.traverse(include_text=True)
            if n.is_text_node and _MARKER_RE.search(n.text_content or "")]


class _Ancestors:
    """Each element's chain of ancestors up to ``<body>`` (mem ids, the element first), memoised:
    the report's marker cells share almost all their ancestors.  The chain is None when the element
    is inside a link."""

    def __init__(self) -> None:
        self.chains: dict[int, tuple[int, ...] | None] = {}
        self.nodes: dict[int, LexborNode] = {}

    def depth(self, mem_id: int) -> int:
        return len(self.chains[mem_id] or ())

    def of(self, el: LexborNode) -> tuple[int, ...] | None:
        pending: list[LexborNode] = []
        chain: tuple[int, ...] | None = ()
        node: LexborNode | None = el
        while node is not None and node.tag not in ("html", "-document"):
            known = self.chains.get(node.mem_id, False)
            if known is not False:
                chain = known
                break
            pending.append(node)
            if node.tag == "body":
                break
            if len(pending) > limits.MAX_HTML_DEPTH:
                raise _too_deep()
            node = node.parent
        for node in reversed(pending):
            mem_id = node.mem_id
            if chain is None or node.tag == "a":
                chain = None
            else:
                chain = (mem_id, *chain)
                if len(chain) > limits.MAX_HTML_DEPTH:
                    raise _too_deep()
            self.chains[mem_id] = chain
            self.nodes[mem_id] = node
        return chain


def _document_title(tree: LexborHTMLParser) -> str:
    """The article title from the page head (TRS ``ArticleTitle`` meta, else ``<title>``)."""
    head = tree.head
    if head is None:
        return ""
    meta = head.css_first('meta[name="ArticleTitle"]')
    if meta is not None and meta.attributes.get("content"):
        return _clean(meta.attributes["content"] or "")
    title = head.css_first("title")
    if title is None:
        return ""
    text = _clean(title.text())
    return re.split(r"\s*[_|｜]\s*|\s+[-–—]\s+", text)[0] if text else ""


def _header_blocks(body: LexborNode, article: LexborNode, doc_title: str) -> list[Block]:
    """The article title and its date/source line, which sit just before the article.

    They matter to the recogniser (report year, unit, publication date) but are outside the
    article element on most sites.
    """
    if article is body:
        return []
    order: list[LexborNode] = []
    article_id = article.mem_id
    for node in body.traverse(include_text=True):
        if node.mem_id == article_id:
            break
        order.append(node)
    else:
        return []
    # Title: the closest element before the article that looks like a title and names a report;
    # one that contains a year wins over a closer one that does not (a column name such as
    # "政府信息公开年报").
    title_idx = -1
    title_text = ""
    for i in range(len(order) - 1, -1, -1):
        el = order[i]
        tag = el.tag or ""
        if el.is_text_node or tag in ("a", "title") or tag.startswith("-"):
            continue
        attrs = el.attributes
        cls = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
        if tag not in ("h1", "h2", "h3") and "title" not in cls:
            continue
        text = _clean(el.text())
        if not (4 <= len(text) <= 120 and ("报告" in text or "年报" in text)) or _inside_link(el):
            continue
        if title_idx < 0:
            title_idx, title_text = i, text
        if re.search(r"\d{4}", text):
            title_idx, title_text = i, text
            break
    blocks: list[Block] = []
    if title_text:
        blocks.append(Block.paragraph(title_text, "网页标题"))
    elif doc_title and ("报告" in doc_title or "年报" in doc_title):
        blocks.append(Block.paragraph(doc_title, "网页标题"))
    if title_idx < 0:
        return blocks
    # Info lines between the title and the article: only short ones with a date or a source.
    seen: set[str] = set()
    for el in order[title_idx + 1:]:
        if not el.is_text_node:
            continue
        parent = el.parent
        if parent is None or _inside_link(parent) or _inside(parent, order[title_idx]):
            continue
        text = _clean(el.text_content or "")
        if not text or len(text) > 100 or text in seen:
            continue
        if _DATE.search(text) or _INFO_LABEL.match(text):
            seen.add(text)
            blocks.append(Block.paragraph(text, "网页信息"))
    return blocks


def _inside_link(el: LexborNode) -> bool:
    for _ in range(6):
        if el is None:
            return False
        if el.tag == "a":
            return True
        el = el.parent
    return False


def _inside(el: LexborNode, ancestor: LexborNode) -> bool:
    target = ancestor.mem_id
    for _ in range(limits.MAX_HTML_DEPTH + 10):
        if el is None:
            return False
        if el.mem_id == target:
            return True
        el = el.parent
    raise _too_deep()


def _dedupe_title(header: list[Block], blocks: list[Block]) -> list[Block]:
    firsts = {b.text for b in blocks[:5] if b.kind == "text"}
    return [b for b in header if b.text not in firsts] + blocks


# ---------------------------------------------------------------------------------------------
# Walking the article.

def _hidden(node: LexborNode) -> bool:
    attrs = node.attributes
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    if not style:
        return False
    low = style.lower()          # (substring tests first: an IGNORECASE regex over long styles is slow)
    return ("display" in low or "visibility" in low) and bool(_HIDDEN_STYLE.search(low))


def _drop_hidden(article: LexborNode) -> None:
    """Remove hidden elements inside the article (hidden bookmarks, duplicated junk).

    Only inside the article, and never one that holds a table or report markers: some sites
    hide the text version of the report with ``display:none`` and show it from JavaScript.
    """
    for node in article.css('[hidden], [style*="none" i], [style*="hidden" i]'):
        if node.mem_id == article.mem_id or not _hidden(node):
            continue
        if node.css_first("table") is not None:
            continue
        squeezed = _WS.sub("", node.text())
        if any(k in squeezed for k in _MARKERS):
            continue
        node.decompose()


_SPAN = re.compile(r"\s*(\d+)")


def _span(value: str | None, cap: int) -> int:
    if value and value.isascii() and value.isdigit() and len(value) < 7:
        n = int(value)                          # the usual colspan="3"
    else:
        m = _SPAN.match(value or "")
        n = int(m.group(1)) if m else 1
    return min(max(n, 1), cap)


class _Walker:
    """Turns an element tree into blocks; also used on its own to get a cell's lines."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.line: list[str] = []
        self.tables = 0
        self.cells = 0
        self.paragraphs = 0
        self.chars = 0           # text emitted so far (the document's size limit)
        self.cell_mode = False   # inside a data-table cell: collect lines, never emit tables

    # -- paragraphs --------------------------------------------------------------------------
    def flush(self) -> None:
        if not self.line:
            return
        text = _clean("".join(self.line))
        self.line.clear()
        if text:
            self.chars += len(text)
            self.paragraphs += 1
            self.blocks.append(Block.paragraph(text, f"正文第{self.paragraphs}段"))

    def walk_container(self, node: LexborNode, depth: int) -> None:
        if node.tag == "table":
            self.table(node, depth)
        else:
            self.walk(node, depth)
        self.flush()

    def walk(self, node: LexborNode, depth: int) -> None:
        if depth > limits.MAX_HTML_DEPTH:
            raise _too_deep()
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.line.append(child.text_content or "")
            elif tag is None or tag.startswith("-") or tag in _SKIP:
                continue
            elif tag == "br":
                self.flush()
            elif tag == "table":
                self.flush()
                self.table(child, depth + 1)
            elif tag == "pre":
                self.flush()
                for part in child.text().split("\n"):
                    self.line.append(part)
                    self.flush()
            elif tag in _BLOCK:
                self.flush()
                self.walk(child, depth + 1)
                self.flush()
            else:
                self.walk(child, depth + 1)

    # -- tables ------------------------------------------------------------------------------
    def table(self, table: LexborNode, depth: int) -> None:
        if depth > limits.MAX_HTML_DEPTH:
            raise _too_deep()
        rows = _rows(table)
        n_cells = sum(len(r) for r in rows)
        layout = not self.cell_mode and (n_cells <= 1 or len(table.css("table")) > 1)
        if layout or self.cell_mode:
            # A frame around other tables or around the article: read its cells as containers.
            self.walk(table, depth)
            self.flush()
            return
        caption = next((c for c in table.iter() if c.tag == "caption"), None)
        if caption is not None:
            self.line.append(caption.text())
            self.flush()
        self.tables += 1
        n = self.tables
        self.cells += n_cells
        if self.cells > limits.MAX_TABLE_CELLS:
            raise too_many_cells()
        out_rows: list[list[Cell]] = []
        chars = 0
        for r_idx, row in enumerate(rows, start=1):
            out: list[Cell] = []
            for c_idx, cell in enumerate(row, start=1):
                attrs = cell.attributes
                colspan, rowspan = attrs.get("colspan"), attrs.get("rowspan")
                # fast path (most cells): at most one non-blank text node, no line structure to keep
                raw = cell.text(deep=True, separator="\x00", skip_empty=True)
                text = _clean(raw) if "\x00" not in raw else self.cell_lines(cell, depth + 1)
                chars += len(text)
                out.append(Cell(text, table_cell_where(n, r_idx, c_idx),
                                _span(colspan, 1000) if colspan else 1,
                                _span(rowspan, 65534) if rowspan else 1))
            out_rows.append(out)
        self.chars += chars
        self.blocks.append(Block.table(out_rows, f"表格{n}"))

    @staticmethod
    def cell_lines(cell: LexborNode, depth: int) -> str:
        """A cell with several text nodes: its lines (paragraphs, ``<br>``) joined by newlines."""
        sub = _Walker()
        sub.cell_mode = True
        sub.walk(cell, depth)
        sub.flush()
        return "\n".join(b.text for b in sub.blocks)


def _rows(table: LexborNode) -> list[list[LexborNode]]:
    """The table's own rows (not those of nested tables), each the list of its td/th cells."""
    rows: list[list[LexborNode]] = []
    for child in table.iter():
        if child.tag == "tr":
            trs = [child]
        elif child.tag in ("thead", "tbody", "tfoot"):
            trs = [tr for tr in child.iter() if tr.tag == "tr"]
        else:
            continue
        for tr in trs:
            cells = [c for c in tr.iter() if c.tag in ("td", "th")]
            if cells:
                rows.append(cells)
    return rows
