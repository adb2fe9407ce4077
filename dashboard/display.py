"""Plain display helpers shared by the pages, charts and exports: escaping report text for Markdown
and HTML, number formats, the problem list's display columns, unit labels.  No Streamlit here
(dashboard/ui.py draws; this module only prepares), so exports and tests use it without a page.
"""

from __future__ import annotations

import html
import re

import polars as pl

from dashboard.labels import REVIEW_NAMES, SEVERITY_LABELS
from ingest.store.review import STALE_NOTE

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


# Streamlit's Markdown (remark-gfm) turns http(s)://…, www.… and name@host.tld into links even after
# backslash escapes are resolved, so a zero-width space is put where each of those patterns needs
# an adjacent character: it reads the same but no longer matches.
_ZWSP = "\u200b"
_AUTOLINK_BREAK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)")


def md_escape(text: object) -> str:
    """Text from a report, safe inside ``st.markdown`` (no Markdown, no HTML, no links, no autolinks)."""
    plain = _AUTOLINK_BREAK.sub(_ZWSP, "" if text is None else str(text))
    return _MD_SPECIAL.sub(r"\\\1", plain)


def esc(text: object) -> str:
    """Text from a report, safe inside HTML."""
    return html.escape("" if text is None else str(text), quote=True)


# What an empty table cell shows (Streamlit's default is the programmer's word "None").
MISSING_MARK = "—"


def fmt_int(v) -> str:
    return MISSING_MARK if v is None else f"{round(v):,}"


def fmt_pct(v) -> str:
    return MISSING_MARK if v is None else f"{v:.1%}"


def findings_frame(df: pl.DataFrame, with_unit: bool = True) -> pl.DataFrame:
    """The problem list as shown to users (Chinese column names, severity markers)."""
    cols = [pl.concat_list(pl.col("severity").replace_strict(SEVERITY_LABELS, default="提示")).alias("级别")]
    if with_unit:
        cols += [pl.col("unit").alias("单位"), pl.col("region").alias("县市区"), pl.col("year").alias("年度")]
    cols += [pl.col("rule").alias("规则"), pl.col("message").alias("问题说明"),
             pl.col("expected").alias("应为"), pl.col("actual").alias("报告为"),
             _review_words(df).alias("审核状态")]
    return df.select(cols)


def _review_words(df: pl.DataFrame) -> pl.Expr:
    """待处理 / 已确认 / 已排除; a review whose finding has changed since reads 待处理 with the reason."""
    words = pl.col("review_status").replace_strict(REVIEW_NAMES, default=REVIEW_NAMES["open"])
    if "review_stale" not in df.columns:
        return words
    return pl.when(pl.col("review_stale").fill_null(False)).then(pl.lit(f"{REVIEW_NAMES['open']}（{STALE_NOTE}）")).otherwise(words)


def with_unit_label(df: pl.DataFrame, alias: str = "单位") -> pl.DataFrame:
    """Add a display name per unit: the bare name, or "名称（县市区）" when names repeat."""
    if df.is_empty():
        return df.with_columns(pl.lit(None, dtype=pl.String).alias(alias))
    names = df.select("unit_id", "unit").unique()
    dup = names["unit"].is_duplicated().any()
    if dup:
        return df.with_columns((pl.col("unit") + pl.lit("（") + pl.col("region").fill_null("未知")
                                + pl.lit("）")).alias(alias))
    return df.with_columns(pl.col("unit").alias(alias))
