"""Narrative text of a demo report: title, preamble and sections 一 to 六, from varied sentence templates.

The key figures of 表三/表四 (and sometimes 二) appear in section 一（二） in the wording the narrative checks look
for (spec §8.5): 收到政府信息公开申请N件, 上年结转N件, 予以公开N件 …, 结转下年度继续办理N件, 行政复议N件 /
未发生…行政复议、行政诉讼.  They are taken from the printed table, so a clean report agrees with itself; a
narrative defect (N-1 …) is an explicit ``claims`` override.

Each paragraph slot has several variants; a unit never uses the same variant of a slot two years running, so
clean reports stay far below the 内容雷同 (X-6) similarity threshold.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ingest.demo.city import CITY, Unit

DOC_60 = ("国务院办公厅政府信息与政务公开办公室关于政府信息公开工作年度报告有关事项的通知", "国办公开办函〔2019〕60号")
DOC_30 = (
    "国务院办公厅政府信息与政务公开办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知",
    "国办公开办函〔2021〕30号",
)
SYNTHETIC = "（示例数据，非真实报告）"

INTRO = (
    "{Y}年，{self}在{p}委、{p}政府的坚强领导下，坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，围绕中心工作扎实推进政府信息公开，切实保障人民群众的知情权、参与权和监督权。",
    "{Y}年，{unit}认真落实上级关于政务公开工作的部署要求，把政府信息公开作为密切联系群众、提升基层治理能力的重要抓手，进一步健全工作机制、规范公开流程，政府信息公开工作取得新进展。",
    "{Y}年，{self}以提升政务公开质量为目标，坚持“以公开为常态、不公开为例外”，持续深化决策、执行、管理、服务、结果公开，推动政府信息公开工作规范化、标准化。",
    "{Y}年以来，{self}按照{region}政务公开工作要点的安排，统筹推进主动公开、依申请公开和政府信息管理等工作，全年政府信息公开工作总体平稳有序。",
    "{Y}年，{self}高度重视政府信息公开工作，调整充实政务公开工作领导小组，明确分管领导和专门工作人员，形成主要领导亲自抓、分管领导具体抓、经办人员抓落实的工作格局。",
)
ACTIVE = (
    "{Y}年，{self}依托{region}人民政府门户网站“{unit}”专栏主动公开政府信息{n}条，其中机构信息{a}条、政策文件{b}条、财政预决算信息{c}条、工作动态{d}条。",
    "{Y}年共主动公开各类政府信息{n}条，内容涵盖民生保障、安全生产、环境整治等重点领域，并及时更新领导分工、内设机构等基础信息，做到应公开尽公开。",
    "{self}严格落实主动公开基本目录要求，{Y}年在政府信息公开专栏发布信息{n}条，同时通过政务新媒体、村（居）务公开栏等渠道同步发布惠民政策、项目建设等信息。",
    "{Y}年，{self}围绕群众关切主动公开政府信息{n}条，重点做好财政资金、社会救助、征地补偿等领域信息公开，对重要政策开展解读{k}次。",
    "{Y}年，{self}累计发布政府信息{n}条，其中政策解读{k}条，基础信息、重点领域信息均按要求及时更新，公开内容的准确性和时效性进一步提高。",
)
MANAGE = (
    "严格执行政府信息公开保密审查制度，坚持“先审查、后公开”和“一事一审”，明确信息发布审核流程，{Y}年未发生泄密和不当公开情况。",
    "建立健全政府信息公开工作台账，对拟公开信息逐条登记、分级审核，做到公开内容准确、格式规范、发布及时。",
    "{Y}年，{self}对已公开的政府信息开展全面梳理，及时调整过时、失效信息，规范信息公开属性认定，提升政府信息管理水平。",
    "加强政府信息公开流程管理，规范信息公开申请的登记、审核、办理、答复、归档等环节，确保依法依规办理。",
    "按照“谁公开、谁审查、谁负责”的原则，落实信息发布三级审核制度，加强对公开内容的日常巡查，发现问题及时整改。",
)
PLATFORM = (
    "以{region}人民政府门户网站“{unit}”专栏为政府信息公开第一平台，按照统一目录规范设置栏目，做好信息发布和日常维护。",
    "在{unit}便民服务中心设置政府信息公开查阅点，配备查阅设备和纸质资料，方便群众就近查阅政府信息。",
    "持续加强政务新媒体管理，规范发布流程，将政务新媒体作为门户网站的有效补充，及时推送群众关心的政策信息。",
    "{Y}年，{self}进一步优化政府信息公开专栏设置，完善法定主动公开内容、政策解读等栏目，提升专栏的规范性和实用性。",
    "充分利用村（社区）公开栏、宣传橱窗等传统渠道，推动政府信息公开向基层延伸，打通政务公开“最后一公里”。",
)
SUPERVISE = (
    "将政府信息公开工作纳入年度绩效考核，定期开展自查自纠，主动接受社会评议和群众监督，{Y}年未发生政府信息公开工作责任追究情况。",
    "建立政府信息公开工作监督检查机制，由党政办公室定期通报各办（站、所）信息报送情况，社会评议结果总体良好，全年无责任追究情况。",
    "{self}主动接受人大代表、政协委员和社会公众监督，畅通意见建议渠道，对群众反映的问题及时回应，全年未发生因政府信息公开工作引发的责任追究。",
    "加强政府信息公开业务培训，组织工作人员学习《条例》及相关规定，强化考核督促，确保各项制度落到实处，年内未出现责任追究情形。",
    "坚持工作考核、社会评议和责任追究相结合，将信息公开工作完成情况作为评先评优的重要依据，{Y}年度社会评议满意度较高，未发生责任追究事项。",
)
PROBLEMS = (
    "一是政府信息公开工作人员多为兼职，业务能力有待进一步提高；",
    "一是主动公开信息的数量和质量与群众期盼还有差距，部分信息更新不够及时；",
    "一是政策解读形式较为单一，图解、音视频等解读方式运用不够；",
    "一是基层政务公开标准化规范化建设仍需深化，部分村（社区）公开内容不够规范；",
    "二是信息公开工作制度落实不够到位，信息发布审核流程有待进一步细化；",
    "二是政务新媒体内容更新频率不高，与群众的互动交流不够；",
    "二是重点领域信息公开的深度和广度不够，公开内容不够全面；",
    "二是政府信息公开专栏部分栏目内容较少，栏目设置有待优化。",
)
MEASURES = (
    "下一步，{self}将加强业务培训，提升工作人员的政策水平和业务能力。",
    "下一步，{self}将完善信息发布审核机制，确保信息公开及时、准确、规范。",
    "{Y1}年，{self}将丰富政策解读形式，更多运用图表图解、短视频等群众喜闻乐见的方式开展解读。",
    "{Y1}年，{self}将进一步规范政府信息公开专栏，及时清理过时信息，提升专栏的实用性。",
    "今后，{self}将加大重点领域信息公开力度，围绕群众关心关注的事项做好公开和解读。",
    "今后，{self}将加强政务新媒体管理，提高内容更新频率，增强与群众的互动。",
    "下一步，{self}将强化考核督促，把政务公开工作纳入日常督查事项，推动各项工作落实落细。",
    "{Y1}年，{self}将深化基层政务公开标准化规范化建设，推动公开事项向村（社区）延伸。",
)
FOLLOWUP = (
    "针对上年度报告中提出的问题，{self}已通过组织专题培训、完善审核流程等措施逐项整改。",
    "对{Y0}年度报告所列问题，{self}已逐项落实改进措施，整改工作已基本完成。",
    "上一年度报告指出的问题已全部纳入整改清单，目前各项改进措施均已落实到位。",
    "针对{Y0}年度存在的问题，{self}年内完善了信息发布审核机制并加强了业务培训，改进情况良好。",
)
FEE_2021 = (
    "{Y}年，{self}未收取政府信息公开信息处理费。",
    "本年度{self}未发出信息处理费收费通知，未收取信息处理费。",
    "{Y}年度{self}无收取信息处理费情况。",
    "依据《政府信息公开信息处理费管理办法》，{Y}年{self}未向申请人收取信息处理费。",
)
EXTRA_2021 = (
    "{self}认真落实{Y}年度政务公开工作要点，各项重点任务均已按时完成。",
    "{Y}年，{self}无其他需要报告的事项。",
    "{Y}年，{self}办理人大代表建议、政协委员提案的结果均已按要求公开。",
)
SIX_2019 = ("无。", "{self}无其他需要报告的事项。", "本年度无其他需要报告的事项。", "无")


@dataclass
class Claims:
    """The figures the narrative states; each may be overridden by a narrative defect."""

    new_received: int = 0
    carried_over: int = 0
    carry_forward: int = 0
    granted: int = 0
    partial: int = 0
    deny: int = 0
    unable: int = 0
    noproc: int = 0
    other: int = 0
    review: int = 0
    suits: int = 0
    normative_issued: int | None = None      # stated only when not None
    deny_reviews: bool = False               # say 未发生…行政复议 whatever the table says (N-5)


@dataclass
class Narrative:
    title: str
    preamble: list[str]
    sections: dict[str, str]
    sign_off: list[str]
    stated: dict[str, int] = field(default_factory=dict)    # what the text claims, for truth.jsonl
    choices: dict[str, int] = field(default_factory=dict)   # variant index per slot, to vary next year


def _pick(rng: random.Random, slot: str, n: int, prev: dict[str, int], out: dict[str, int]) -> int:
    i = (prev[slot] + 1 + rng.randrange(n - 1)) % n if slot in prev and n > 1 else rng.randrange(n)
    out[slot] = i
    return i


def _ctx(unit: Unit, year: int) -> dict[str, object]:
    return {"Y": year, "Y0": year - 1, "Y1": year + 1, "self": unit.self_ref, "unit": unit.name,
            "region": unit.region, "p": unit.region[-1]}


def applications_paragraph(unit: Unit, year: int, c: Claims, rng: random.Random) -> tuple[str, dict[str, int]]:
    """（二）依申请公开: the figures of 表三 and 表四 in the wording of the N-rules."""
    s = unit.self_ref
    stated: dict[str, int] = {}
    parts: list[str] = []
    if c.new_received:
        lead = rng.choice([f"{year}年，{s}共收到政府信息公开申请{c.new_received}件",
                           f"{year}年，{s}收到政府信息公开申请{c.new_received}件"])
        parts.append(lead + "。")
    else:
        parts.append(f"{year}年，{s}未收到公民、法人或其他组织提出的政府信息公开申请。")
    stated["new_received"] = c.new_received
    if c.carried_over:
        parts.append(f"另有上年结转{c.carried_over}件，一并办理。")
        stated["carried_over"] = c.carried_over
    done = c.granted + c.partial + c.deny + c.unable + c.noproc + c.other
    if done or c.granted or c.partial:
        items = [f"予以公开{c.granted}件"]
        stated["granted"] = c.granted
        for name, key, n in (("部分公开", "partial", c.partial), ("不予公开", "deny", c.deny),
                             ("无法提供", "unable", c.unable), ("不予处理", "noproc", c.noproc)):
            if n:
                items.append(f"{name}{n}件")
                stated[key] = n
        if c.other:
            items.append(f"其他处理{c.other}件")
        parts.append("办理结果中，" + "、".join(items) + "。")
    if c.carry_forward:
        parts.append(f"截至年底，结转下年度继续办理{c.carry_forward}件。")
        stated["carry_forward"] = c.carry_forward
    if c.deny_reviews or (c.review == 0 and c.suits == 0):
        # at most 10 characters between 未发生 and 行政复议 (the N-5 pattern of spec §8.5)
        parts.append(rng.choice(["全年未发生政府信息公开行政复议、行政诉讼案件。",
                                 "全年未发生因政府信息公开引起的行政复议、行政诉讼案件。",
                                 "全年未发生信息公开类行政复议、行政诉讼案件。"]))
        stated["review"], stated["suits"] = 0, 0
    else:
        parts.append(f"全年因政府信息公开工作被申请行政复议{c.review}件，被提起行政诉讼{c.suits}件。")
        stated["review"], stated["suits"] = c.review, c.suits
    return "".join(parts), stated


def write(
    unit: Unit,
    year: int,
    template: str,
    claims: Claims,
    info_items: int,
    rng: random.Random,
    prev_choices: dict[str, int],
    *,
    period_year: int | None = None,
    cited: tuple[str, str] | None = None,
    fee_statement: bool = True,
    followup: bool = True,
    published_text: str | None = None,
    title_style: int | None = None,
) -> Narrative:
    ctx = _ctx(unit, year)
    ch: dict[str, int] = {}
    n = info_items
    a, b = max(1, n // 8), max(1, n // 5)
    c = max(0, n // 6)
    fill = {**ctx, "n": n, "a": a, "b": b, "c": c, "d": n - a - b - c, "k": max(1, n // 10)}

    # title and preamble
    issuer_full = f"{CITY}{unit.region}{unit.issuer}"
    titles = (
        f"{issuer_full}{year}年政府信息公开工作年度报告",
        f"{unit.name}{year}年政府信息公开工作年度报告",
        f"{unit.region}{unit.issuer}{year}年度政府信息公开工作年度报告",
        f"{CITY}{unit.region}{unit.name}{year}年度政府信息公开工作年度报告",
    )
    ti = title_style if title_style is not None else rng.choices(range(4), weights=[4, 2, 2, 1])[0]
    doc = cited or (DOC_30 if year >= 2021 else DOC_60)
    py = period_year or year
    period = f"本报告中所列数据的统计期限自{py}年1月1日起至{py}年12月31日止。"
    basis = f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《{doc[0]}》（{doc[1]}）要求，由{issuer_full}编制。"
    contents = "全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
    where = f"本报告电子版可在{unit.region}人民政府门户网站“政府信息公开年报”栏目查阅或下载。如对本报告有疑问，请与{unit.issuer}党政综合办公室联系（电话：0000-{rng.randint(1000000, 9999999)}）。"
    order = _pick(rng, "preamble", 3, prev_choices, ch)
    pre = [[basis + contents + period, where], [basis + period + where], [basis + contents, period + where]][order]
    preamble = [SYNTHETIC, *pre]

    # section 一
    one = [
        INTRO[_pick(rng, "intro", len(INTRO), prev_choices, ch)].format(**fill),
        "（一）主动公开政府信息情况",
        ACTIVE[_pick(rng, "active", len(ACTIVE), prev_choices, ch)].format(**fill),
    ]
    if claims.normative_issued is not None:
        word = "行政规范性文件" if template == "2021" else "规范性文件"
        one[-1] += f"全年制发{word}{claims.normative_issued}件。"
    apps, stated = applications_paragraph(unit, year, claims, rng)
    if claims.normative_issued is not None:
        stated["normative_issued"] = claims.normative_issued
    one += ["（二）依申请公开情况", apps,
            "（三）政府信息管理情况", MANAGE[_pick(rng, "manage", len(MANAGE), prev_choices, ch)].format(**fill),
            "（四）政府信息公开平台建设情况", PLATFORM[_pick(rng, "platform", len(PLATFORM), prev_choices, ch)].format(**fill),
            "（五）监督保障情况", SUPERVISE[_pick(rng, "supervise", len(SUPERVISE), prev_choices, ch)].format(**fill)]

    # section 五
    p1 = _pick(rng, "problem1", 4, prev_choices, ch)
    p2 = _pick(rng, "problem2", 4, prev_choices, ch)
    m1 = _pick(rng, "measure1", 4, prev_choices, ch)
    m2 = _pick(rng, "measure2", 4, prev_choices, ch)
    five = [
        "（一）存在的主要问题",
        f"{year}年，{unit.self_ref}政府信息公开工作取得了一定成效，但仍存在一些不足：" + PROBLEMS[p1] + PROBLEMS[4 + p2].rstrip("；。") + "。",
        "（二）改进措施",
        MEASURES[m1].format(**fill) + MEASURES[4 + m2].format(**fill),
    ]
    if template == "2021" and followup:
        five.append(FOLLOWUP[_pick(rng, "followup", len(FOLLOWUP), prev_choices, ch)].format(**fill))

    # section 六
    if template == "2021":
        six = []
        if fee_statement:
            six.append(FEE_2021[_pick(rng, "fee", len(FEE_2021), prev_choices, ch)].format(**fill))
        six.append(EXTRA_2021[_pick(rng, "extra", len(EXTRA_2021), prev_choices, ch)].format(**fill))
    else:
        six = [SIX_2019[_pick(rng, "six", len(SIX_2019), prev_choices, ch)].format(**fill)]

    sign_off = [issuer_full if ti in (0, 3) else unit.issuer]
    if published_text:
        sign_off.append(published_text)
    return Narrative(
        title=titles[ti],
        preamble=preamble,
        sections={"一": "\n".join(one), "二": "", "三": "", "四": "", "五": "\n".join(five), "六": "\n".join(six)},
        sign_off=sign_off,
        stated=stated,
        choices=ch,
    )
