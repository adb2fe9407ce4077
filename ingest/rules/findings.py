"""The finding record (spec §9.1) and the rule catalogue it is built from.

:func:`make` is the only way a rule builds a finding, at parse time and in the store's checks alike.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@cache
def catalogue() -> dict[str, dict]:
    with open(Path(__file__).with_name("catalogue.toml"), "rb") as fh:
        return tomllib.load(fh)


@dataclass(slots=True)
class Finding:
    rule: str
    severity: str
    keys: list[str]
    message: str
    expected: int | float | None = None
    actual: int | float | None = None
    assumed_zero: list[str] = field(default_factory=list)
    evidence: str = ""
    defect: str | None = None        # the spec's defect code (D01, D05, D07 …) where the rule has one

    def to_dict(self) -> dict:
        """The finding as the parse output and the store's checks carry it; ``defect`` only when set."""
        out = {"rule": self.rule, "severity": self.severity, "keys": list(self.keys), "expected": self.expected,
               "actual": self.actual, "message": self.message, "assumed_zero": list(self.assumed_zero),
               "evidence": self.evidence}
        if self.defect is not None:
            out["defect"] = self.defect
        return out


# A message is one line (spec §9.1), also when it quotes a cell printed on several lines.
_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


def number_text(value: float | int | None) -> str:
    """A number as a person writes it: ``2``, not ``2.0``; ``2.5``; blank (None) as ``空白``.

    Fifteen significant digits keep every printed amount and hide float noise (``0.1 + 0.2``).
    """
    if value is None:
        return "空白"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    v = float(value)
    return str(int(v)) if v.is_integer() else f"{v:.15g}"


def plain_number(value: float | int | None) -> int | float | None:
    """``expected``/``actual`` as stored in a finding: an integral float becomes an int."""
    if value is None or isinstance(value, int):
        return value
    v = float(value)
    return int(v) if v.is_integer() else v


def make(entry: str, keys: list[str], *, expected=None, actual=None, assumed_zero=None,
         evidence: str = "", defect: str | None = None, keep_key_order: bool = False, **fields) -> Finding:
    """Build a finding from the catalogue entry ``entry`` (usually the rule ID).

    Keys are sorted unless ``keep_key_order``: a cross-year finding names the current year's cell
    first, and the order is shown.
    """
    spec = catalogue()[entry]
    values = {"expected": number_text(expected) if expected is not None else "",
              "actual": number_text(actual) if actual is not None else "", **fields}
    return Finding(rule=spec.get("rule", entry), severity=spec["severity"],
                   keys=list(keys) if keep_key_order else sorted(keys),
                   message=_LINE_BREAKS.sub(" ", spec["message"].format(**values)), expected=expected,
                   actual=actual, assumed_zero=sorted(set(assumed_zero or [])), evidence=evidence, defect=defect)
