"""An independent, minimal reading of the demo corpus for its tests: the hard identities, cross-year links and
narrative patterns of spec §8, written from the spec and not shared with ingest/rules, so the demo truth is
checked against the spec rather than against the checker it is meant to test.

Blank and marker cells (None in truth) read as 0, except a blank 总计 which makes the identity with that total on
one side not evaluable (spec §7).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from ingest.demo import labels as L
from ingest.demo.generate import DemoDoc, build_corpus, run_demo

Cells = dict[str, Any]


@cache
def corpus(seed: int = 2025) -> tuple[list[DemoDoc], list[dict[str, Any]]]:
    """The default corpus in memory (built once per test process)."""
    return build_corpus(seed)


_WRITTEN: dict[int, Path] = {}


def written(tmp_root: Path, seed: int = 2025) -> Path:
    """The default corpus written to disk once per test process (under a session temp folder)."""
    if seed not in _WRITTEN:
        out = tmp_root / f"demo-{seed}"
        run_demo(str(out), seed)
        _WRITTEN[seed] = out
    return _WRITTEN[seed]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def primary(truth: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in truth if "duplicate_of" not in t]


def _v(cells: Cells, key: str) -> int | float:
    v = cells.get(key)
    return 0 if v is None else v


def _known(cells: Cells, key: str) -> bool:
    """A total is evaluable when it is printed with a number (a blank/marker total is not, spec §7)."""
    return cells.get(key) is not None


def identity_failures(cells: Cells, template: str, units: dict[str, Any] | None = None) -> dict[str, set[str]]:
    """Within-report rules that fail, each with the keys involved: S3-1/2/3, S4-1/2/3, S2A-3, S2B-2, S2-T1, S2B-3."""
    out: dict[str, set[str]] = {}

    def fail(rule: str, keys: list[str]) -> None:
        out.setdefault(rule, set()).update(keys)

    if template not in L.TEMPLATES:
        return out
    if "s3.new_received.total" in cells:
        leaves = L.s3_leaf_rows(template)
        for c in L.S3_COLS:
            side = [f"s3.{r}.{c}" for r in ("new_received", "carried_over", "result_total", "carry_forward")]
            if all(_known(cells, k) for k in side if k.endswith(".total")) and (
                _v(cells, side[0]) + _v(cells, side[1]) != _v(cells, side[2]) + _v(cells, side[3])
            ):
                fail("S3-1", side)
            parts = [f"s3.{r}.{c}" for r in leaves]
            totals_known = c != "total" or all(_known(cells, k) for k in parts)
            if _known(cells, f"s3.result_total.{c}") and totals_known and (
                sum(_v(cells, k) for k in parts) != _v(cells, f"s3.result_total.{c}")
            ):
                fail("S3-2", [f"s3.result_total.{c}", *parts])
        for r in (*leaves, "new_received", "carried_over", "result_total", "carry_forward"):
            parts = [f"s3.{r}.{c}" for c in L.S3_COLS[:-1]]
            if _known(cells, f"s3.{r}.total") and sum(_v(cells, k) for k in parts) != _v(cells, f"s3.{r}.total"):
                fail("S3-3", [f"s3.{r}.total", *parts])
    if "s4.review.total" in cells:
        for rule, g in (("S4-1", "review"), ("S4-2", "suit_direct"), ("S4-3", "suit_after_review")):
            parts = [f"s4.{g}.{c}" for c in L.S4_COLS[:-1]]
            if _known(cells, f"s4.{g}.total") and sum(_v(cells, k) for k in parts) != _v(cells, f"s4.{g}.total"):
                fail(rule, [f"s4.{g}.total", *parts])
    if template == "2019" and "s2.license.prev_items" in cells:
        for x in ("license", "other_service", "penalty", "coercion", "fee"):
            if _v(cells, f"s2.{x}.prev_items") + _v(cells, f"s2.{x}.delta") < 0:
                fail("S2A-3", [f"s2.{x}.prev_items", f"s2.{x}.delta"])
    if template == "2021" and "s2.normative.valid" in cells:
        for x in ("regulation", "normative"):
            if _v(cells, f"s2.{x}.valid") < _v(cells, f"s2.{x}.issued") - _v(cells, f"s2.{x}.repealed"):
                fail("S2B-2", [f"s2.{x}.valid"])
        fee = cells.get("s2.fee.amount")
        if (units or {}).get("s2.fee.amount") == "元" or (fee is not None and fee >= 10000):
            fail("S2B-3", ["s2.fee.amount"])
    reg = [k for k in cells if k.startswith("s2.regulation.")]
    if any(_v(cells, k) for k in reg):
        fail("S2-T1", reg)
    return out


def cross_year_failures(prev: dict[str, Any], cur: dict[str, Any]) -> dict[str, set[str]]:
    """X-1 … X-4 of report ``cur`` against ``prev`` (same unit, year − 1), on printed values (None as 0 only
    where both sides are printed; a missing key makes the rule not evaluable)."""
    out: dict[str, set[str]] = {}
    pc, cc = prev["cells"], cur["cells"]

    def cmp(rule: str, key: str, expected: int | float | None) -> None:
        if key in cc and expected is not None and _v(cc, key) != expected:
            out.setdefault(rule, set()).add(key)

    def got(cells: Cells, *keys: str) -> int | float | None:
        return sum(_v(cells, k) for k in keys) if all(k in cells for k in keys) else None

    for c in L.S3_COLS:
        cmp("X-1", f"s3.carried_over.{c}", got(pc, f"s3.carry_forward.{c}"))
    if cur["template"] == prev["template"] == "2021" and cur["year"] >= 2022:
        for x in ("regulation", "normative"):
            base = got(pc, f"s2.{x}.valid")
            if base is not None and f"s2.{x}.issued" in cc:
                cmp("X-2", f"s2.{x}.valid", base + _v(cc, f"s2.{x}.issued") - _v(cc, f"s2.{x}.repealed"))
    if cur["template"] == prev["template"] == "2019" and cur["year"] == 2020:
        for x in ("license", "other_service", "penalty", "coercion", "fee"):
            cmp("X-3", f"s2.{x}.prev_items", got(pc, f"s2.{x}.prev_items", f"s2.{x}.delta"))
        for x in ("regulation", "normative"):
            base = got(pc, f"s2.{x}.total")
            if base is not None and f"s2.{x}.published" in cc:
                cmp("X-4", f"s2.{x}.total", base + _v(cc, f"s2.{x}.published"))
    return out


# ------------------------------------------------------------------ narrative (spec §8.5, all matches)

_NUM = r"(?<!\d)(\d+)件"
PATTERNS: dict[str, str] = {
    "new_received": r"(?:收到|受理|新收).{0,12}?(?:政府信息公开)?申请.{0,6}?" + _NUM,
    "carried_over": r"上年度?结转.{0,6}?" + _NUM,
    "carry_forward": r"结转下年度.{0,6}?" + _NUM,
    "granted": r"予以公开" + _NUM,
    "partial": r"部分公开" + _NUM,
    "deny": r"不予公开" + _NUM,
    "unable": r"无法提供" + _NUM,
    "noproc": r"不予处理" + _NUM,
    "review": r"行政复议" + _NUM,
    "suits": r"行政诉讼" + _NUM,
    "normative_issued": r"(?:制发|出台).{0,8}?(?:行政)?规范性文件" + _NUM,
}
NO_REVIEW = re.compile(r"未发生.{0,10}(?:行政复议|行政诉讼)")


def narrative_claims(text: str) -> dict[str, list[int]]:
    """Every figure the spec's N-rule patterns find in ``text``, by measure."""
    out: dict[str, list[int]] = {}
    for name, pattern in PATTERNS.items():
        for m in re.finditer(pattern, text):
            out.setdefault(name, []).append(int(m.group(1)))
    if NO_REVIEW.search(text):
        out.setdefault("review", []).append(0)
        out.setdefault("suits", []).append(0)
    return out


def table_measures(cells: Cells, template: str) -> dict[str, int]:
    """The table figures the N-rules compare with: row 总计, or the column sum where 总计 is blank."""

    def tot(row: str) -> int:
        if cells.get(f"s3.{row}.total") is None:
            return int(sum(_v(cells, f"s3.{row}.{c}") for c in L.S3_COLS[:-1]))
        return int(_v(cells, f"s3.{row}.total"))

    leaves = L.s3_leaf_rows(template)
    out = {
        "new_received": tot("new_received"), "carried_over": tot("carried_over"), "carry_forward": tot("carry_forward"),
        "granted": tot("granted"), "partial": tot("partial"),
        "deny": sum(tot(r) for r in leaves if r.startswith("deny_")),
        "unable": sum(tot(r) for r in leaves if r.startswith("unable_")),
        "noproc": sum(tot(r) for r in leaves if r.startswith("noproc_")),
        "review": int(_v(cells, "s4.review.total")),
        "suits": int(_v(cells, "s4.suit_direct.total") + _v(cells, "s4.suit_after_review.total")),
        "normative_issued": int(_v(cells, "s2.normative.issued" if template == "2021" else "s2.normative.made")),
    }
    return out


def shingles(text: str, n: int = 3) -> set[str]:
    s = re.sub(r"\s+", "", text)
    return {s[i:i + n] for i in range(max(0, len(s) - n + 1))}


def jaccard(a: str, b: str, n: int = 3) -> float:
    x, y = shingles(a, n), shingles(b, n)
    return len(x & y) / len(x | y) if x | y else 0.0
