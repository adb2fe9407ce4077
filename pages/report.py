"""报告详情: one unit and year — the three tables as in the template, problems, narrative, provenance.

The report shown is named by the URL (``?unit=<unit id>&year=<year>[&cell=<key>]``) so that
a link, the overview matrix and the problem list all open the same view.
"""

import json

import polars as pl
import streamlit as st

from dashboard import filters, report_view, ui
from dashboard.data import options as options_q
from dashboard.data import report as report_q
from dashboard.labels import SEVERITY_NAMES, VERSION_STATUS_NAMES
from ingest.readers import format_name
from ingest.templates import TEMPLATES, template_badge

ui.db_guard()
scope = filters.current()
qp = st.query_params


def _set_unit() -> None:
    st.query_params["unit"] = st.session_state["rpt_unit"]
    for k in ("year", "cell", "finding"):
        st.query_params.pop(k, None)


def _set_year() -> None:
    st.query_params["year"] = str(st.session_state["rpt_year"])
    for k in ("cell", "finding"):
        st.query_params.pop(k, None)


def _goto_year(y: int) -> None:
    st.query_params["year"] = str(y)
    for k in ("cell", "finding"):
        st.query_params.pop(k, None)


st.title("报告详情")

# ---- which unit: the URL, else the last one shown, else the first in the current filter
cand = options_q.unit_options(scope.regions, scope.levels, scope.name, 2000)
labels = dict(zip(cand["unit_id"].to_list(), cand["label"].to_list(), strict=True))
if scope.units:
    labels = {u: labels[u] for u in scope.units if u in labels} or labels
want = qp.get("unit") or st.session_state.get("rpt_unit")
if want and want not in labels:
    labels.update(options_q.unit_labels([want]))
if not labels:
    ui.empty_state("筛选范围内没有单位", "请在左侧放宽筛选条件")
    st.stop()
unit_id = want if want in labels else next(iter(labels))
st.session_state["rpt_unit"] = unit_id
c1, c2 = st.columns([3, 1])
c1.selectbox("乡镇（街道）", list(labels), key="rpt_unit", format_func=lambda u: labels.get(u, u),
             on_change=_set_unit, filter_mode="contains", help="可输入名称的任意部分查找")

years = report_q.report_years(unit_id)
if years.is_empty():
    ui.empty_state("该单位还没有任何年报", "请在“数据管理”页面导入该单位的报告")
    st.stop()
year_status = dict(zip(years["year"].to_list(), years["status"].to_list(), strict=True))
report_ids = dict(zip(years["year"].to_list(), years["report_id"].to_list(), strict=True))
try:
    want_year = int(qp.get("year") or 0)
except ValueError:
    want_year = 0
with_reports = [y for y, r in report_ids.items() if r is not None]
year = want_year if want_year in report_ids else (with_reports[-1] if with_reports else years["year"][-1])
st.session_state["rpt_year"] = year
c2.selectbox("年度", list(report_ids), key="rpt_year", on_change=_set_year,
             format_func=lambda y: f"{y} 年" + ("" if report_ids[y] else "（未发布）"))
if qp.get("unit") != unit_id or qp.get("year") != str(year):
    st.query_params["unit"] = unit_id
    st.query_params["year"] = str(year)

# ---- previous / next year
prev_y, next_y = year - 1, year + 1
nav = st.container(horizontal=True)
nav.button(f"上一年：{prev_y} 年", key="rpt_prev", disabled=prev_y not in report_ids, on_click=_goto_year,
          args=(prev_y,), icon=":material/arrow_back:")
nav.button(f"下一年：{next_y} 年", key="rpt_next", disabled=next_y not in report_ids, on_click=_goto_year,
          args=(next_y,), icon=":material/arrow_forward:")

report_id = report_ids[year]
if report_id is None:
    st.warning(f"{ui.md_escape(labels.get(unit_id, unit_id))} {year} 年没有已入库的年报（未发布或未收集到）。",
               icon=":material/block:")
    st.stop()

meta = report_q.report_meta(report_id)
if meta is None:
    ui.empty_state("找不到这份报告（数据库可能刚刚更新）", "请刷新页面")
    st.stop()
template = meta["template"]
findings = report_q.unit_year_findings(unit_id, year)
open_f = findings.filter(pl.col("review_status") != "dismissed")
counts = {s: open_f.filter(pl.col("severity") == s).height for s in ("error", "warning", "info")}

st.subheader(ui.md_escape(f"{meta['unit']}（{meta['region'] or '县市区未知'}）{year} 年度政府信息公开工作年度报告"))
b = st.container(horizontal=True)
with b:
    st.badge(template_badge(template),
             icon=":material/description:", color="gray")
    st.badge(f"发布日期：{meta['published'] or '未识别'}", icon=":material/event:", color="gray")
    for s in ("error", "warning", "info"):
        if counts[s]:
            ui.severity_badge(s, f"{SEVERITY_NAMES[s]} {counts[s]} 条")
    if not any(counts.values()):
        st.badge("未发现问题", icon=":material/check_circle:", color="green")

# ---- the cell the user came to see
focus = qp.get("cell")
focus_finding = qp.get("finding")
if focus:
    msg = ""
    if focus_finding:
        hit = findings.filter(pl.col("finding_id") == focus_finding)
        if hit.height:
            msg = hit["message"][0]
    st.markdown(f"**定位：** {ui.md_escape(report_view.cell_name(template, focus))}"
                + (f" —— {ui.md_escape(msg)}" if msg else "") + "（表中以黑框和 ◆ 标出）")

cells_df = report_q.report_cells(report_id)
cells = {r["key"]: report_view.CellInfo(r["raw"], r["kind"], r["unit"], r["location"])
         for r in cells_df.iter_rows(named=True)}
marks = report_view.marks_for(open_f.to_dicts(), year)

sections_present = set(cells_df["section"].unique().to_list())


def _absent(section: str, name: str) -> None:
    if section not in sections_present:
        st.warning(f"报告中没有找到{name}（未能读出或报告未提供），下面是模板的空表；相关问题见“问题”标签页。",
                   icon=":material/table_chart:")


TAB_NAMES = ["表三 申请情况", "表二 主动公开", "表四 复议诉讼", f"问题（{open_f.height}）", "正文与数字", "来源与版本"]
# open the tab that holds the cell the user came to see
focus_tab = {"s3": 0, "s2": 1, "s4": 2}.get((focus or "").split(".")[0], 0)
tab3, tab2, tab4, tab_f, tab_n, tab_p = st.tabs(TAB_NAMES, default=TAB_NAMES[focus_tab])
with tab3:
    _absent("s3", "表三（收到和处理政府信息公开申请情况）")
    st.html(report_view.legend() + report_view.table3(template, cells, marks, focus)
            if template in TEMPLATES else "<p>该报告不是 2019 年或 2021 年格式，无法按模板排列表格。</p>")
with tab2:
    _absent("s2", "表二（主动公开政府信息情况）")
    if template in TEMPLATES:
        st.html(report_view.legend() + report_view.table2(template, cells, marks, focus))
with tab4:
    _absent("s4", "表四（行政复议、行政诉讼情况）")
    if template in TEMPLATES:
        st.html(report_view.legend() + report_view.table4(template, cells, marks, focus))
    extra = report_q.report_extra(report_id)
    if extra.height:
        st.markdown("**模板以外的行或单元格（已保留，未纳入核对）**")
        ui.show_table(extra.rename({"table_name": "表", "label": "标签", "values": "内容", "location": "位置"})
                      .drop("seq"), None, key="rpt_extra")
with tab_f:
    if findings.is_empty():
        ui.empty_state("这份报告没有发现问题", "表内勾稽关系、跨年度衔接、正文与表格一致等各项核对均已通过")
    else:
        shown = findings.with_columns(pl.lit(meta["unit"]).alias("unit"), pl.lit(meta["region"]).alias("region"),
                                      pl.lit(year).alias("year"))
        row = ui.findings_table(shown, key="rpt_findings", with_unit=False,
                                title="点击一行可在表中定位该问题涉及的单元格")
        if row is not None:
            f = shown.row(row, named=True)
            key = next((k for k in (f["keys"] or []) if "@" not in k), None)
            if key:
                st.query_params["cell"] = key
                st.query_params["finding"] = f["finding_id"]
                st.rerun()
        st.caption("已排除的问题也列在这里（审核状态为“已排除”），但不在表格中标色。")
with tab_n:
    narrative = meta["narrative"]
    try:
        nums = json.loads(narrative) if isinstance(narrative, str) else (narrative or {})
    except ValueError:
        nums = {}
    if nums:
        st.markdown("**正文中识别出的数字**")
        ui.show_table(pl.DataFrame({"对应表格单元格": [report_view.cell_name(template, k) for k in nums],
                                    "正文数字": [None if v is None else str(v) for v in nums.values()]}),
                      None, key="rpt_narr")
    secs = report_q.report_sections(report_id)
    for s in secs.iter_rows(named=True):
        with st.expander(f"正文第{ui.md_escape(s['section'])}部分", expanded=s["section"] == "一"):
            st.text(s["text"] or "（空）")
with tab_p:
    facts = [("文件名", meta["file_name"]), ("文件位置", meta["source_file"]), ("格式", format_name(meta["format"])),
             ("SHA-256", meta["sha256"]), ("入库时间", str(meta["ingested_at"])),
             ("解析程序版本", meta["parser_version"]), ("版本", f"第 {meta['version']} 版（{VERSION_STATUS_NAMES.get(meta['status'], meta['status'])}）"),
             ("文中的单位名称", meta["unit_raw"]), ("文中的县市区", meta["region_raw"]),
             ("标题年度 / 统计期限年度", f"{meta['title_year']} / {meta['period_year']}"),
             ("引用的格式文件", meta["cited_format_doc"]), ("单元格数", str(meta["n_cells"]))]
    ui.show_table(pl.DataFrame({"项目": [a for a, _ in facts], "内容": ["" if b is None else str(b) for _, b in facts]}),
                  "来源", key="rpt_prov")
    versions = report_q.report_versions(unit_id, year)
    ui.show_table(versions.select(pl.col("version").alias("版本"),
                                  pl.col("status").replace_strict(VERSION_STATUS_NAMES, default="其他").alias("状态"),
                                  pl.col("file_name").alias("文件名"), pl.col("format").map_elements(format_name, return_dtype=pl.String).alias("格式"),
                                  pl.col("ingested_at").alias("入库时间"), pl.col("parser_version").alias("解析程序版本"),
                                  pl.col("sha256").alias("SHA-256")),
                  "该单位该年度的全部版本", key="rpt_versions")
