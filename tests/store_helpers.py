"""Realistic parse results for store tests, built without the parser.

A parse result has the shape of ``ingest.parse.parse_file`` (cli.md object + extensions, see
docs/parse-output.md).  :func:`make_result` fills every canonical key of a template with
figures that satisfy the table identities, so that only the defects a test injects show up.
:func:`write_result_file` / :func:`json_parser` let a real ``run_load`` (in this process or a
subprocess) read such results from ``.rpt`` files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path

import duckdb

KEYS_TSV = Path(__file__).resolve().parent.parent / "ingest" / "templates" / "keys.tsv"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SAMPLES = SHARED / "samples"

COLS = ("natural", "commercial", "research", "public_interest", "legal_service", "other_org")
LEAVES_19 = ["granted", "partial", "deny_state_secret", "deny_law_forbidden", "deny_three_safety", "deny_third_party",
             "deny_internal", "deny_process", "deny_enforcement_file", "deny_admin_query", "unable_not_held",
             "unable_need_creation", "unable_unclear", "noproc_petition", "noproc_repeat", "noproc_publication",
             "noproc_mass_repeat", "noproc_confirm", "other"]
LEAVES_21 = [*LEAVES_19[:-1], "other_no_correction", "other_fee_unpaid", "other_other"]

_PHRASES = ["坚持以公开为常态、不公开为例外", "围绕镇党委、政府中心工作", "持续规范政府信息公开各个环节",
            "主动公开政府信息", "完善政府信息公开指南", "加强政府信息公开平台建设", "强化监督保障",
            "落实保密审查机制", "及时回应社会关切", "推进决策公开", "规范依申请公开办理流程",
            "开展政务公开培训", "更新公开目录", "做好政策解读", "优化便民服务中心公开专区",
            "健全信息发布协调机制", "加强队伍建设", "提升公开质量", "深化重点领域信息公开", "推进基层政务公开标准化"]


def template_keys(template: str) -> list[str]:
    out = []
    with KEYS_TSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["template"] in (template, "both") and row["key"] not in out:
                out.append(row["key"])
    return out


def narrative(rng: random.Random, n: int = 40) -> str:
    return "，".join(rng.choice(_PHRASES) for _ in range(n)) + "。"


def make_result(unit: str = "泉港镇", region: str | None = "丰城市", year: int = 2020, template: str | None = None,
                seed: int = 0, fmt: str = "text", carried_over: dict[str, int] | None = None,
                overrides: dict[str, int | float | None] | None = None, published: str | None = "default",
                findings: list[dict] | None = None, sections: dict[str, str] | None = None,
                units: dict[str, str | None] | None = None, kinds: dict[str, str] | None = None,
                level: str | None = "镇", source: str | None = None, prev: dict | None = None) -> dict:
    """A complete, internally consistent parse result for one report.

    With ``prev`` (the same unit's result of the year before), the cross-year identities hold
    too: carry-over (X-1), the F2021 stock of documents (X-2), F2019 item counts and totals (X-3, X-4).
    """
    if prev is not None and carried_over is None:
        carried_over = {c: prev["cells"].get(f"s3.carry_forward.{c}", 0) or 0 for c in COLS}
    template = template or ("2019" if year <= 2020 else "2021")
    rng = random.Random(f"{unit}-{year}-{seed}")
    keys = template_keys(template) if template in ("2019", "2021") else []
    cells: dict[str, int | float | None] = {}
    leaves = LEAVES_19 if template == "2019" else LEAVES_21
    for c in COLS:
        new = rng.randint(0, 6)
        co = (carried_over or {}).get(c, rng.randint(0, 2))
        intake = new + co
        cf = rng.randint(0, min(1, intake))
        left = intake - cf
        alloc = dict.fromkeys(leaves, 0)
        for _ in range(left):
            alloc[rng.choice([*leaves[:6], "granted", "partial", "unable_not_held"])] += 1
        cells[f"s3.new_received.{c}"] = new
        cells[f"s3.carried_over.{c}"] = co
        for leaf, v in alloc.items():
            cells[f"s3.{leaf}.{c}"] = v
        cells[f"s3.result_total.{c}"] = left
        cells[f"s3.carry_forward.{c}"] = cf
    for row in ["new_received", "carried_over", *leaves, "result_total", "carry_forward"]:
        cells[f"s3.{row}.total"] = sum(cells[f"s3.{row}.{c}"] for c in COLS)
    for g in ("review", "suit_direct", "suit_after_review"):
        parts = [rng.randint(0, 1) for _ in range(4)]
        for name, v in zip(("upheld", "corrected", "other", "pending"), parts, strict=True):
            cells[f"s4.{g}.{name}"] = v
        cells[f"s4.{g}.total"] = sum(parts)
    for k in keys:
        if k.startswith("s2."):
            if k.endswith(".delta"):
                cells[k] = rng.randint(-2, 3)
            elif k.startswith("s2.regulation."):
                cells[k] = 0
            elif k == "s2.procurement.amount":
                cells[k] = round(rng.uniform(1, 500), 1)
            elif k == "s2.fee.amount":
                cells[k] = round(rng.uniform(0, 20), 2)
            else:
                cells[k] = rng.randint(0, 30)
    if template == "2021":
        n = cells["s2.normative.valid"] = rng.randint(10, 40)
        cells["s2.normative.issued"] = rng.randint(0, 5)
        cells["s2.normative.repealed"] = rng.randint(0, min(3, n))
    cells = {k: v for k, v in cells.items() if k in keys}
    for k in [k for k in cells if k.endswith(".delta")]:
        items = k.replace(".delta", ".prev_items")
        cells[k] = max(cells[k], -cells[items])          # the item count never goes negative (S2A-3)
    if prev is not None and prev.get("template") == template:
        p = prev["cells"]
        if template == "2021":
            for row in ("regulation", "normative"):
                cells[f"s2.{row}.valid"] = (p[f"s2.{row}.valid"] + cells[f"s2.{row}.issued"]
                                            - cells[f"s2.{row}.repealed"])
        else:
            for row in ("license", "other_service", "penalty", "coercion", "fee"):
                cells[f"s2.{row}.prev_items"] = p[f"s2.{row}.prev_items"] + p[f"s2.{row}.delta"]
            for row in ("regulation", "normative"):
                cells[f"s2.{row}.total"] = p[f"s2.{row}.total"] + cells[f"s2.{row}.published"]
    cells.update(overrides or {})
    kinds_out = {k: ("number" if v is not None else "blank") for k, v in cells.items()}
    kinds_out.update(kinds or {})
    raw = {k: ("" if v is None else str(v)) for k, v in cells.items()}
    where = {k: f"表格{2 + i // 40} 第{i % 40 + 1}行第2格" for i, k in enumerate(cells)}
    unit_map: dict[str, str | None] = {k: None for k in ("s2.procurement.amount", "s2.fee.amount") if k in cells}
    unit_map.update(units or {})
    if sections is None:
        sections = {"一": f"{year}年，{unit}" + narrative(rng), "二": "", "三": "", "四": "",
                    "五": f"针对上一年度报告中提出的问题，{unit}" + narrative(rng, 12), "六": "无。"}
    if published == "default":
        published = f"{year + 1}-01-20"
    return {
        "source": source or f"{unit}-{year}.{ 'txt' if fmt == 'text' else fmt}",
        "sha256": "",
        "format": fmt, "unit": unit, "unit_level": level, "region": region, "year": year,
        "template": template, "published": published,
        "cells": cells, "units": unit_map, "narrative": {"s3.new_received.total": cells.get("s3.new_received.total")},
        "findings": findings or [],
        "raw": raw, "kinds": kinds_out, "where": where, "sections": sections,
        "extra": [{"table": "表二", "label": "其他主动公开文件", "values": ["3"], "where": "表格2 第9行"}],
        "title_year": year, "period_year": year,
        "cited_format_doc": "国办公开办函〔2019〕60号" if template == "2019" else "国办公开办函〔2021〕30号",
        "parser_version": "test-1",
    }


def item_for(result: dict, path: str | None = None, pin=None):
    """A ``FileItem`` for ``load_parsed``; the sha256 is that of the result's JSON."""
    from ingest.store.writer import FileItem

    data = json.dumps(result, ensure_ascii=False, sort_keys=True).encode()
    sha = hashlib.sha256(data).hexdigest()
    return FileItem(path or f"/virtual/{result['source']}", sha, result=result, pin=pin)


def write_result_file(folder: Path, name: str, result: dict) -> Path:
    """Store a parse result as a ``.rpt`` file that :func:`json_parser` reads back."""
    p = folder / name
    p.write_text(json.dumps(result, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return p


def json_parser(path: str) -> dict:
    """A stand-in for ``parse_file`` reading :func:`write_result_file` output; rejects ``bad*``."""
    from ingest.errors import RejectedFile

    p = Path(path)
    if p.name.startswith("bad"):
        raise RejectedFile("没有可提取的文字（可能是扫描件，需要 OCR）", "needs_ocr")
    if p.name.startswith("crash"):
        raise RuntimeError("boom")
    data = p.read_bytes()
    result = json.loads(data.decode("utf-8"))
    result["sha256"] = hashlib.sha256(data).hexdigest()
    result["source"] = str(p)
    return result


VOLATILE = {"reports": ("ingested_at", "run_id"), "finding_reviews": ("reviewed_at",)}


def snapshot(db_path: str | Path, tables: tuple[str, ...] | None = None) -> dict[str, list[tuple]]:
    """Full, order-independent contents of the data tables (volatile timestamp columns dropped)."""
    from ingest.store.schema import DATA_TABLES

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        out = {}
        for t in tables or DATA_TABLES:
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] not in VOLATILE.get(t, ())]
            quoted = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f"SELECT {quoted} FROM {t}").fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def digest(db_path: str | Path) -> dict[str, tuple[int, int]]:
    """Like :func:`snapshot` but cheap: per data table, the row count and an order-free hash sum."""
    from ingest.store.schema import DATA_TABLES

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        out = {}
        for t in DATA_TABLES:
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] not in VOLATILE.get(t, ())]
            quoted = ", ".join(f'"{c}"' for c in cols)
            out[t] = tuple(con.execute(f"SELECT count(*), COALESCE(sum(hash({quoted})::HUGEINT), 0) FROM {t}")
                           .fetchall()[0])
        return out
    finally:
        con.close()


def file_sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
