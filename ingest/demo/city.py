"""The fictional city 示例市 and the number model of its township reports.

All names are invented: the city is 示例市 ("example city"), its four county-level regions and thirty townships
do not exist.  The number model is deterministic for a seed and behaves like real township data: most units
receive a handful of applications a year or none, a few busy ones receive dozens; values persist from year to
year; 上年结转 equals last year's 结转下年度; 表三 and 表四 identities hold; stocks roll forward
(现行有效件数, 上一年项目数量, 对外公开总数量).

Model-level defects (a broken 结转 chain, a 现行有效 stock jump, a 上一年项目数量 or 对外公开总数量 jump) are
events passed in by the generator, so that every later year stays consistent with the changed value.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ingest.demo import labels as L

CITY = "示例市"
YEARS = tuple(range(2019, 2026))


@dataclass(frozen=True)
class Unit:
    name: str        # short form: no 人民政府 / 办事处
    level: str       # 镇 | 乡 | 街道
    region: str      # county-level region (区 / 县)
    busy: float      # mean yearly applications

    @property
    def issuer(self) -> str:
        """Full issuer name as printed in titles: 栖云镇人民政府, 明湖街道办事处."""
        return self.name + ("办事处" if self.level == "街道" else "人民政府")

    @property
    def self_ref(self) -> str:
        return {"镇": "我镇", "乡": "我乡", "街道": "本街道"}[self.level]


def _u(name: str, region: str, busy: float) -> Unit:
    level = "街道" if name.endswith("街道") else name[-1]
    return Unit(name, level, region, busy)


REGIONS = ("云岭区", "澄湖区", "雾屿县", "星渚县")

UNITS: tuple[Unit, ...] = (
    _u("明湖街道", "云岭区", 14.0),
    _u("桂苑街道", "云岭区", 6.0),
    _u("栖云镇", "云岭区", 1.2),
    _u("砚溪镇", "云岭区", 0.8),
    _u("岚桥街道", "云岭区", 22.0),
    _u("鹭汀街道", "云岭区", 3.0),
    _u("澄湖街道", "澄湖区", 9.0),
    _u("渔歌镇", "澄湖区", 0.6),
    _u("荷塘湾街道", "澄湖区", 2.5),
    _u("望舒街道", "澄湖区", 4.0),
    _u("芦汀镇", "澄湖区", 0.5),
    _u("月塘镇", "澄湖区", 1.0),
    _u("杉坪乡", "澄湖区", 0.2),
    _u("雾屿镇", "雾屿县", 2.0),
    _u("鹤鸣镇", "雾屿县", 0.7),
    _u("苍岭乡", "雾屿县", 0.3),
    _u("石砚乡", "雾屿县", 0.2),
    _u("竹溪坳乡", "雾屿县", 0.1),
    _u("云栖镇", "雾屿县", 0.9),
    _u("茶垄乡", "雾屿县", 0.3),
    _u("翠屏坞镇", "雾屿县", 0.6),
    _u("星渚镇", "星渚县", 3.5),
    _u("银杏坪乡", "星渚县", 0.2),
    _u("鸥汀镇", "星渚县", 0.8),
    _u("麦浪乡", "星渚县", 0.1),
    _u("柳荫镇", "星渚县", 1.1),
    _u("星河街道", "星渚县", 5.0),
    _u("漫坡乡", "星渚县", 0.2),
    _u("松萝镇", "星渚县", 0.4),
    _u("青禾乡", "星渚县", 0.3),
)

# Share of applications by applicant column, and of outcomes by leaf row (F2021 leaves; F2019 `other` is
# the sum of the three 其他处理 rows).
_APPLICANTS = {"natural": 0.82, "commercial": 0.09, "research": 0.01, "public_interest": 0.02,
               "legal_service": 0.04, "other_org": 0.02}
_OUTCOMES = {
    "granted": 0.50, "partial": 0.10, "deny_state_secret": 0.003, "deny_law_forbidden": 0.01,
    "deny_three_safety": 0.004, "deny_third_party": 0.02, "deny_internal": 0.02, "deny_process": 0.02,
    "deny_enforcement_file": 0.005, "deny_admin_query": 0.02, "unable_not_held": 0.16,
    "unable_need_creation": 0.03, "unable_unclear": 0.02, "noproc_petition": 0.02, "noproc_repeat": 0.02,
    "noproc_publication": 0.003, "noproc_mass_repeat": 0.002, "noproc_confirm": 0.005,
    "other_no_correction": 0.02, "other_fee_unpaid": 0.002, "other_other": 0.01,
}
_OTHER_ROWS = ("other_no_correction", "other_fee_unpaid", "other_other")
_ITEM_ROWS = ("license", "other_service", "penalty", "coercion", "fee")


@dataclass(frozen=True)
class Event:
    """A model-level defect: ``rule`` X-1 (carried_over off by ``amount`` in column ``col``), X-2 (现行有效件数 of
    ``row`` jumps by ``amount``), X-3 (上一年项目数量 of ``row`` jumps), X-4 (对外公开总数量 of ``row`` jumps)."""

    rule: str
    year: int
    row: str = ""
    col: str = ""
    amount: int = 1


@dataclass
class YearFigures:
    """One unit-year of true values: every key of both templates, plus presentation facts of the model."""

    year: int
    values: dict[str, int | float]
    info_items: int              # 主动公开政府信息条数 (narrative only)
    procurement_style: str       # 元 | 万元 | bare


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def _split(rng: random.Random, n: int, shares: dict[str, float]) -> dict[str, int]:
    keys = list(shares)
    weights = [shares[k] for k in keys]
    out = dict.fromkeys(keys, 0)
    for k in rng.choices(keys, weights=weights, k=n) if n else []:
        out[k] += 1
    return out


@dataclass
class _Traits:
    """Per-unit habits that persist across years."""

    norm_rate: float
    license_items: int
    service_items: int
    penalty_items: int
    coercion_items: int
    fee_items: int
    decision_scale: float
    procurement_rate: float
    procurement_style: str
    fee_rate: float
    norm_total: int
    norm_valid: int


def _traits(rng: random.Random, unit: Unit) -> _Traits:
    street = unit.level == "街道"
    return _Traits(
        norm_rate=rng.choice([0.0, 0.0, 0.3, 0.6, 1.0, 2.0]),
        license_items=rng.choice([0, 0, 0, 3, 8, 15, 26]),
        service_items=rng.choice([0, 0, 5, 12, 30]),
        penalty_items=rng.choice([0, 0, 4, 10, 40 if street else 20]),
        coercion_items=rng.choice([0, 0, 0, 1, 3]),
        fee_items=rng.choice([0, 0, 0, 0, 1, 2]),
        decision_scale=rng.choice([0.0, 0.5, 1.0, 3.0]) * (2.0 if street else 1.0),
        procurement_rate=rng.choice([0.0, 0.0, 0.3, 0.8, 2.0]),
        procurement_style=rng.choice(["元", "元", "万元", "bare", "bare"]),
        fee_rate=rng.choice([0.0, 0.0, 0.0, 0.3, 1.0]),
        norm_total=rng.randint(0, 25),
        norm_valid=rng.randint(0, 12),
    )


def simulate(unit: Unit, seed: int, events: tuple[Event, ...] = (), years: tuple[int, ...] = YEARS) -> dict[int, YearFigures]:
    """The true figures of one unit for every year, with model-level ``events`` applied."""
    rng = random.Random(f"{seed}:model:{unit.name}")
    tr = _traits(rng, unit)
    by_year = {e.year: [] for e in events}
    for e in events:
        by_year[e.year].append(e)
    lam = unit.busy
    carry: dict[str, int] = {c: 0 for c in _APPLICANTS}
    if rng.random() < 0.2 + min(0.6, unit.busy / 20):
        carry["natural"] = 1 + poisson(rng, unit.busy / 15)
    items = {
        "license": tr.license_items, "other_service": tr.service_items, "penalty": tr.penalty_items,
        "coercion": tr.coercion_items, "fee": tr.fee_items,
    }
    norm_total = tr.norm_total
    norm_valid = tr.norm_valid
    out: dict[int, YearFigures] = {}
    for year in years:
        ev = by_year.get(year, [])
        v: dict[str, int | float] = {}
        lam = max(0.05, lam * math.exp(rng.gauss(0.0, 0.25)) * 0.8 + unit.busy * 0.2)
        new = _split(rng, poisson(rng, lam), _APPLICANTS)
        carried = dict(carry)
        for e in ev:
            if e.rule == "X-1":
                carried[e.col] += e.amount
        forward: dict[str, int] = {}
        for c in _APPLICANTS:
            avail = new[c] + carried[c]
            forward[c] = binomial(rng, avail, 0.06)
        intake = sum(new.values()) + sum(carried.values())
        while intake >= 10 and sum(forward.values()) * 2 > intake:   # keep S3-7 quiet
            c = max(forward, key=lambda k: forward[k])
            forward[c] -= 1
        outcomes = {c: _split(rng, new[c] + carried[c] - forward[c], _OUTCOMES) for c in _APPLICANTS}
        _put_row(v, "new_received", new)
        _put_row(v, "carried_over", carried)
        _put_row(v, "carry_forward", forward)
        for row in _OUTCOMES:
            _put_row(v, row, {c: outcomes[c][row] for c in _APPLICANTS})
        _put_row(v, "other", {c: sum(outcomes[c][r] for r in _OTHER_ROWS) for c in _APPLICANTS})
        _put_row(v, "result_total", {c: sum(outcomes[c].values()) for c in _APPLICANTS})
        carry = forward
        _section4(rng, v, intake)
        # section 二
        made = poisson(rng, tr.norm_rate)
        published = made - (binomial(rng, made, 0.15) if made else 0)
        prev_norm_total = norm_total
        norm_total = prev_norm_total + published
        for e in ev:
            if e.rule == "X-4" and e.row == "normative":
                norm_total += e.amount
        v.update({"s2.regulation.made": 0, "s2.regulation.published": 0, "s2.regulation.total": 0,
                  "s2.normative.made": made, "s2.normative.published": published, "s2.normative.total": norm_total})
        repealed = binomial(rng, norm_valid, 0.08) if year >= 2021 else 0
        new_valid = norm_valid + made - repealed
        for e in ev:
            if e.rule == "X-2" and e.row == "normative":
                new_valid = max(made - repealed, new_valid + e.amount)
        v.update({"s2.regulation.issued": 0, "s2.regulation.repealed": 0, "s2.regulation.valid": 0,
                  "s2.normative.issued": made, "s2.normative.repealed": repealed, "s2.normative.valid": new_valid})
        if year >= 2021:
            norm_valid = new_valid
        for row in _ITEM_ROWS:
            prev = items[row]
            for e in ev:
                if e.rule == "X-3" and e.row == row:
                    prev += e.amount
            delta = 0
            if rng.random() < 0.25 and prev + 3 > 0:
                delta = rng.randint(-min(prev, 3), 3)
            items[row] = prev + delta
            v[f"s2.{row}.prev_items"] = prev
            v[f"s2.{row}.delta"] = delta
        for row, base in (("license", 12), ("other_service", 20), ("penalty", 8), ("coercion", 1)):
            scale = tr.decision_scale * (1 if items[row] else 0.2)
            v[f"s2.{row}.decisions"] = poisson(rng, base * scale)
        projects = poisson(rng, tr.procurement_rate)
        amount = 0.0
        for _ in range(projects):
            amount += rng.randint(8_000, 400_000) + (rng.randint(0, 9) / 10 if tr.procurement_style == "bare" else 0)
        v["s2.procurement.projects"] = projects
        v["s2.procurement.amount"] = round(amount, 1)
        fee = round(rng.uniform(0.05, 3.0), 2) if rng.random() < tr.fee_rate else 0.0
        v["s2.fee.amount"] = fee
        out[year] = YearFigures(year, v, info_items=rng.randint(15, 60) + int(unit.busy * 12), procurement_style=tr.procurement_style)
    return out


def _put_row(v: dict[str, int | float], row: str, cols: dict[str, int]) -> None:
    for c, n in cols.items():
        v[f"s3.{row}.{c}"] = n
    v[f"s3.{row}.total"] = sum(cols.values())


def _section4(rng: random.Random, v: dict[str, int | float], intake: int) -> None:
    """表四: reviews and suits only where there were applications (keeps S4-5/S4-6 quiet); totals = sums."""
    review = poisson(rng, 0.05 * intake) if intake else 0
    direct = poisson(rng, 0.025 * intake) if intake else 0
    after = binomial(rng, review, 0.3)
    for group, n in (("review", review), ("suit_direct", direct), ("suit_after_review", after)):
        parts = _split(rng, n, {"upheld": 0.5, "corrected": 0.15, "other": 0.15, "pending": 0.2})
        for col in L.S4_COLS[:-1]:
            v[f"s4.{group}.{col}"] = parts[col]
        v[f"s4.{group}.total"] = n
