"""Databases for the export tests: a small synthetic city built through the store's own write path,
and the demo city when its generator is available.

The synthetic city (2023–2025, template 2021) has consistent year chains so that the only
findings are the ones planted here, plus the store's own MISSING finding:

* 甲区/明湖街道 2025: two 表三 errors and one warning;
* 甲区/栖云镇 2025: one warning that a reviewer dismisses (must vanish from every export);
* 甲区/砚溪镇 2025: one info finding that a reviewer confirms;
* 乙县/渔歌镇 2025: no report (MISSING);
* 乙县/芦汀镇, 乙县/城关镇 and 甲区/城关镇 (same name, two regions): clean.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from tests.store_helpers import COLS, item_for, make_result

ROOT = Path(__file__).resolve().parents[1]

UNITS = (("明湖街道", "甲区"), ("栖云镇", "甲区"), ("砚溪镇", "甲区"), ("城关镇", "甲区"),
         ("渔歌镇", "乙县"), ("芦汀镇", "乙县"), ("城关镇", "乙县"))
YEARS = (2023, 2024, 2025)

PLANTED = {
    ("明湖街道", 2025): [
        {"rule": "S3-2", "severity": "error", "keys": ["s3.result_total.natural"], "expected": 2, "actual": 3,
         "message": "表三 第（七）项总计 自然人列：应为 2（各办理结果之和），报告为 3"},
        {"rule": "S3-1", "severity": "error", "keys": ["s3.carry_forward.commercial"], "expected": 4, "actual": 5,
         "message": "表三 商业企业列：第三项加第四项之和应为 4（第一项加第二项之和），报告为 5"},
        {"rule": "N-1", "severity": "warning", "keys": ["s3.new_received.total"], "expected": 2, "actual": 1,
         "message": "正文“收到依申请公开信息1件”与表三 第一项 本年新收政府信息公开申请数量 总计列不一致：表中为 2，正文为 1"},
    ],
    ("栖云镇", 2025): [
        {"rule": "S2A-6", "severity": "warning", "keys": ["s2.procurement.amount"],
         "message": "表二 第二十条第（九）项 政府集中采购 采购总金额：未注明单位（元或万元），报告为“255933.8”"},
    ],
    ("砚溪镇", 2025): [
        {"rule": "D09", "severity": "info", "keys": ["s3.noproc_petition.total"],
         "message": "表三 标签“1、信访举报类申请”与模板“1.信访举报投诉类申请”不一致"},
    ],
}
MISSING = {("渔歌镇", 2025)}


def _sections(unit: str, year: int) -> dict[str, str]:
    # Distinct text per year so that X-6 (text copied from last year) does not fire.
    return {"一": f"{year}年，{unit}认真贯彻落实政府信息公开条例，第{year - 2000}号工作方案明确了年度任务。",
            "二": "", "三": "", "四": "", "五": f"针对{year - 1}年度报告提出的问题，{unit}逐项整改完毕。", "六": "无。"}


def build_synthetic_db(folder: Path) -> Path:
    """Write the synthetic city into ``folder/synthetic.duckdb``, dismiss and confirm one finding each."""
    from ingest.store.loader import load_parsed
    from ingest.store.review import set_reviews

    db = folder / "synthetic.duckdb"
    items = []
    for unit, region in UNITS:
        prev = None
        for year in YEARS:
            if (unit, year) in MISSING:
                continue
            co = {c: prev["cells"][f"s3.carry_forward.{c}"] for c in COLS} if prev else None
            r = make_result(unit=unit, region=region, year=year, template="2021", carried_over=co,
                            findings=PLANTED.get((unit, year)), sections=_sections(unit, year),
                            source=f"{region}{unit}{year}年度报告.docx", fmt="docx", seed=len(items),
                            level="街道" if unit.endswith("街道") else unit[-1])
            if prev:
                for row in ("regulation", "normative"):
                    r["cells"][f"s2.{row}.valid"] = (prev["cells"][f"s2.{row}.valid"]
                                                     + r["cells"][f"s2.{row}.issued"]
                                                     - r["cells"][f"s2.{row}.repealed"])
                    r["raw"][f"s2.{row}.valid"] = str(r["cells"][f"s2.{row}.valid"])
            items.append(item_for(r, path=f"/virtual/{region}/{unit}-{year}.docx"))
            prev = r
    load_parsed(db, items)
    con = duckdb.connect(str(db), read_only=True)
    try:
        dismiss = con.execute("SELECT finding_id FROM v_findings WHERE unit = '栖云镇' AND rule = 'S2A-6'").fetchone()
        confirm = con.execute("SELECT finding_id FROM v_findings WHERE unit = '砚溪镇' AND rule = 'D09'").fetchone()
    finally:
        con.close()
    set_reviews(db, [(dismiss[0], "dismissed", "已核实无误"), (confirm[0], "confirmed", "")], reviewer="测试")
    return db


def demo_available() -> bool:
    return (ROOT / "ingest" / "demo" / "generate.py").is_file()


def build_demo_db(folder: Path) -> Path:
    """``python -m ingest demo`` then ``python -m ingest load`` into ``folder`` (minutes on 2 cores)."""
    corpus, db = folder / "demo", folder / "demo.duckdb"
    for args in (["demo", "--out", str(corpus)], ["load", str(corpus), "--db", str(db)]):
        proc = subprocess.run([sys.executable, "-m", "ingest", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"python -m ingest {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return db


def open_findings_sql(db: Path, year: int, where: str = "TRUE", params: list | None = None) -> list[tuple]:
    """Open findings straight from the base tables (not the views the exports read):
    (unit name, region, rule, message) of every finding of ``year`` that no reviewer dismissed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"""
            SELECT u.name, u.region, f.rule, f.message FROM findings f
            JOIN units u USING (unit_id)
            LEFT JOIN finding_reviews r USING (finding_id)
            WHERE f.year = ? AND COALESCE(r.status, 'open') <> 'dismissed' AND ({where})
            ORDER BY 1, 2, 3, 4""", [year, *(params or [])]).fetchall()
    finally:
        con.close()
