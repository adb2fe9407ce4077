"""What report is this: template version, report year, unit, level, region, publication date (spec §13)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import pairwise

from ingest.templates import layout, template_doc, template_ids
from ingest.textnorm import squash
from ingest.tokens import Token

# Years: 1990–2099 (政府信息公开 reports exist since 2008; a "1950年" is a typo, never the report year).
_TITLE = re.compile(r"(?P<issuer>[\u4e00-\u9fff()、]{0,40}?)(?P<year>(?:199|20\d)\d)年度?(?:的)?政府信息公开(?:工作)?年度?报告?")
_ISSUER_SUFFIX = re.compile(r"(?:人民政府|办事处|政府|管委会|管理委员会)$")
# An issuer line of a title wrapped over two lines ends with the name of an organisation.
_ORG_END = re.compile(r"(?:人民政府|办事处|政府|管委会|委员会|局|办公室|办|中心|镇|乡|街道|苏木)$")
# Words of a sentence, never of a unit's name: "调整成立以镇党委书记为组长" is no township "调整成立以镇".
_NOT_A_NAME = re.compile(r"[的了以把被我本该其]|年度|成立|调整|开展|进行|相关|负责")
_LONG_TITLE = [
    # "现公布靖江市城南办事处(城南园区)2024年…年度报告", "现将平江县三墩乡2024年度政府信息公开工作报告如下",
    # "现发布《亳州市谯城区芦庙镇2025年政府信息公开工作年度报告》"
    re.compile(r"(?:公布|公开|编制|发布|印发|现将)《?(?P<issuer>[\u4e00-\u9fff()（）]{2,30}?)(?P<year>20\d{2})年度?"
               r"政府信息公开(?:工作)?(?:年度)?报告"),
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
    re.compile(r"请与(?P<u>[\u4e00-\u9fff]{2,20}?(?:镇|乡|街道))(?:综合|党政|党群|政务|办公室)"),
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


# a template's document: 国办公开办函〔2019〕60号 -> ("2019", "60号")
_DOC_PARTS = re.compile(r".*〔(\d{4})〕(\d+号)")


@lru_cache(maxsize=1)
def _squashed_markers() -> dict[str, tuple[str, ...]]:
    return {name: tuple(squash(x) for x in words) for name, words in layout()["format_markers"].items()}


def detect_template(tokens: list[Token], cited: str | None,
                    cited_title: str | None = None) -> tuple[str, dict[str, list[str]], bool]:
    """Template by the table labels (spec §13.1); the cited format document only when no table label exists."""
    labels = "\n".join(t.key for t in tokens if len(t.key) <= 50)
    found: dict[str, list[str]] = {}
    for name, words in _squashed_markers().items():
        found[name] = sorted({w for w in words if w in labels})
    national = template_ids()
    counts = {t: len(found.get(t, ())) for t in national}
    if any(counts.values()):
        # most markers wins; a tie goes to the newer template
        best = max(reversed(national), key=lambda t: counts[t])
        own = set(found[best])
        # mixed: another template's own labels (at least two that the winner does not share)
        mixed = counts[best] >= 2 and any(len(set(found[t]) - own) >= 2 for t in national if t != best)
        return best, found, mixed
    if found["legacy"]:
        return "legacy", found, False
    if cited:
        for t in template_ids():
            year, number = _DOC_PARTS.fullmatch(template_doc(t)).groups()
            if year in cited and cited.endswith(number):
                return t, found, False
    elif cited_title:
        return cited_title, found, False
    return "unknown", found, False


@lru_cache(maxsize=1)
def _doc_titles() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((t, tuple(squash(w) for w in words)) for t, words in layout()["format_doc_titles"].items())


def template_by_cited_title(text: str) -> str | None:
    """The template whose document the text cites by title only (no 〔年〕号); None when none or both."""
    squashed = squash(text)
    hits = {t for t, words in _doc_titles() if any(w in squashed for w in words)}
    return hits.pop() if len(hits) == 1 else None


def _split_issuer(issuer: str) -> tuple[str | None, str | None]:
    issuer = issuer.split("、")[0]                   # joint issuers: "城南办事处、城南园区" → the first
    issuer = re.sub(r"街道办事处$|街道办$|街办$", "街道", issuer)
    # "高港区人民政府沿江街道": the district government named before the township
    issuer = re.sub(r"(?<=[市县区旗])人民政府(?=[\u4e00-\u9fff]{2,8}(?:镇|乡|街道)$)", "", issuer)
    office = issuer.endswith("办事处")                 # "城南办事处" is itself a 街道-level office
    issuer = _ISSUER_SUFFIX.sub("", issuer)
    issuer = re.sub(r"^\(.*?\)", "", issuer)
    if not issuer or _NOT_A_NAME.search(issuer):
        return None, None
    m = _UNIT.match(issuer)
    if not m:
        if office:
            segs = [s for s in _SEGMENT.findall(issuer) if s[-1] in "市县区旗"]
            rest = issuer[len("".join(segs)):] if segs and issuer.startswith("".join(segs)) else issuer
            return (rest + "办事处" if rest else None), (segs[-1] if segs else None)
        return issuer, None
    prefix = m.group("prefix")
    segs = [s for s in _SEGMENT.findall(prefix) if s[-1] in "市县区旗"]
    return m.group("unit"), (segs[-1] if segs else None)


# "由广西壮族自治区北部湾经济区规划建设管理办公室(以下简称自治区北部湾办)编制": the title may use the short name.
_SHORT_NAME = re.compile(r"(?:由|是|^|[，。,；：:\n])(?P<full>[\u4e00-\u9fff]{4,40}?)[(（]以下简称[“\"]?(?P<short>[\u4e00-\u9fff]{2,15})[”\"]?[)）]")
# A unit as the subject of a sentence: "长滩镇坚持以…", "2022年，广德市农业农村局在市政府信息公开网上主动公开…".
_SUBJECT = re.compile(
    r"(?:^|[。；;\n]|年[，,]?)(?P<u>[\u4e00-\u9fff]{2,14}?(?:镇|乡|街道|局|委员会))"
    r"(?=坚持|认真|积极|严格|按照|始终|不断|深入|全面|高度|紧紧|扎实|持续|进一步|全年|在)")


_ANNOUNCE = re.compile(r"^.*(?:现将|公布|公开|发布|印发|编制)")


def _clean_issuer(issuer: str, text: str) -> str:
    """Drop the verb a sentence put before the name ("现公布靖江市…" → "靖江市…") and expand a short
    name the text defines ("自治区北部湾办" → its full name before "(以下简称自治区北部湾办)")."""
    issuer = _ANNOUNCE.sub("", issuer) or issuer
    for m in _SHORT_NAME.finditer(text):
        if m.group("short") == issuer:
            return _strip_function_chars(m.group("full"))
    return issuer


def _title_issuer(tokens: list[Token], meta: Meta) -> str | None:
    """The issuer named in the title: on the title line, at the start of a line that runs straight into
    the first sentence, or on the line above a title wrapped over two lines."""
    heads = []
    for tok in tokens[:60]:
        key = tok.key[:80]
        heads.append(key)
        tm = _TITLE.search(key)
        if tm:
            meta.title_year = meta.title_year or int(tm.group("year"))
            if tm.group("issuer") and len(tm.group("issuer")) >= 2:
                meta.title_year = int(tm.group("year"))
                return tm.group("issuer")
    for first, second in pairwise(heads):
        if len(first) > 40 or len(second) > 40 or not _ORG_END.search(first):
            continue
        tm = _TITLE.search(first + second)
        if tm and tm.group("issuer") == first:
            meta.title_year = int(tm.group("year"))
            return first
    return None


def _issuer_from_text(tokens: list[Token], meta: Meta) -> str | None:
    """When no title line names the issuer: a title sentence inside a paragraph, then phrases
    like 本报告由X人民政府…, then the township most often named with 人民政府/办事处/党委, then the
    unit most often named as the subject of a sentence."""
    for tok in tokens[:30]:
        for rx in _LONG_TITLE:
            m = rx.search(tok.key)
            # "2024年政府信息公开工作年度报告" names no issuer: "政府" is a word of the title, not a unit
            if m and len(_ISSUER_SUFFIX.sub("", m.group("issuer"))) >= 2 \
                    and not m.group("issuer").startswith(("本级", "本机关", "我")):
                meta.title_year = meta.title_year or int(m.group("year"))
                return m.group("issuer")
    joined = "".join(t.key for t in tokens)
    votes = Counter(u for u in _TOWNSHIP_MENTION.findall(joined) if not _NOT_A_NAME.search(u))
    township = votes.most_common(1)[0][0] if votes else None
    for rx in _ISSUER_IN_TEXT:
        m = rx.search(joined)
        if m and not _NOT_A_NAME.search(m.group("u")):
            found = m.group("u")
            # "请与章贡区人民政府水东镇办公室联系": prefer the township the text keeps naming
            if township and not re.search(r"(?:镇|乡|街道)$", found):
                return township
            return found
    if township:
        return township
    text = "\n".join(t.key for t in tokens)
    subjects = Counter(m.group("u") for m in _SUBJECT.finditer(text) if not _NOT_A_NAME.search(m.group("u")))
    return subjects.most_common(1)[0][0] if subjects else None


def unit_level(unit: str | None) -> str | None:
    if not unit:
        return None
    if unit.endswith(("街道", "办事处")):
        return "街道"
    if unit.endswith("镇"):
        return "镇"
    if unit.endswith(("乡", "苏木")):
        return "乡"
    return "其他"


_FUNCTION_CHARS = set("请可与由在向对和及经据按照将为从于是")


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
            votes[_strip_function_chars(_ANNOUNCE.sub("", segs[-1]) or segs[-1])] += 1
    return votes.most_common(1)[0][0] if votes else None


def recognise(tokens: list[Token], sections: dict[str, str]) -> Meta:
    meta = Meta()
    text = "\n".join(t.key for t in tokens)
    # ---- format document cited
    m = _FORMAT_DOC.search(text)
    if m:
        kind = m.group("kind") or ""
        meta.cited_format_doc = f"国办{kind}〔{m.group('y')}〕{m.group('n')}号"
    cited_title = None if meta.cited_format_doc else template_by_cited_title(text[:20000])
    meta.template, meta.format_markers, meta.mixed = detect_template(tokens, meta.cited_format_doc, cited_title)
    # ---- title: issuer and year
    issuer = _title_issuer(tokens, meta)
    if issuer is None:
        issuer = _issuer_from_text(tokens, meta)
    if issuer:
        issuer = _clean_issuer(issuer, text)
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


# An explainer of a report ("图解：…年度报告", "《…年度报告》政策解读", "一图读懂…") is not the report.
_EXPLAINER = re.compile(r"图解|解读|一图读懂|图说|读懂")
_REPORT_TITLE = re.compile(r"政府信息公开(?:工作)?(?:年度)?报告")


def explainer_title(tokens: list[Token]) -> str | None:
    """The title line when it names the report and calls itself an explainer of it."""
    for tok in tokens[:12]:
        if len(tok.key) <= 80 and _REPORT_TITLE.search(tok.key) and _EXPLAINER.search(tok.key):
            return tok.text
    return None
