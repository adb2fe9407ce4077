"""What report is this: template version, report year, unit, level, region, publication date (spec §13)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from ingest.templates import layout
from ingest.textnorm import squash
from ingest.tokens import Token

# Years: 1990–2099 (政府信息公开 reports exist since 2008; a "1950年" is a typo, never the report year).
_TITLE = re.compile(r"(?P<issuer>[\u4e00-\u9fff()]{0,40}?)(?P<year>(?:199|20\d)\d)年度?(?:的)?政府信息公开(?:工作)?年度?报告?")
_ISSUER_SUFFIX = re.compile(r"(?:人民政府|办事处|政府|管委会|管理委员会)$")
_LONG_TITLE = [
    re.compile(r"(?:公布|公开|编制|发布|印发)(?P<issuer>[\u4e00-\u9fff]{2,30}?)(?P<year>20\d{2})年度?政府信息公开(?:工作)?年度报告"),
    re.compile(r"(?P<year>20\d{2})年度?(?P<issuer>[\u4e00-\u9fff]{2,20}?)(?:人民政府|办事处)?(?:政府)?信息公开(?:工作)?年度报告"),
]
_TOWNSHIP_MENTION = re.compile(r"([^\W\d_镇乡我本的在由与和及过向对各全市县区府]{1,5}(?:镇|乡|街道))(?:人民政府|办事处|党委|政府|办公室|党政)")
_UNIT = re.compile(r"^(?P<prefix>.*?)(?P<unit>[^省市县区旗盟州]{1,10}?(?:民族乡|镇|乡|街道|苏木))$")
# A place name: letters (not digits, punctuation or markup: '</script>区' is no region) up to its suffix.
_SEGMENT = re.compile(r"[^省市县区旗盟州\W\d_a-zA-Z]+?[省市县区旗盟州]")
_ISSUER_IN_TEXT = [
    re.compile(r"本(?:年度)?报告由(?P<u>[\u4e00-\u9fff]{2,20}?)(?:人民政府|办事处)"),
    re.compile(r"(?P<u>[\u4e00-\u9fff]{2,20}?)(?:人民政府|办事处)(?:根据|按照|依据|编制|在总结)"),
    re.compile(r"请与(?P<u>[\u4e00-\u9fff]{2,20}?)(?:人民政府|办事处)"),
    re.compile(r"(?:联系|咨询).{0,6}?(?P<u>[\u4e00-\u9fff]{2,12}?(?:镇|乡|街道))(?:人民政府|办事处)"),
]
_PERIOD = re.compile(r"(?P<y>(?:199|20\d)\d)年?0?1月?0?1日?起?(?:至|到|—+|-|~)")
_YEAR_TOKEN = re.compile(r"((?:199|20\d)\d)年")
_FORMAT_DOC = re.compile(r"国办(?P<kind>公开办函|发|函)?〔?(?P<y>20\d{2})〕?(?P<n>\d{1,3})号")
_PUBLISHED = [
    re.compile(r"(?:发布|成文|公开|印发)(?:时间|日期)[:：]?(?P<y>20\d{2})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})"),
    # a page's info line "时间：2024-03-08 15:34" (saved web pages put it under the title)
    re.compile(r"(?:^|来源[:：]\S*?)(?:时间|日期)[:：](?P<y>20\d{2})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})"),
]
_DATE_LINE = re.compile(r"^(?:[\u4e00-\u9fff]{0,24}?)(?P<y>20\d{2})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日$")


@dataclass(slots=True)
class Meta:
    unit: str | None = None
    unit_level: str | None = None
    region: str | None = None
    year: int | None = None
    template: str = "unknown"
    published: str | None = None
    title_year: int | None = None
    period_year: int | None = None
    text_year: int | None = None
    cited_format_doc: str | None = None
    format_markers: dict[str, list[str]] = field(default_factory=dict)
    mixed: bool = False


@lru_cache(maxsize=1)
def _squashed_markers() -> dict[str, tuple[str, ...]]:
    return {name: tuple(squash(x) for x in words) for name, words in layout()["format_markers"].items()}


def detect_template(tokens: list[Token], cited: str | None) -> tuple[str, dict[str, list[str]], bool]:
    """Template by the table labels (spec §13.1); the cited format document only when no table label exists."""
    labels = "\n".join(t.key for t in tokens if len(t.key) <= 50)
    found: dict[str, list[str]] = {}
    for name, words in _squashed_markers().items():
        found[name] = sorted({w for w in words if w in labels})
    n19, n21 = len(found["2019"]), len(found["2021"])
    mixed = n19 >= 2 and n21 >= 2
    if n19 or n21:
        return ("2019" if n19 > n21 else "2021"), found, mixed
    if found["legacy"]:
        return "legacy", found, False
    if cited:
        if "2019" in cited and cited.endswith("60号"):
            return "2019", found, False
        if "2021" in cited and cited.endswith("30号"):
            return "2021", found, False
    return "unknown", found, False


def _split_issuer(issuer: str) -> tuple[str | None, str | None]:
    issuer = re.sub(r"街道办事处$|街道办$|街办$", "街道", issuer)
    issuer = _ISSUER_SUFFIX.sub("", issuer)
    issuer = re.sub(r"^\(.*?\)", "", issuer)
    if not issuer:
        return None, None
    m = _UNIT.match(issuer)
    if not m:
        return issuer, None
    prefix = m.group("prefix")
    segs = [s for s in _SEGMENT.findall(prefix) if s[-1] in "市县区旗"]
    return m.group("unit"), (segs[-1] if segs else None)


def _issuer_from_text(tokens: list[Token], meta: Meta) -> str | None:
    """When no title line names the issuer: a title sentence inside a paragraph, then phrases
    like 本报告由X人民政府…, then the township most often named with 人民政府/办事处/党委."""
    for tok in tokens[:30]:
        for rx in _LONG_TITLE:
            m = rx.search(tok.key)
            if m and len(m.group("issuer")) >= 2 and not m.group("issuer").startswith(("本级", "本机关", "我")):
                meta.title_year = meta.title_year or int(m.group("year"))
                return m.group("issuer")
    joined = "".join(t.key for t in tokens)
    votes = Counter(_TOWNSHIP_MENTION.findall(joined))
    township = votes.most_common(1)[0][0] if votes else None
    for rx in _ISSUER_IN_TEXT:
        m = rx.search(joined)
        if m:
            found = m.group("u")
            # "请与章贡区人民政府水东镇办公室联系": prefer the township the text keeps naming
            if township and not re.search(r"(?:镇|乡|街道)$", found):
                return township
            return found
    return township


def unit_level(unit: str | None) -> str | None:
    if not unit:
        return None
    if unit.endswith("街道"):
        return "街道"
    if unit.endswith("镇"):
        return "镇"
    if unit.endswith(("乡", "苏木")):
        return "乡"
    return "其他"


_FUNCTION_CHARS = set("请与由在向对和及经据按照将为从于是")


def _strip_function_chars(seg: str) -> str:
    """``请与丰城市`` → ``丰城市``; a name like ``和平区`` keeps its first character."""
    while len(seg) > 3 and seg[0] in _FUNCTION_CHARS:
        seg = seg[1:]
    return seg


def _region_from_text(unit: str, text: str) -> str | None:
    votes: Counter[str] = Counter()
    for m in re.finditer(re.escape(unit), text):
        before = re.split(r"[，。、；：:,.;（）()\s“”\"《》]", text[max(0, m.start() - 14):m.start()])[-1]
        segs = [s for s in _SEGMENT.findall(before) if s[-1] in "市县区旗"]
        if segs and before.endswith(segs[-1]):
            votes[_strip_function_chars(segs[-1])] += 1
    return votes.most_common(1)[0][0] if votes else None


def recognise(tokens: list[Token], sections: dict[str, str]) -> Meta:
    meta = Meta()
    text = "\n".join(t.key for t in tokens)
    # ---- format document cited
    m = _FORMAT_DOC.search(text)
    if m:
        kind = m.group("kind") or ""
        meta.cited_format_doc = f"国办{kind}〔{m.group('y')}〕{m.group('n')}号"
    meta.template, meta.format_markers, meta.mixed = detect_template(tokens, meta.cited_format_doc)
    # ---- title: issuer and year
    issuer = None
    for tok in tokens[:60]:
        if len(tok.key) > 80:
            continue
        tm = _TITLE.search(tok.key)
        if tm:
            meta.title_year = meta.title_year or int(tm.group("year"))
            if tm.group("issuer") and len(tm.group("issuer")) >= 2:
                issuer = tm.group("issuer")
                meta.title_year = int(tm.group("year"))
                break
    if issuer is None:
        issuer = _issuer_from_text(tokens, meta)
    if issuer:
        meta.unit, meta.region = _split_issuer(issuer)
        if meta.unit and not meta.region:
            meta.region = _region_from_text(meta.unit, text)
        if meta.unit and meta.region and meta.unit == meta.region:
            meta.region = None
    meta.unit_level = unit_level(meta.unit)
    # ---- years
    pm = _PERIOD.search(text)
    if pm:
        meta.period_year = int(pm.group("y"))
    years = Counter(int(y) for y in _YEAR_TOKEN.findall(squash(sections.get("一", ""))))
    if years:
        meta.text_year = years.most_common(1)[0][0]
    meta.published = _published(tokens)
    pub_year = int(meta.published[:4]) - 1 if meta.published else None
    meta.year = meta.title_year or meta.period_year or meta.text_year or pub_year
    return meta


def _valid_date(y: str, m: str, d: str) -> str | None:
    try:
        return date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def _published(tokens: list[Token]) -> str | None:
    for tok in tokens[:80]:
        for rx in _PUBLISHED:
            m = rx.search(tok.key)
            if m:
                return _valid_date(m.group("y"), m.group("m"), m.group("d"))
    for tok in reversed(tokens[-12:]):
        if tok.in_table or len(tok.key) > 40:
            continue
        m = _DATE_LINE.match(tok.key)
        if m:
            return _valid_date(m.group("y"), m.group("m"), m.group("d"))
    return None
