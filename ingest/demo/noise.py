"""Formatting noise of real reports (spec §12), chosen at random per report and recorded.

Two kinds:
  * normalisation noise the parser must absorb silently: bracket width, ``1、``/``1.``/``1．`` enumerators,
    line breaks inside labels, accepted heading variants, blank markers in zero cells, units in money cells;
  * label variants the parser must accept but report (D09 typo, D10 old label, D13 annotated label): these are
    recorded as ``{"rule": ..., "keys": [...], "raw": ...}`` so tests can expect the info finding.

Blank markers (``/``, ``—``, ``-``, ``无``, empty) replace zeros only in non-total cells, so identities still
hold when the checker reads them as 0, and never leave a printed total blank (that would be D11).  In the pipe
layout an empty cell can only stand for a whole row (empty tokens are dropped there, spec §12.5).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ingest.demo import labels as L

LINE_BREAKS: dict[str, str] = {
    "s3col:commercial": "商业\n企业",
    "s3col:research": "科研\n机构",
    "s3col:public_interest": "社会公益\n组织",
    "s3col:legal_service": "法律服务\n机构",
    "s3grp:deny": "（三）不予\n公开",
    "s3grp:unable": "（四）无法\n提供",
    "s3grp:noproc": "（五）\n不予\n处理",
    "s4col:upheld": "结果\n维持",
    "s4col:corrected": "结果\n纠正",
    "s4col:other": "其他\n结果",
    "s4col:pending": "尚未\n审结",
}
LINE_BREAKS_2019: dict[str, str] = {
    "s2col:made": "本年新\n制作数量",
    "s2col:published": "本年新\n公开数量",
    "s2col:total": "对外公开\n总数量",
    "s2col:prev_items": "上一年\n项目数量",
}

# (template, label id, variant, rule, key prefixes the finding is about)
VARIANTS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("2019", "cap:penalty", "第二十六条第（六）项", "D09", ("s2.penalty.", "s2.coercion.")),
    ("both", "s3row:noproc_petition", "1.信访举报类申请", "D09", ("s3.noproc_petition.",)),
    ("both", "s3row:deny_internal", "5.属于第三类内部事务信息", "D09", ("s3.deny_internal.",)),
    ("both", "s3row:partial", "（二）部分公开（区分处理的），只计这一情形，不计其他情形", "D09", ("s3.partial.",)),
    ("both", "s3grp:deny", "（三）不予以公开", "D09", ("s3.deny_",)),
    ("both", "s3row:carried_over", "二、上年转结政府信息公开申请数量", "D09", ("s3.carried_over.",)),
    ("2021", "s2row:normative", "规范性文件", "D10", ("s2.normative.",)),
    ("2019", "s2row:normative", "规范性文件(指各行政机关印发的有正式文号的文件)", "D13", ("s2.normative.",)),
    ("2019", "s2row:regulation", "规章(设区的市、自治州人民政府应提供相关数据)", "D13", ("s2.regulation.",)),
)

HEADING_VARIANTS: dict[str, tuple[str, ...]] = {
    "一": ("一、{year}年政务公开总体情况", "一、 总体情况"),
    "二": ("二、主动公开政府信息的情况",),
    "四": (
        "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况",
        "四、政府信息公开行政复议和行政诉讼情况",
    ),
    "五": ("五、政府信息公开工作存在的主要问题及改进情况", "五、存在的主要问题和改进措施"),
    "六": ("六、其他需要报告事项",),
}
HEADING_TYPO = ("二", "二、主动公开政府政府情况")

MARKERS = ("/", "—", "-", "无", "")


@dataclass
class Noise:
    style: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    headings: dict[str, str] = field(default_factory=dict)
    marker: str = "0"                 # what a zero non-total cell prints as in ``marker_scope``
    marker_scope: str = ""            # "" | regulation | s3 | s4 | s2
    records: list[dict[str, Any]] = field(default_factory=list)


def keys_with(template: str, prefixes: tuple[str, ...]) -> list[str]:
    return [k for k in L.template_keys(template) if k.startswith(prefixes)]


def choose(rng: random.Random, fmt: str, template: str, year: int) -> Noise:
    """Noise for one report.  Every random draw happens whatever the format, so that two versions of a report
    in different formats (the duplicate) share their habits: markers, label variants, headings."""
    n = Noise()
    st = n.style
    d = [rng.random() for _ in range(10)]
    st["halfwidth"] = d[0] < (0.5 if fmt == "pipe" else 0.15)
    st["enum"] = rng.choices([".", "、", "．"], weights=[6, 3, 1])[0]
    st["s2_split"] = d[1] < 0.3
    st["fourth_span"] = fmt in ("html", "docx", "pdf") and d[2] < 0.3
    st["l1_pad"] = 4 if fmt == "text" and d[3] < 0.3 else 0
    st["date_top"] = fmt in ("text", "docx", "pdf") and d[4] < 0.3
    st["nbsp"] = d[5] < 0.5
    st["heading_tag"] = rng.choice(["strong", "strong", "h3"])
    st["pipe_per_line"] = fmt == "pipe" and d[6] < 0.15
    st["pipe_break"] = rng.choice([" ", ""])
    st["encoding"] = "gbk" if fmt in ("text", "pipe", "html") and d[7] < 0.25 else "utf-8"
    st["time"] = f"{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}"
    st["views"] = rng.randint(30, 3000)
    pool = dict(LINE_BREAKS)
    if template == "2019":
        pool.update(LINE_BREAKS_2019)
    breaks = rng.sample(sorted(pool), k=rng.randint(1, 4))
    if d[8] < 0.4:
        n.labels.update({lid: pool[lid] for lid in breaks})
    eligible = [v for v in VARIANTS if v[0] in (template, "both")]
    _tpl, lid, text, rule, prefixes = rng.choice(eligible)
    if d[9] < 0.12:
        n.labels[lid] = text
        n.records.append({"rule": rule, "keys": keys_with(template, prefixes), "raw": text, "severity": "info"})
    for sec, variants in HEADING_VARIANTS.items():
        pick = rng.choice(variants)
        if rng.random() < 0.08:
            n.headings[sec] = pick.format(year=year)
    if rng.random() < 0.02:
        n.headings[HEADING_TYPO[0]] = HEADING_TYPO[1]
        n.records.append({"rule": "D09", "keys": [], "raw": HEADING_TYPO[1], "severity": "info"})
    r = rng.random()
    scope = rng.choice(["regulation", "regulation", "s3", "s4", "s2"])
    marker = rng.choice(MARKERS)
    if r < 0.15:
        n.marker_scope = scope
        # pipe text drops empty cells: an empty marker is only safe where it blanks a whole row
        n.marker = "/" if (marker == "" and fmt == "pipe" and scope != "regulation") else marker
    return n
