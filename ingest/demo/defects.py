"""Injected defects, as data: which rule each one breaks, how severe the finding is, when it can be placed, and
the small mutation that produces it.

Every mutation breaks exactly the rule it names and keeps every other identity intact:
  S3-1  本年新收 of one column (and its 总计) raised: 一+二 ≠ 三+四 in that column and the 总计 column only.
  S3-2  one outcome leaf (and its 总计) raised: （七）总计 ≠ Σ leaves in that column and the 总计 column.
  S3-3  总计 of one leaf +1 and of another leaf −1: two rows whose 总计 ≠ Σ columns; column sums unchanged.
  S4-1..3  one component of a 表四 group +1: group 总计 ≠ Σ components.
  S2A-3 (2020 only, so no X-3 follows)  本年增/减 below −上一年项目数量.
  S2B-2 (2025 only)  现行有效件数 < 本年制发件数 − 本年废止件数; this also breaks X-2 against 2024, recorded too.
  S2-T1 (2020 / 2025 only, so no X-4 / X-2 follows)  规章 row nonzero but self-consistent.
  S2B-3  fee printed in 元.  D11 总计 column blank on every outcome row (some nonzero).  D12 every 表三 cell “/”.
Cross-year defects (X-1 … X-4) are number-model events (city.Event) so every later year stays consistent.

A missing report and a duplicate with different numbers are not rule findings; the generator writes them to
``missing.jsonl`` and as a truth line with ``duplicate_of``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ingest.demo import labels as L
from ingest.demo.city import YEARS, Event, Unit, YearFigures
from ingest.demo.narrative import DOC_30, Claims
from ingest.demo.report import cell_reading


@dataclass(frozen=True)
class DefectKind:
    rule: str
    severity: str          # severity of the finding the checker must raise (spec §9.2)
    stage: str             # structure | model | cells | narrative | meta
    count: int             # instances in a corpus
    years: tuple[int, ...]
    template: str | None   # the printed template it needs, or None
    needs_prev: bool       # needs the unit's previous-year report (cross-year rules)
    note: str


_Y = YEARS
CATALOGUE: tuple[DefectKind, ...] = (
    DefectKind("X-5", "error", "structure", 2, (2022, 2023), None, False, "2019 年格式用于 2021 年以后的报告（D01）"),
    DefectKind("D03", "error", "structure", 2, _Y, None, False, "章节有标题但无统计表"),
    DefectKind("D16", "error", "structure", 1, (2019, 2020), "2019", False, "缺少“六、其他需要报告的事项”部分"),
    DefectKind("X-1", "warning", "model", 2, _Y[1:], None, True, "上年结转与上年报告结转下年度不一致"),
    DefectKind("X-2", "warning", "model", 2, (2022, 2023, 2024, 2025), "2021", True, "现行有效件数未按上年滚动"),
    DefectKind("X-3", "warning", "model", 1, (2020,), "2019", True, "上一年项目数量与2019年不衔接"),
    DefectKind("X-4", "info", "model", 1, (2020,), "2019", True, "对外公开总数量与2019年不衔接"),
    DefectKind("S3-1", "error", "cells", 1, _Y, None, False, "表三 第一项加第二项不等于第三项加第四项"),
    DefectKind("S3-2", "error", "cells", 1, _Y, None, False, "表三 （七）总计不等于各办理结果之和"),
    DefectKind("S3-3", "error", "cells", 1, _Y, None, False, "表三 总计列不等于各列之和"),
    DefectKind("S4-1", "error", "cells", 1, _Y, None, False, "表四 行政复议总计不等于各项之和"),
    DefectKind("S4-2", "error", "cells", 1, _Y, None, False, "表四 未经复议直接起诉总计不等于各项之和"),
    DefectKind("S4-3", "error", "cells", 1, _Y, None, False, "表四 复议后起诉总计不等于各项之和"),
    DefectKind("S2A-3", "error", "cells", 1, (2020,), "2019", False, "上一年项目数量加本年增/减小于0"),
    DefectKind("S2B-2", "warning", "cells", 1, (2025,), "2021", False, "现行有效件数小于本年制发减本年废止"),
    DefectKind("S2-T1", "warning", "cells", 2, (2020, 2025), None, False, "乡镇规章栏填报非零"),
    DefectKind("S2B-3", "warning", "cells", 1, (2021, 2022, 2023, 2024, 2025), "2021", False, "收费金额按元填报"),
    DefectKind("D11", "warning", "cells", 1, _Y, None, False, "表三办理结果各行总计列空白"),
    DefectKind("D12", "info", "cells", 1, _Y, None, False, "表三全部单元格填“/”"),
    DefectKind("N-1", "warning", "narrative", 2, _Y, None, False, "正文收到申请件数与表三不一致"),
    DefectKind("N-2", "warning", "narrative", 1, _Y, None, False, "正文上年结转件数与表三不一致"),
    DefectKind("N-3", "info", "narrative", 1, _Y, None, False, "正文予以公开件数与表三不一致"),
    DefectKind("N-4", "warning", "narrative", 1, _Y, None, False, "正文结转下年度件数与表三不一致"),
    DefectKind("N-5", "warning", "narrative", 2, _Y, None, False, "正文行政复议、行政诉讼与表四不一致"),
    DefectKind("N-6", "info", "narrative", 1, _Y, None, False, "正文制发规范性文件件数与表二不一致"),
    DefectKind("N-7", "warning", "meta", 1, _Y, None, False, "统计期限年度与报告年度不一致"),
    DefectKind("N-8", "info", "meta", 1, _Y[2:], "2021", False, "引用的格式文件文号有误"),
    DefectKind("N-10", "info", "narrative", 1, _Y[2:], "2021", False, "第六部分未说明信息处理费"),
    DefectKind("X-6", "info", "narrative", 1, _Y[1:], None, True, "第五部分照抄上年报告"),
    DefectKind("X-7", "info", "narrative", 1, (2022, 2023, 2024, 2025), "2021", True, "第五部分未说明上年问题整改"),
    DefectKind("D07", "warning", "meta", 2, _Y, None, False, "发布日期晚于次年3月31日"),
    DefectKind("N-9", "warning", "meta", 1, _Y, None, False, "发布日期不在次年"),
)
BY_RULE = {k.rule: k for k in CATALOGUE}


def severity(rule: str) -> str:
    return BY_RULE[rule].severity


@dataclass
class Plan:
    """Where each defect goes.  ``targets[(unit, year)]`` is the defect rule placed on that report."""

    missing: list[tuple[str, int]] = field(default_factory=list)
    duplicate: tuple[str, int] | None = None
    targets: dict[tuple[str, int], str] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)

    def rule_at(self, unit: str, year: int) -> str | None:
        return self.targets.get((unit, year))

    def printed_template(self, unit: str, year: int) -> str:
        if self.targets.get((unit, year)) == "X-5":
            return "2019"
        return "2019" if year <= 2020 else "2021"


def _ok_static(kind: DefectKind, unit: str, year: int, plan: Plan) -> bool:
    key = (unit, year)
    if key in plan.targets or key in plan.missing or year not in kind.years:
        return False
    if kind.template and plan.printed_template(unit, year) != kind.template:
        return False
    if kind.needs_prev:
        prev = (unit, year - 1)
        if year - 1 not in YEARS or prev in plan.missing or plan.targets.get(prev) in ("D03", "X-5"):
            return False
        if kind.template and plan.printed_template(unit, year - 1) != kind.template:
            return False
    return True


def plan_static(seed: int, units: tuple[Unit, ...], years: tuple[int, ...] = YEARS) -> Plan:
    """Place the missing report and the structure- and model-level defects (before the number model runs)."""
    rng = random.Random(f"{seed}:defects:static")
    plan = Plan()
    slots = [(u.name, y) for u in units for y in years]
    rng.shuffle(slots)
    mid = [s for s in slots if 2020 <= s[1] <= 2024]
    plan.missing.append(mid[0])
    for kind in CATALOGUE:
        if kind.stage not in ("structure", "model"):
            continue
        placed = 0
        for unit, year in slots:
            if placed == kind.count:
                break
            if not _ok_static(kind, unit, year, plan):
                continue
            if kind.stage == "model" and (unit, year - 1) in plan.targets:
                continue     # keep the previous report plain so the break is the only cross-year difference
            plan.targets[(unit, year)] = kind.rule
            placed += 1
            if kind.stage == "model":
                plan.events.setdefault(unit, []).append(_event(kind.rule, year, rng))
    return plan


def _event(rule: str, year: int, rng: random.Random) -> Event:
    if rule == "X-1":
        return Event(rule, year, col="natural", amount=rng.randint(1, 2))
    if rule == "X-2":
        return Event(rule, year, row="normative", amount=rng.randint(2, 5))
    if rule == "X-3":
        return Event(rule, year, row=rng.choice(["license", "penalty"]), amount=rng.randint(2, 6))
    return Event(rule, year, row="normative", amount=rng.randint(2, 6))


def _s3_values(fig: YearFigures) -> list[int | float]:
    return [v for k, v in fig.values.items() if k.startswith(("s3.", "s4."))]


def _value_ok(rule: str, fig: YearFigures, template: str) -> bool:
    v = fig.values
    if rule in ("S3-3", "D11"):
        return any(v[f"s3.{r}.total"] >= 1 for r in L.s3_leaf_rows(template))
    if rule == "D12":
        return not any(_s3_values(fig))
    return True


def plan_values(seed: int, plan: Plan, figures: dict[str, dict[int, YearFigures]]) -> None:
    """Place the cell-, narrative- and meta-level defects, and the duplicate, now that the figures are known."""
    rng = random.Random(f"{seed}:defects:values")
    slots = [(u, y) for u, by_year in figures.items() for y in by_year]
    rng.shuffle(slots)
    for kind in CATALOGUE:
        if kind.stage in ("structure", "model"):
            continue
        placed = 0
        for unit, year in slots:
            if placed == kind.count:
                break
            if not _ok_static(kind, unit, year, plan):
                continue
            if not _value_ok(kind.rule, figures[unit][year], plan.printed_template(unit, year)):
                continue
            if kind.rule in ("X-6", "X-7") and plan.targets.get((unit, year - 1)) in ("X-6", "D16"):
                continue
            if kind.rule == "D12" and BY_RULE.get(plan.targets.get((unit, year + 1), ""), kind).stage == "model":
                continue     # a “/” 结转下年度 would make next year's X-1 break unreadable
            plan.targets[(unit, year)] = kind.rule
            placed += 1
    for unit, year in slots:
        if (unit, year) not in plan.targets and (unit, year) not in plan.missing:
            plan.duplicate = (unit, year)
            break


# ------------------------------------------------------------------ mutations


def _n(cells: dict[str, str], key: str) -> int:
    v = cell_reading(cells.get(key, ""))[0]
    return 0 if v is None else int(v)


def _add(cells: dict[str, str], key: str, k: int) -> None:
    cells[key] = str(_n(cells, key) + k)


def mutate_cells(rule: str, cells: dict[str, str], template: str, rng: random.Random) -> list[str]:
    """Apply a cells-stage defect in place; return the keys it concerns."""
    if rule == "S3-1":
        c = rng.choice(["natural", "commercial"])
        k = rng.randint(1, 3)
        _add(cells, f"s3.new_received.{c}", k)
        _add(cells, "s3.new_received.total", k)
        return [f"s3.{r}.{col}" for col in (c, "total") for r in ("new_received", "carried_over", "result_total", "carry_forward")]
    if rule == "S3-2":
        c = "natural"
        _add(cells, f"s3.granted.{c}", 1)
        _add(cells, "s3.granted.total", 1)
        return [f"s3.{r}.{col}" for col in (c, "total") for r in ("result_total", "granted")]
    if rule == "S3-3":
        leaves = L.s3_leaf_rows(template)
        down = rng.choice([r for r in leaves if _n(cells, f"s3.{r}.total") >= 1])
        up = rng.choice([r for r in leaves if r != down])
        _add(cells, f"s3.{up}.total", 1)
        _add(cells, f"s3.{down}.total", -1)
        return [f"s3.{r}.{c}" for r in (up, down) for c in L.S3_COLS]
    if rule in ("S4-1", "S4-2", "S4-3"):
        group = {"S4-1": "review", "S4-2": "suit_direct", "S4-3": "suit_after_review"}[rule]
        _add(cells, f"s4.{group}.{rng.choice(['upheld', 'corrected', 'other', 'pending'])}", 1)
        return [f"s4.{group}.{c}" for c in L.S4_COLS]
    if rule == "S2A-3":
        row = rng.choice(["license", "other_service", "penalty", "coercion", "fee"])
        cells[f"s2.{row}.delta"] = str(-(_n(cells, f"s2.{row}.prev_items") + rng.randint(1, 3)))
        return [f"s2.{row}.prev_items", f"s2.{row}.delta"]
    if rule == "S2B-2":
        issued, repealed = _n(cells, "s2.normative.issued"), _n(cells, "s2.normative.repealed")
        issued = max(issued, repealed + 2)
        cells["s2.normative.issued"] = str(issued)
        cells["s2.normative.valid"] = str(issued - repealed - 1)
        return ["s2.normative.issued", "s2.normative.repealed", "s2.normative.valid"]
    if rule == "S2-T1":
        k = rng.randint(1, 3)
        cols = ("made", "published", "total") if template == "2019" else ("issued", "repealed", "valid")
        for col in cols:
            cells[f"s2.regulation.{col}"] = "0" if col == "repealed" else str(k)
        return [f"s2.regulation.{col}" for col in cols]
    if rule == "S2B-3":
        v = cell_reading(cells["s2.fee.amount"])[0] or round(rng.uniform(0.2, 2.0), 2)
        cells["s2.fee.amount"] = f"{round(float(v) * 10000)}元"
        return ["s2.fee.amount"]
    if rule == "D11":
        # as Shanghai 市政府办公厅 2019 (spec §7, §8.1): the 总计 column left empty on every outcome row; the
        # identities that have these totals on one side are not evaluable, nothing may be read as 0
        keys = [f"s3.{r}.total" for r in L.s3_leaf_rows(template)]
        for key in keys:
            cells[key] = ""
        return keys
    if rule == "D12":
        keys = [k for k in cells if k.startswith("s3.")]
        for key in keys:
            cells[key] = "/"
        return keys
    raise ValueError(rule)


def mutate_claims(rule: str, claims: Claims, template: str) -> list[str]:
    """Apply a narrative-stage defect to the figures the text states; return the keys it concerns."""
    if rule == "N-1":
        claims.new_received = claims.new_received - 1 if claims.new_received >= 2 else claims.new_received + 1
        return ["s3.new_received.total"]
    if rule == "N-2":
        claims.carried_over += 1
        return ["s3.carried_over.total"]
    if rule == "N-3":
        claims.granted += 1
        return ["s3.granted.total"]
    if rule == "N-4":
        claims.carry_forward += 1
        return ["s3.carry_forward.total"]
    if rule == "N-5":
        if claims.review or claims.suits:
            claims.deny_reviews = True
        else:
            claims.review = 1
        return ["s4.review.total", "s4.suit_direct.total", "s4.suit_after_review.total"]
    if rule == "N-6":
        claims.normative_issued = (claims.normative_issued or 0) + 1
        return ["s2.normative.issued" if template == "2021" else "s2.normative.made"]
    return []


def misspelled_doc(year: int) -> tuple[str, str]:
    """N-8: a wrong format-document number (国办发 instead of 国办公开办函, spec §8.5 [S33])."""
    return (DOC_30[0], "国办发〔2021〕30号")


def injected(rule: str, keys: list[str]) -> dict[str, Any]:
    return {"rule": rule, "keys": keys, "severity": severity(rule)}
