"""The 简报 (.docx) and the 整改清单 (.xlsx) for a year and a filter, from the app or the command line.

``python -m ingest briefing --year 2025 --out briefing.docx [--rectification 整改清单.xlsx]`` calls
:func:`run_briefing_cli`; the app calls :func:`build_briefing` / :func:`build_rectification` for
its download buttons.  Both documents come from one :class:`~dashboard.briefing_data.BriefingData`
read, so the figures, the charts and the problem lists agree.  Only open problems are listed
(open or confirmed; dismissed findings are left out).
"""

from __future__ import annotations

import dataclasses
import io
import os
import struct
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

import polars as pl
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from openpyxl import Workbook

from dashboard import docx_util as D
from dashboard.briefing_data import (
    BriefingData,
    BriefingError,
    chart_applications,
    chart_outcomes,
    chart_submission,
    fmt_number,
    load_briefing_data,
    problem_table,
    ranking_table,
    scope_kwargs,
)
from dashboard.export import chart_png, sheet_title, workbook_bytes, write_table, xml_frame, xml_text
from dashboard.labels import SEVERITY_NAMES, STATUS_NAMES
from ingest.store.db import DatabaseMissing

SEVERITY_COLORS = {"error": "C00000", "warning": "C55A11", "info": "595959"}
PICTURE_WIDTH_CM = 16.0
PICTURE_MAX_HEIGHT_CM = 20.0
PNG_SCALE = 2.0  # 16 cm wide pictures at about 180 ppi; scale 3 doubles the export time


# ------------------------------------------------------------------ public API

def build_briefing(db_path: str, *, year: int | None, region: str | Sequence[str] | None = None,
                   townships: Sequence[str] | None = None, levels: Sequence[str] | None = None,
                   name_contains: str | None = None, area: str | None = None) -> bytes:
    """The briefing .docx for the filter (``year`` None: the latest year in the database).

    From the app: ``build_briefing(db, **scope_kwargs(scope))`` briefs the sidebar's filter.
    """
    return briefing_docx(load_briefing_data(db_path, year=year, region=region, townships=townships,
                                            levels=levels, name_contains=name_contains, area=area))


def build_rectification(db_path: str, *, year: int | None, region: str | Sequence[str] | None = None,
                        townships: Sequence[str] | None = None, levels: Sequence[str] | None = None,
                        name_contains: str | None = None, area: str | None = None) -> bytes:
    """The 整改清单 .xlsx: a 汇总 sheet with a township column, then one sheet per township with problems."""
    return rectification_xlsx(load_briefing_data(db_path, year=year, region=region, townships=townships,
                                                 levels=levels, name_contains=name_contains, area=area))


def briefing_charts(d: BriefingData) -> list[tuple[str, object]]:
    """(caption, Altair chart) of the pictures the briefing embeds, in order."""
    return [
        (f"各乡镇（街道）{d.year} 年度本年新收政府信息公开申请数", chart_applications(d)),
        (f"{d.year} 年度政府信息公开申请办理结果构成", chart_outcomes(d)),
        (f"各乡镇（街道）年度报告发布情况（截至 {d.year} 年度）", chart_submission(d)),
    ]


# ------------------------------------------------------------------ the Word document

def xml_safe(d: BriefingData) -> BriefingData:
    """``d`` with every text that goes into a file cleaned of XML-invalid characters (see export.xml_text)."""
    def names(xs: list[str] | None) -> list[str] | None:
        return None if xs is None else [xml_text(x) for x in xs]
    return dataclasses.replace(
        d, area=xml_text(d.area), scope=xml_text(d.scope), data_date=xml_text(d.data_date),
        regions=names(d.regions), townships=names(d.townships), units=xml_frame(d.units),
        status=xml_frame(d.status), measures=xml_frame(d.measures), findings=xml_frame(d.findings))


def briefing_docx(d: BriefingData) -> bytes:
    d = xml_safe(d)
    doc = Document()
    D.prepare_document(doc)
    doc.core_properties.title = d.title
    doc.core_properties.author = "年报监测"
    head, sep, rest = d.title.partition("年度")
    title = doc.add_paragraph(style="Title")   # place and year on the first line, the subject on the second
    title.add_run(head + sep)
    title.add_run().add_break()
    title.add_run(rest)
    for line in (d.scope, f"数据日期：{d.data_date}    生成时间：{datetime.now():%Y-%m-%d %H:%M}"):
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    doc.add_heading("一、总体情况", level=1)
    doc.add_paragraph(summary_sentence(d))
    D.add_table(doc, ["指标", "数值"], key_figure_rows(d), [7.5, 8.5], size=10.5)

    doc.add_heading("二、主要图表", level=1)
    for i, (caption, chart) in enumerate(briefing_charts(d), start=1):
        png = chart_png(chart, title=caption, scope=d.scope, data_date=d.data_date, scale=PNG_SCALE)
        doc.add_picture(io.BytesIO(png), **_picture_size(png))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        doc.paragraphs[-1].paragraph_format.keep_with_next = True   # the caption stays with its picture
        cap = doc.add_paragraph(f"图{i}  {caption}", style="Caption")
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER

    doc.add_heading("三、各乡镇（街道）情况排名", level=1)
    intro = doc.add_paragraph("按未排除的错误、警告条数从多到少排列；公开率为予以公开与部分公开之和占办理结果总计的比例。")
    intro.paragraph_format.keep_with_next = True
    rank = ranking_table(d)
    rows = [[r[0], r[1], r[2] or "—", r[3], fmt_number(r[4]), fmt_number(r[5]),
             "—" if r[6] is None else f"{r[6]:.1%}", r[7], r[8], r[9]] for r in rank.iter_rows()]
    D.add_table(doc, ["排名", "乡镇（街道）", "所属地区", "报告状态", "本年新收（件）", "办结（件）", "公开率",
                      "错误", "警告", "提示"], rows, [1.1, 2.9, 1.8, 1.8, 1.7, 1.5, 1.6, 1.1, 1.1, 1.1],
                size=9, align_right=(4, 5, 6, 7, 8, 9),
                colors=[[None] * 7 + ["C00000" if r[7] else None, None, None] for r in rank.iter_rows()])

    doc.add_heading("四、问题清单（按乡镇（街道））", level=1)
    _problem_sections(doc, d)

    doc.add_heading("五、说明", level=1)
    for line in NOTES:
        doc.add_paragraph(line, style="List Bullet")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


NOTES = (
    "数据来自已导入的各乡镇（街道）政府信息公开工作年度报告；同一单位同一年度有多个版本时，以最新导入的版本为准。",
    "申请数、办理结果按表三“总计”列统计，分项之和不与合计重复相加；报告中空白或“/”的单元格不计为 0 以外的数值。",
    "问题由规则自动核对得出，“错误”为表内勾稽关系不成立等确定性问题，“警告”需人工核实，“提示”为格式或表述方面的提醒；"
    "已由审核人员排除的问题不列入本简报。",
    "“问题所在”按年度报告格式中的表、行、列名称标注，“原文位置”指该单元格在报告文件中的位置。",
)


def _picture_size(png: bytes) -> dict:
    """16 cm wide, or 20 cm high for tall charts, so that a picture and its caption share a page."""
    w, h = struct.unpack(">II", png[16:24])
    if w and h / w * PICTURE_WIDTH_CM > PICTURE_MAX_HEIGHT_CM:
        return {"height": Cm(PICTURE_MAX_HEIGHT_CM)}
    return {"width": Cm(PICTURE_WIDTH_CM)}


def summary_sentence(d: BriefingData) -> str:
    f = d.figures
    rate = "—" if f["disclosure_rate"] is None else f"{f['disclosure_rate']:.1%}"
    missing = f"，{f['missing']} 个未发布" if f["missing"] else "，均已发布"
    return (f"{d.year} 年度，{d.scope.removeprefix('范围：')}中，{f['published']} 个已发布年度报告{missing}。"
            f"各单位本年新收政府信息公开申请共 {f['received']} 件，办理结果总计 {f['result_total']} 件，"
            f"公开率 {rate}。核对发现未排除的问题：错误 {f['errors']} 条、警告 {f['warnings']} 条、"
            f"提示 {f['infos']} 条，涉及 {f['units_with_problems']} 个乡镇（街道）。")


def key_figure_rows(d: BriefingData) -> list[list[str]]:
    f = d.figures
    missing_names = d.status.filter((pl.col("year") == d.year) & (pl.col("status") == "missing"))["label"].to_list()
    missing = f"{f['missing']} 个" + (f"（{'、'.join(missing_names)}）" if 0 < len(missing_names) <= 12 else "")
    rate = "—" if f["disclosure_rate"] is None else f"{f['disclosure_rate']:.1%}"
    return [
        ["乡镇（街道）数", f"{f['units']} 个"],
        ["已发布年度报告", f"{f['published']} 个"],
        ["未发布年度报告", missing],
        ["本年新收政府信息公开申请", f"{fmt_number(f['received'])} 件"],
        ["上年结转政府信息公开申请", f"{fmt_number(f['carried_over'])} 件"],
        ["办理结果总计", f"{fmt_number(f['result_total'])} 件"],
        ["公开率（予以公开＋部分公开）", rate],
        ["行政复议 / 行政诉讼", f"{fmt_number(f['reviews'])} 件 / {fmt_number(f['suits'])} 件"],
        ["问题（不含已排除）", f"错误 {f['errors']} 条，警告 {f['warnings']} 条，提示 {f['infos']} 条"],
        ["有问题的乡镇（街道）", f"{f['units_with_problems']} 个"],
    ]


def _problem_sections(doc, d: BriefingData) -> None:
    if d.findings.is_empty():
        doc.add_paragraph("所选范围内未发现未排除的问题。")
        return
    doc.add_paragraph("每个乡镇（街道）一节，按严重程度排列。“应为”是规则计算的数值，“报告为”是报告中填写的数值。")
    status = dict(d.status.filter(pl.col("year") == d.year).select("unit_id", "status").iter_rows())
    for n, ((unit_id,), group) in enumerate(d.findings.group_by(["unit_id"], maintain_order=True), start=1):
        first = group.row(0, named=True)
        sev = dict(group.group_by("severity").len().iter_rows())
        counts = "，".join(f"{SEVERITY_NAMES[s]} {sev[s]} 条" for s in ("error", "warning", "info") if sev.get(s))
        doc.add_heading(f"（{D.cn_number(n)}）{first['label']}：{counts}", level=2)
        files = sorted({x for x in group["file_name"].to_list() if x})
        meta = [f"所属地区：{first['region'] or '未知'}",
                f"报告状态：{STATUS_NAMES.get(status.get(unit_id) or 'missing')}"]
        if files:
            meta.append(f"报告文件：{'、'.join(files)}")
        p = doc.add_paragraph("；".join(meta))
        p.paragraph_format.space_after = Pt(3)
        p.paragraph_format.keep_with_next = True   # heading and this line stay with the table
        rows, colors = [], []
        for i, r in enumerate(group.iter_rows(named=True), start=1):
            sev_text = SEVERITY_NAMES.get(r["severity"], r["severity"])
            if r["review_status"] == "confirmed":
                sev_text += "（已确认）"
            where = r["where"] or "—"
            if r["location"]:
                where += f"\n（原文{r['location']}）"
            rows.append([i, sev_text, where, r["what"], fmt_number(r["expected"]), fmt_number(r["actual"])])
            colors.append([None, SEVERITY_COLORS.get(r["severity"]), None, None, None, None])
        D.add_table(doc, ["序号", "严重程度", "问题所在", "问题说明", "应为", "报告为"], rows,
                    [1.1, 1.7, 4.4, 6.0, 1.5, 1.5], size=9, colors=colors, align_right=(4, 5))


# ------------------------------------------------------------------ the workbook

def rectification_xlsx(d: BriefingData) -> bytes:
    d = xml_safe(d)
    wb = Workbook()
    ws = wb.active
    problems = problem_table(d.findings)
    ws.title = "汇总"
    write_table(ws, problems, title=f"{d.area + ' ' if d.area else ''}{d.year} 年度政府信息公开工作年度报告整改清单"
                f"（共 {problems.height} 条，不含已排除的问题；{d.scope}；数据日期 {d.data_date}）",
                wrap_columns=("问题所在", "问题说明"))
    taken = [ws.title]
    for (_unit_id,), group in d.findings.group_by(["unit_id"], maintain_order=True):
        label = group["label"][0]
        name = sheet_title(label, taken)
        taken.append(name)
        sheet = wb.create_sheet(name)
        table = problem_table(group).drop("乡镇（街道）", "所属地区")
        region = group["region"][0]
        write_table(sheet, table, title=f"{label}{'（' + region + '）' if region else ''} {d.year} 年度报告整改清单"
                    f"（共 {table.height} 条）", wrap_columns=("问题所在", "问题说明"))
    return workbook_bytes(wb)


# ------------------------------------------------------------------ command line

def _write_atomic(path: Path, data: bytes) -> None:
    """Write next to the target and rename, so a scheduled run never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save(path_text: str, make: Callable[[], bytes], err: TextIO) -> Path | None:
    path = Path(path_text).expanduser().resolve()
    try:
        _write_atomic(path, make())
    except PermissionError:
        print(f"无法写入 {path}：没有写入权限，或该文件正被 Word/WPS/Excel 打开（请关闭后重试）", file=err)
        return None
    except OSError as e:
        print(f"无法写入 {path}：{e.strerror or e}", file=err)
        return None
    return path


def run_briefing_cli(db: str, year: int | None, region: str | None, out: str, rectification: str | None,
                     *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``python -m ingest briefing``: write the briefing (and the 整改清单); returns the exit status.

    0 written; 1 a file could not be written or an internal error; 2 nothing to write (no
    database, unknown year or region).
    """
    out_s, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        data = load_briefing_data(db, year=year, region=region)
    except (DatabaseMissing, BriefingError) as e:
        print(f"无法生成简报：{e}", file=err)
        return 2
    except Exception as e:
        print(f"无法生成简报：读取数据库 {db} 时出错（{type(e).__name__}: {e}）", file=err)
        return 1
    try:
        written = _save(out, lambda: briefing_docx(data), err)
        if written is None:
            return 1
        f = data.figures
        print(f"简报已写入：{written}（{data.year} 年度；{data.scope}；问题 {f['errors']} 条错误、"
              f"{f['warnings']} 条警告、{f['infos']} 条提示）", file=out_s)
        if rectification:
            saved = _save(rectification, lambda: rectification_xlsx(data), err)
            if saved is None:
                return 1
            print(f"整改清单已写入：{saved}（{f['units_with_problems']} 个乡镇（街道），"
                  f"共 {data.findings.height} 条问题）", file=out_s)
    except Exception as e:
        print(f"生成简报时发生内部错误（{type(e).__name__}: {e}），请将此信息反馈给维护人员", file=err)
        return 1
    return 0


__all__ = ["BriefingError", "briefing_charts", "briefing_docx", "build_briefing", "build_rectification",
           "rectification_xlsx", "run_briefing_cli", "scope_kwargs"]
