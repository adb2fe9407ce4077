"""Every rule evaluator, registered with the rule ids it evaluates: one registry.

*Report rules* (:func:`report_rules`) check one parsed document; the parser runs every registered
family in order on a :class:`~ingest.rules.context.ReportContext` and nothing else decides which
rules run.  *Store rules* are evaluated by the store over the loaded reports.

The cross-report rules and what each reads: from these declarations the store derives the cells
it loads back for them.

A rule registered with :func:`pair_rule` compares a unit's report of year Y−1 with its report of
year Y.  It declares the cells and narrative sections it reads (:class:`Needs`); the store loads
exactly the union of those (``ingest/store/checks.py``), so a new rule that reads a new cell sees
that cell without any other change.  A rule that read a cell it did not declare would see it as
absent — "not evaluable" — and never fire, which is why the declaration sits next to the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.rules.context import ReportContext
    from ingest.rules.cross_year import YearReport
    from ingest.rules.findings import Finding

PairCheck = Callable[["YearReport", "YearReport"], list[dict]]
ReportCheck = Callable[["ReportContext"], list["Finding"]]


@dataclass(frozen=True, slots=True)
class ReportRules:
    """A family of one-document rules: the ids it may emit, its evaluator, its place in the output."""

    rules: tuple[str, ...]
    check: ReportCheck
    order: int                # families run (and their findings are listed) by this number


REPORT_RULES: list[ReportRules] = []


def report_rules(*rules: str, order: int) -> Callable[[ReportCheck], ReportCheck]:
    """Register ``check`` as the evaluator of the one-document rules ``rules``."""
    def register(check: ReportCheck) -> ReportCheck:
        if any(f.order == order for f in REPORT_RULES):
            raise ValueError(f"two report rule families at order {order}")
        REPORT_RULES.append(ReportRules(tuple(rules), check, order))
        return check

    return register


def report_families() -> list[ReportRules]:
    """The registered one-document rule families, in order (importing the modules that define them)."""
    from ingest.rules import narrative, structure, within  # noqa: F401  (they register on import)

    return sorted(REPORT_RULES, key=lambda f: f.order)


@dataclass(frozen=True, slots=True)
class Needs:
    """What a rule reads of a stored report: whole cell sections, whole rows, single keys, texts."""

    sections: tuple[str, ...] = ()      # s2 | s3 | s4
    rows: tuple[str, ...] = ()          # row_key, e.g. carried_over
    keys: tuple[str, ...] = ()          # canonical keys
    texts: tuple[str, ...] = ()         # narrative sections 一 … 六

    def __or__(self, other: Needs) -> Needs:
        def join(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted({*a, *b}))

        return Needs(join(self.sections, other.sections), join(self.rows, other.rows),
                     join(self.keys, other.keys), join(self.texts, other.texts))


@dataclass(frozen=True, slots=True)
class PairRule:
    rule: str                 # the rule id (a catalogue.toml entry)
    check: PairCheck
    needs: Needs


PAIR_RULES: list[PairRule] = []
_SINGLE_NEEDS: dict[str, Needs] = {}


def pair_rule(rule: str, needs: Needs) -> Callable[[PairCheck], PairCheck]:
    """Register ``check`` as the Y−1 → Y rule ``rule``; rules run in registration order."""
    def register(check: PairCheck) -> PairCheck:
        if any(r.rule == rule for r in PAIR_RULES):
            raise ValueError(f"rule {rule} is registered twice")
        PAIR_RULES.append(PairRule(rule, check, needs))
        return check

    return register


def unregister(rule: str) -> None:
    """Remove a pair rule (tests register temporary rules)."""
    PAIR_RULES[:] = [r for r in PAIR_RULES if r.rule != rule]


def store_rule(rule: str, needs: Needs) -> None:
    """Declare a rule the store evaluates besides the pair rules (X-5 and D07 on one report with its
    year; MISSING and CONFLICT over a unit's reports) and what it reads of a stored report."""
    _SINGLE_NEEDS[rule] = needs


def needed() -> Needs:
    """The union of what every registered store-side rule reads."""
    out = Needs()
    for needs in [*(r.needs for r in PAIR_RULES), *_SINGLE_NEEDS.values()]:
        out = out | needs
    return out


def rule_ids() -> Iterable[str]:
    """Every rule id some registered evaluator produces (an id may be evaluated at both stages: X-5)."""
    report = [r for f in report_families() for r in f.rules]
    return list(dict.fromkeys([*report, *(r.rule for r in PAIR_RULES), *_SINGLE_NEEDS]))


def pair_rule_ids() -> list[str]:
    return [r.rule for r in PAIR_RULES]
