"""Text normalisation used before any label or pattern matching (spec §12.1, §12.7)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

# Hidden Unicode (spec §12.7): soft hyphen, zero-width characters, line/paragraph separators, word joiner and
# invisible operators, bidi controls, BOM.  Invisible in every viewer but they break keyword matching (总\u200b体情况).
INVISIBLE_CHARS = "\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# Control characters and code points XML 1.0 cannot hold: C0 except tab, LF and CR; DEL and C1; lone surrogates;
# U+FFFE/U+FFFF.  One ``&#8;`` in a cell or a Word ``\x07`` would otherwise reach the database and break exports.
CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
# Both sets as one regex class (a regex, not ``str.translate``: translate with a dict costs ~100 ns a character).
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}{CONTROL_CHARS}]")
_ARTIFACTS = re.compile(r"\[bookmark:[^\]]*\]|\[image:[^\]]*\]")
_WS = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": '"', "’": '"', "'": '"', "「": '"', "」": '"',
                         "『": '"', "』": '"', "【": "〔", "】": "〕", "[": "〔", "]": "〕"})
_CJK = r"[\u3400-\u9fff]"
_CJK_SPACE = re.compile(rf"(?<={_CJK})[ \t\u3000]+(?={_CJK})")
_ENUM = re.compile(r"^(?:[(（]?[一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、.．,，]|"
                   r"[(（]?\d{1,2}[)）]|\d{1,2}[、.．,，)）]?(?=\D))")

# Characters that occur in Traditional but not in Simplified text of these reports.
_TRADITIONAL_HINTS = set("報資訊開與於們說這為國無點發門條聯屬處規範檔機關據證實網際務統計項許")


def strip_invisible(text: str) -> str:
    """Remove hidden Unicode and control characters (``INVISIBLE_CHARS``, ``CONTROL_CHARS``); nothing else."""
    return _INVISIBLE.sub("", text)


@lru_cache(maxsize=1 << 16)
def clean(text: str) -> str:
    """NFKC, invisible characters and conversion artifacts removed; line structure kept."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _ARTIFACTS.sub("", text)
    return text.replace("\xa0", " ")


@lru_cache(maxsize=1 << 16)
def strip_artifacts(text: str) -> str:
    """Invisible characters and conversion artifacts removed, nothing else changed."""
    return _ARTIFACTS.sub("", _INVISIBLE.sub("", text)).replace("\xa0", " ")


@lru_cache(maxsize=1 << 16)
def squash(text: str) -> str:
    """For label matching: clean, no whitespace at all, unified quotes and doc-number brackets."""
    return _WS.sub("", clean(text)).translate(_QUOTES)


@lru_cache(maxsize=1 << 16)
def join_cjk(text: str) -> str:
    """Remove spaces injected between CJK characters (``年 度`` → ``年度``), keep others."""
    return _CJK_SPACE.sub("", text)


@lru_cache(maxsize=1 << 16)
def strip_enum(label: str) -> str:
    """``1、重复申请`` / ``（三）不予公开`` / ``二、上年结转…`` → the label body."""
    return _ENUM.sub("", label, count=1)


_TRADITIONAL_RE = re.compile("[" + "".join(sorted(_TRADITIONAL_HINTS)) + "]")


TRADITIONAL_SAMPLE_CHARS = 5000   # the beginning of a document that decides whether it is 繁体


def looks_traditional(text: str) -> bool:
    return len(_TRADITIONAL_RE.findall(text, 0, TRADITIONAL_SAMPLE_CHARS)) >= 8


@cache
def _t2s():
    from opencc_purepy import OpenCC

    return OpenCC("t2s")


_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# Some 繁体 conversion tools print the pinyin of each converted character after it: 根據(jù), 報(bào)告.
_PINYIN_NOTE = re.compile(rf"[(（](?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,7}}[)）]")


def strip_pinyin_notes(text: str) -> str:
    """``報(bào)告`` → ``報告``: a bracketed toned pinyin syllable is never part of a report's wording."""
    return _PINYIN_NOTE.sub("", text)


def to_simplified(text: str) -> str:
    """Traditional → Simplified (mirror sites serve 繁体, spec §12.1); only called when needed."""
    return _t2s().convert(strip_pinyin_notes(text))
