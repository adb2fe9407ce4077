"""Text from reports, file names, manifests and the URL never becomes a clickable link in the app.

Streamlit's Markdown (remark-gfm) links ``http(s)://…``, ``www.…`` and ``name@host.tld`` even when
every punctuation mark is backslash-escaped, so :func:`dashboard.ui.md_escape` must break them.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from dashboard.ui import md_escape
from tests.test_app_pages import app_db, assert_clean, db, run, sql  # noqa: F401  (fixtures)

HOSTILE = [
    "https://evil.example/login?x=1",
    "请访问 http://evil.example 下载",
    "HTTPS://EVIL.EXAMPLE",
    "见 www.evil.cn 网站",
    "WWW.EVIL.CN",
    "联系 admin@evil.cn 反映",
    "mailto:admin@evil.cn",
    "<https://evil.example>",
    "<admin@evil.cn>",
    "[点这里](https://evil.example)",
]

# What remark-gfm links in the text the reader sees (after backslash escapes are resolved) ...
_LIVE_LITERAL = re.compile(r"(?i)https?://|www\.|[-.\w+]@[-\w]+\.[-\w]")
# ... and CommonMark's <scheme:…> / <name@host> autolinks, which need an unescaped "<" in the source.
_ANGLE_AUTOLINK = re.compile(r"(?<!\\)<[^<>\s]*[:@][^<>\s]*>")


def _as_read(markdown_source: str) -> str:
    """The text Markdown shows for ``markdown_source`` (backslash escapes resolved)."""
    return re.sub(r"\\(.)", r"\1", markdown_source)


def _live_link(markdown_source: str) -> bool:
    return bool(_LIVE_LITERAL.search(_as_read(markdown_source)) or _ANGLE_AUTOLINK.search(markdown_source))


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escape_leaves_no_autolink(text):
    source = md_escape(text)
    assert not _live_link(source), source
    assert _as_read(source).replace("\u200b", "") == text          # reads the same to a person


def _markdown_sources(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        out += [str(e.value) for e in at.get(kind)]
    out += [str(e.proto.label) for e in at.get("expandable")]
    return out


def test_no_page_shows_a_live_link_from_report_text_or_the_url(db):  # noqa: F811
    url = "https://evil.example/login"
    con = duckdb.connect(str(db))
    try:
        con.execute("UPDATE findings SET message = message || ' 详见 ' || ? || ' 或 www.evil.cn 或 a@evil.cn' "
                    "WHERE rule = 'S3-2'", [url])
        con.execute("UPDATE units SET name = '泉港镇 www.evil.cn', region = ? WHERE name = '泉港镇'", [url])
    finally:
        con.close()
    fid = sql(db, "SELECT finding_id FROM findings WHERE rule = 'S3-2'")[0][0]
    at = run("pages/findings.py", query={"q": "www.evil.cn"})
    at.session_state["f_selected"] = fid
    at.run()
    assert_clean(at)
    sources = _markdown_sources(at)
    shown = "\n".join(_as_read(s) for s in sources)
    assert url in shown.replace("\u200b", "") and "a@evil.cn" in shown.replace("\u200b", "")      # the hostile text is displayed, as text
    for s in sources:
        assert not _live_link(s), s
