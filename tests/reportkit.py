"""Build small synthetic reports for tests with the demo renderers (ingest.demo)."""

from __future__ import annotations

from pathlib import Path

from ingest.demo.labels import template_keys
from ingest.demo.layout import EXTENSIONS, render
from ingest.demo.report import DemoReport
from ingest.parse import parse_file

# a consistent township year: 3 new applications, 2 granted, 1 无法提供; nothing carried
CLEAN = {
    "s3.new_received.natural": "3", "s3.new_received.total": "3",
    "s3.granted.natural": "2", "s3.granted.total": "2",
    "s3.unable_not_held.natural": "1", "s3.unable_not_held.total": "1",
    "s3.result_total.natural": "3", "s3.result_total.total": "3",
    "s2.license.decisions": "12", "s2.penalty.decisions": "4",
}


def base_report(template: str = "2021", year: int | None = None, unit: str = "栖云镇", **cells: str) -> DemoReport:
    year = year or (2023 if template == "2021" else 2020)
    raw = {k: "0" for k in template_keys(template)}
    raw.update(CLEAN)
    if template == "2019":
        raw["s2.procurement.amount"] = "12.5万元"
        raw["s2.procurement.projects"] = "2"
    raw.update({k.replace("__", "."): v for k, v in cells.items()})
    sections = {
        "一": f"{year}年，{unit}收到政府信息公开申请3件，予以公开2件，无法提供1件。",
        "二": "", "三": "", "四": "",
        "五": "工作人员业务水平有待提高。下一步将加强培训。",
        "六": "本年度未收取信息处理费。",
    }
    return DemoReport(unit=unit, year=year, template=template, cells=raw, sections=sections,
                      published=f"{year + 1}-01-20", unit_level="镇", region="云岭区",
                      issuer=f"示例市云岭区{unit}人民政府",
                      sign_off=[f"示例市云岭区{unit}人民政府", f"{year + 1}年1月20日"])


def set_published(report: DemoReport, iso: str) -> None:
    y, m, d = (int(x) for x in iso.split("-"))
    report.published = iso
    report.sign_off = [report.issuer or report.unit, f"{y}年{m}月{d}日"]


def parse_report(report: DemoReport, tmp: Path, fmt: str = "pipe", name: str = "r") -> dict:
    path = tmp / f"{name}{EXTENSIONS[fmt]}"
    path.write_bytes(render(report, fmt))
    return parse_file(path)


def rules_of(result: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in result["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out
