"""``python -m ingest demo [--out DIR] [--seed N]``: write the synthetic corpus of 示例市 and its ground truth.

Output (cli.md): documents under ``OUT/示例市/<区县>/<乡镇街道>/<年>年政府信息公开工作年度报告.<ext>`` in five layouts
(tab text, pipe text, HTML page, DOCX, PDF), and beside them

* ``OUT/truth.jsonl``: one line per document: ``file`` (relative to OUT), ``format``, ``layout``, ``encoding``,
  ``unit``, ``unit_level``, ``region``, ``year``, ``template``, ``published``, ``title``, ``cells`` (as printed,
  same rules as ``parse``; keys of missing tables absent), ``units`` (money cells), ``injected`` (deliberate
  defects: ``rule``, ``keys``, ``severity``), ``noise`` (label variants and other expected info/warning findings
  that come from realistic formatting: D09/D10/D13 labels, D07 strict-late dates, S2A-6 amounts without unit),
  ``narrative`` (figures the text states), ``sha256``; a second version of one report has ``duplicate_of``
  (the first file) and ``changed`` (keys whose numbers differ).
* ``OUT/missing.jsonl``: the unit-years deliberately left without a report.

Load the documents with ``python -m ingest load OUT/示例市`` (the .jsonl files are not reports).
Same seed → same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.demo import defects as D
from ingest.demo import labels as L
from ingest.demo import narrative as N
from ingest.demo import noise as Z
from ingest.demo.city import CITY, UNITS, YEARS, Unit, YearFigures, simulate
from ingest.demo.layout import EXTENSIONS, FORMATS, SOURCE_FORMAT, render
from ingest.demo.printing import print_cells
from ingest.demo.report import DemoReport, cell_reading

TABLE_PREFIX = {"二": "s2.", "三": "s3.", "四": "s4."}


@dataclass
class DemoDoc:
    path: str                 # relative to the output folder
    fmt: str                  # layout: text | pipe | html | docx | pdf
    report: DemoReport
    truth: dict[str, Any]
    data: bytes = b""


def _n(cells: dict[str, str], key: str) -> int:
    v = cell_reading(cells.get(key, ""))[0]
    return 0 if v is None else int(v)


def claims_from(cells: dict[str, str], template: str) -> N.Claims:
    """The figures a truthful narrative states: printed 总计, or the sum of the columns where 总计 is blank."""

    def tot(row: str) -> int:
        key = f"s3.{row}.total"
        if key in cells and cell_reading(cells[key])[2] == "blank":
            return sum(_n(cells, f"s3.{row}.{c}") for c in L.S3_COLS[:-1])
        return _n(cells, key)

    leaves = L.s3_leaf_rows(template)
    return N.Claims(
        new_received=tot("new_received"),
        carried_over=tot("carried_over"),
        carry_forward=tot("carry_forward"),
        granted=tot("granted"),
        partial=tot("partial"),
        deny=sum(tot(r) for r in leaves if r.startswith("deny_")),
        unable=sum(tot(r) for r in leaves if r.startswith("unable_")),
        noproc=sum(tot(r) for r in leaves if r.startswith("noproc_")),
        other=sum(tot(r) for r in leaves if r.startswith("other")),
        review=_n(cells, "s4.review.total"),
        suits=_n(cells, "s4.suit_direct.total") + _n(cells, "s4.suit_after_review.total"),
    )


def _publication(rng: random.Random, year: int, rule: str | None) -> dt.date | None:
    if rule == "D07":
        return dt.date(year + 1, rng.randint(4, 6), rng.randint(1, 28))
    if rule == "N-9":
        return dt.date(year + 2, rng.randint(1, 3), rng.randint(1, 28))
    r = rng.random()
    if r < 0.05:
        return None
    if r < 0.83:
        return dt.date(year + 1, 1, rng.randint(5, 31))
    if r < 0.95:
        return dt.date(year + 1, 2, rng.randint(1, 28))
    return dt.date(year + 1, 3, rng.randint(1, 31))


def _date_text(rng: random.Random, d: dt.date) -> str:
    return rng.choice([f"{d.year}年{d.month}月{d.day}日", f"{d.year}年{d.month}月{d.day}日", f"{d.year}年{d.month:02d}月{d.day:02d}日"])


def _noise_records(cells: dict[str, str], template: str, published: dt.date | None, year: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    amount = cells.get("s2.procurement.amount")
    if template == "2019" and amount is not None:
        value, unit, _ = cell_reading(amount)
        if value and unit is None:
            out.append({"rule": "S2A-6", "keys": ["s2.procurement.amount"], "raw": amount, "severity": "warning"})
    if published and dt.date(year + 1, 1, 31) < published <= dt.date(year + 1, 3, 31):
        out.append({"rule": "D07", "keys": ["meta.publish_date"], "raw": published.isoformat(), "severity": "info"})
    return out


class _Builder:
    def __init__(self, seed: int, units: tuple[Unit, ...], years: tuple[int, ...]) -> None:
        self.seed = seed
        self.units = units
        self.years = years
        self.plan = D.plan_static(seed, units, years)
        self.figures: dict[str, dict[int, YearFigures]] = {
            u.name: simulate(u, seed, tuple(self.plan.events.get(u.name, ())), years) for u in units
        }
        D.plan_values(seed, self.plan, self.figures)
        slots = [(u.name, y) for u in units for y in years if (u.name, y) not in self.plan.missing]
        fmts = [FORMATS[i % len(FORMATS)] for i in range(len(slots))]
        random.Random(f"{seed}:formats").shuffle(fmts)
        self.fmt = dict(zip(slots, fmts, strict=True))
        self.quiet: set[tuple[str, int]] = set()
        for (unit, year), rule in self.plan.targets.items():
            if D.BY_RULE[rule].stage == "model":
                self.quiet.update({(unit, year), (unit, year - 1)})

    def rng(self, unit: str, year: int, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{unit}:{year}:{stream}")

    def _neighbours(self, unit: Unit, year: int) -> list[str]:
        i = self.units.index(unit)
        out = []
        for j in (i - 1, i + 1):
            o = self.units[j % len(self.units)]
            out.append(f"{o.region}{o.issuer}{year}年政府信息公开工作年度报告")
        return out

    def build(self) -> list[DemoDoc]:
        docs: list[DemoDoc] = []
        for unit in self.units:
            prev: DemoDoc | None = None
            prev_choices: dict[str, int] = {}
            for year in self.years:
                if (unit.name, year) in self.plan.missing:
                    prev = None
                    continue
                doc = self.report(unit, year, prev, prev_choices)
                docs.append(doc)
                if self.plan.duplicate == (unit.name, year):
                    docs.append(self.duplicate(unit, doc, prev, prev_choices))
                prev_choices = doc.truth.pop("_choices")
                prev = doc
        return docs

    def report(self, unit: Unit, year: int, prev: DemoDoc | None, prev_choices: dict[str, int],
               fmt: str | None = None, variant: str = "") -> DemoDoc:
        rule = self.plan.rule_at(unit.name, year) if not variant else None
        kind = D.BY_RULE.get(rule or "")
        template = self.plan.printed_template(unit.name, year)
        fmt = fmt or self.fmt[(unit.name, year)]
        if rule == "D11" and fmt == "pipe":
            fmt = "html"      # pipe text drops empty cells: a blank 总计 there cannot be told from a missing one
        fig = self.figures[unit.name][year]
        nz = Z.choose(self.rng(unit.name, year, "noise"), fmt, template, year)   # a second version keeps the layout habits
        if (unit.name, year) in self.quiet:
            nz.marker_scope = ""
        crng = self.rng(unit.name, year, "cells" + variant)
        cells = print_cells(fig, template, nz, thousands=crng.random() < 0.1)
        injected: list[dict[str, Any]] = []
        if kind and kind.stage == "cells":
            injected.append(D.injected(rule, D.mutate_cells(rule, cells, template, crng)))
            if rule == "S2B-2" and prev and prev.report.template == "2021" and "s2.normative.valid" in prev.report.cells:
                injected.append(D.injected("X-2", ["s2.normative.valid"]))
        elif kind and kind.stage == "model":
            ev = next(e for e in self.plan.events[unit.name] if e.year == year)
            keys = {
                "X-1": [f"s3.carried_over.{ev.col}", "s3.carried_over.total"],
                "X-2": [f"s2.{ev.row}.valid"],
                "X-3": [f"s2.{ev.row}.prev_items"],
                "X-4": [f"s2.{ev.row}.total"],
            }[rule]
            injected.append(D.injected(rule, keys))
        changed: list[str] = []
        if variant == "dup":
            changed = self._change(cells, template, crng)
        claims = claims_from(cells, template)
        nrng = self.rng(unit.name, year, "narrative" + variant)
        if nrng.random() < 0.3 or rule == "N-6":
            claims.normative_issued = _n(cells, "s2.normative.issued" if template == "2021" else "s2.normative.made")
        if kind and kind.stage == "narrative" and rule not in ("N-10", "X-6", "X-7"):
            injected.append(D.injected(rule, D.mutate_claims(rule, claims, template)))
        elif rule in ("N-10", "X-6", "X-7", "X-5", "D16"):
            injected.append(D.injected(rule, []))
        published = _publication(self.rng(unit.name, year, "date" + variant), year, rule)
        if variant == "dup" and published:
            published += dt.timedelta(days=16)
        if rule == "N-9":
            injected.append(D.injected("N-9", ["meta.publish_date"]))
        if rule in ("N-9", "D07"):
            injected.append(D.injected("D07", ["meta.publish_date"]))
        if rule == "N-7":
            injected.append(D.injected("N-7", ["meta.period"]))
        if rule == "N-8":
            injected.append(D.injected("N-8", ["meta.cited_format_doc"]))
        show_end = nrng.random() < 0.8 or rule in ("D07", "N-9")
        date_text = _date_text(nrng, published) if published and show_end else None
        if not (date_text or fmt in ("html", "pipe") or nz.style.get("date_top")):
            published = None          # the document prints no date at all (as samples/quangang-2020.txt)
        text = N.write(
            unit, year, template, claims, fig.info_items, nrng, prev_choices,
            period_year=year - 1 if rule == "N-7" else None,
            cited=D.misspelled_doc(year) if rule == "N-8" else None,
            fee_statement=rule != "N-10",
            followup=rule != "X-7",
            published_text=date_text,
        )
        sections = dict(text.sections)
        if rule == "X-6" and prev is not None:
            sections["五"] = prev.report.sections["五"]
        omit_tables: tuple[str, ...] = ()
        omit_sections: tuple[str, ...] = ()
        if rule == "D03":
            omit_tables = ("二", "三", "四") if crng.random() < 0.5 else ("四",)
            injected.append(D.injected("D03", []))
            cells = {k: v for k, v in cells.items() if not k.startswith(tuple(TABLE_PREFIX[s] for s in omit_tables))}
        if rule == "D16":
            omit_sections = ("六",)
        style = dict(nz.style)
        if fmt == "pipe":
            style["date_top"] = published is not None
            style["chrome_top"] = [f"{CITY}{unit.region}人民政府（示例站点）", f"当前位置：首页 > 政务公开 > 政府信息公开年报 > {unit.name}"]
            style["chrome_bottom"] = [f"主办：{CITY}{unit.region}人民政府办公室{N.SYNTHETIC}"]
        if fmt == "html":
            style["neighbours"] = self._neighbours(unit, year)
        report = DemoReport(
            unit=unit.name, year=year, template=template, cells=cells, sections=sections,
            published=published.isoformat() if published else None, unit_level=unit.level, region=unit.region,
            city=CITY, issuer=f"{CITY}{unit.region}{unit.issuer}", title=text.title, preamble=text.preamble,
            sign_off=text.sign_off, headings=nz.headings, labels=nz.labels, omit_sections=omit_sections,
            omit_tables=omit_tables, style=style,
        )
        if omit_sections:
            report.sections = {k: v for k, v in sections.items() if k not in omit_sections}
        data = render(report, fmt)
        name = f"{year}年政府信息公开工作年度报告{'（更正）' if variant else ''}{EXTENSIONS[fmt]}"
        path = f"{CITY}/{unit.region}/{unit.name}/{name}"
        printed_template = template
        if not any(k in cells for k in L.template_keys(template)):
            # no table printed: the parser falls back on the cited format document (recognise.detect_template)
            printed_template = "2021" if (rule == "N-8" or year >= 2021) else "2019"
        truth: dict[str, Any] = {
            "file": path,
            "format": SOURCE_FORMAT[fmt],
            "layout": fmt,
            "encoding": style.get("encoding", "utf-8") if fmt in ("text", "pipe", "html") else None,
            "unit": unit.name,
            "unit_level": unit.level,
            "region": unit.region,
            "year": year,
            "template": printed_template,
            "published": report.published,
            "title": text.title,
            "cells": report.values(),
            "units": report.units(),
            "injected": injected,
            "noise": nz.records + _noise_records(cells, template, published, year),
            "narrative": text.stated,
            "sha256": hashlib.sha256(data).hexdigest(),
            "_choices": text.choices,
        }
        if variant == "dup":
            truth["changed"] = changed
        return DemoDoc(path, fmt, report, truth, data)

    def _change(self, cells: dict[str, str], template: str, rng: random.Random) -> list[str]:
        """The numbers a second version of a report changes, keeping every identity and cross-year link."""
        changed = ["s2.license.decisions"]
        cells["s2.license.decisions"] = str(_n(cells, "s2.license.decisions") + rng.randint(2, 9))
        for c in L.S3_COLS[:-1]:
            if _n(cells, f"s3.granted.{c}") >= 1:
                for row, k in (("granted", -1), ("partial", 1)):
                    for col in (c, "total"):
                        cells[f"s3.{row}.{col}"] = str(_n(cells, f"s3.{row}.{col}") + k)
                        changed.append(f"s3.{row}.{col}")
                break
        return changed

    def duplicate(self, unit: Unit, first: DemoDoc, prev: DemoDoc | None, prev_choices: dict[str, int]) -> DemoDoc:
        fmt = FORMATS[(FORMATS.index(first.fmt) + 2) % len(FORMATS)]
        doc = self.report(unit, first.report.year, prev, prev_choices, fmt=fmt, variant="dup")
        doc.truth.pop("_choices")
        doc.truth["duplicate_of"] = first.path
        return doc


def build_corpus(seed: int = 2025, units: tuple[Unit, ...] = UNITS, years: tuple[int, ...] = YEARS) -> tuple[list[DemoDoc], list[dict[str, Any]]]:
    """The whole corpus in memory: documents (with bytes and truth) and the missing unit-years."""
    b = _Builder(seed, units, years)
    docs = b.build()
    by_name = {u.name: u for u in units}
    missing = [
        {"unit": u, "unit_level": by_name[u].level, "region": by_name[u].region, "year": y,
         "reason": "该年度报告未发布（示例数据中故意缺报）"}
        for u, y in b.plan.missing
    ]
    return docs, missing


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def run_demo(out: str = "data/demo", seed: int = 2025) -> int:
    """Write the demo corpus, truth.jsonl and missing.jsonl into ``out``; return the exit status (0)."""
    t0 = time.perf_counter()
    root = Path(out)
    docs, missing = build_corpus(seed)
    corpus = root / CITY
    if corpus.exists():
        shutil.rmtree(corpus)
    for doc in docs:
        path = root / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(doc.data)
    (root / "truth.jsonl").write_bytes(_jsonl([d.truth for d in docs]))
    (root / "missing.jsonl").write_bytes(_jsonl(missing))
    n_def = sum(1 for d in docs if d.truth["injected"])
    print(
        f"示例数据已生成：{len(docs)} 份报告（其中 {n_def} 份含故意设置的问题，{len(missing)} 份故意缺报），"
        f"目录 {root}，用时 {time.perf_counter() - t0:.1f} 秒",
        file=sys.stderr,
    )
    return 0
