"""The finding record (spec §9.1) and the rule catalogue it is built from."""

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

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "keys": list(self.keys), "expected": self.expected,
                "actual": self.actual, "message": self.message, "assumed_zero": list(self.assumed_zero),
                "evidence": self.evidence}


# A message is one line (spec §9.1), also when it quotes a cell printed on several lines.
_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}" if v != int(v) else str(int(v))
    return str(v)


def make(entry: str, keys: list[str], *, expected=None, actual=None, assumed_zero=None,
         evidence: str = "", **fields) -> Finding:
    """Build a finding from the catalogue entry ``entry`` (usually the rule ID)."""
    spec = catalogue()[entry]
    values = {"expected": _fmt(expected) if expected is not None else "",
              "actual": _fmt(actual) if actual is not None else "", **fields}
    return Finding(rule=spec.get("rule", entry), severity=spec["severity"], keys=sorted(keys),
                   message=_LINE_BREAKS.sub(" ", spec["message"].format(**values)), expected=expected,
                   actual=actual, assumed_zero=sorted(set(assumed_zero or [])), evidence=evidence)
