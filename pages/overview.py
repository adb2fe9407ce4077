"""总览: key figures, the unit × year submission matrix, the most serious open problems."""

import polars as pl
import streamlit as st

from dashboard import charts, filters, ui
from dashboard.data import findings as findings_q
from dashboard.data import overview as overview_q
from dashboard.data.where import describe
from dashboard.labels import SEVERITIES, STATUS_NAMES

ui.db_guard()
scope = filters.current()

st.title("总览")
st.caption(ui.md_escape(describe(scope)))
ui.briefing_buttons(scope)

k = overview_q.overview_kpis(scope)
ui.kpi_row([
    ("乡镇（街道）数", ui.fmt_int(k["units"]), "筛选范围内的单位数"),
    ("已入库年报", ui.fmt_int(k["reports"]), "筛选范围内每个单位每年的现行版本"),
    ("未发布年报", ui.fmt_int(k["missing"]), "应有而没有年报的“单位 × 年度”数"),
    ("本年新收申请", ui.fmt_int(k["received"]), "表三 第一项 本年新收政府信息公开申请数量 总计列之和"),
    ("公开率", ui.fmt_pct(k["rate"]), "（予以公开 + 部分公开）÷ 办理结果总计，只计办理总数大于 0 的报告"),
])

st.subheader("待处理问题")
ui.severity_cards(k["findings"], scope.severities or SEVERITIES)

st.subheader("各单位各年度提交情况")
mode, matrix = overview_q.submission_matrix(scope)
if matrix.is_empty():
    ui.empty_state("筛选范围内没有单位", "请在左侧放宽筛选条件，或在“数据管理”页面导入报告")
elif mode == "unit":
    shown = matrix.select(pl.col("label").alias("单位"), pl.col("year").alias("年度"),
                          pl.col("status").replace_strict(STATUS_NAMES, default="未知").alias("提交情况"),
                          pl.col("errors").alias("错误"), pl.col("warnings").alias("警告"), pl.col("infos").alias("提示"))
    event = ui.show_chart(charts.status_heatmap(matrix, "单位 × 年度 提交情况"), shown, "单位 × 年度 提交情况",
                          key="matrix", on_select="rerun")
    picked = ui.fresh_selection("matrix", (event.selection.get("pick") or []) if event is not None else [])
    if picked:
        sel = picked[0]
        hit = matrix.filter((pl.col("unit_id") == sel.get("unit_id")) & (pl.col("year") == sel.get("year")))
        if hit.height and hit["report_id"][0] is not None:
            ui.open_report(sel["unit_id"], int(sel["year"]))
        elif hit.height:
            st.warning(f"{ui.md_escape(hit['label'][0])} {sel['year']} 年没有已入库的年报。", icon=":material/block:")
    available = matrix.filter(pl.col("report_id").is_not_null())
    if available.height:
        choices = list(zip(available["unit_id"].to_list(), available["year"].to_list(), strict=True))
        names = dict(zip(choices, available["label"].to_list(), strict=True))
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        chosen = c1.selectbox("打开报告（也可直接点击上图的格子）", choices, index=None, key="overview_open",
                              format_func=lambda c: f"{names[c]} {c[1]} 年", placeholder="选择单位和年度")
        if c2.button("打开", key="overview_open_btn", disabled=chosen is None, icon=":material/open_in_new:"):
            ui.open_report(chosen[0], chosen[1])
else:
    shown = matrix.rename({"region": "县市区", "year": "年度", "units": "单位数", "missing": "未发布",
                           "has_errors": "有错误", "wrong_template": "模板不符", "late": "逾期发布",
                           "published": "已发布"})
    ui.show_chart(charts.region_status_heatmap(matrix, "各县市区各年度未发布年报的单位数"), shown,
                  "各县市区各年度提交情况", key="matrix_regions")
    missing = overview_q.missing_reports(scope)
    if missing.height:
        ui.show_table(missing.rename({"unit": "单位", "region": "县市区", "year": "年度"}),
                      "未发布年报的单位（最多列出 500 个）", key="missing_list", height=300)

st.subheader("最严重的待处理问题")
top = findings_q.findings(scope, limit=10)
if top.is_empty():
    ui.empty_state("筛选范围内没有待处理的问题", "可以在左侧调整年度或级别筛选；全部问题见“一致性预警”页面")
else:
    row = ui.findings_table(top, key="top_findings", title="点击一行可打开对应报告并定位到出错的单元格")
    if row is not None:
        f = top.row(row, named=True)
        if f["report_id"] is not None:
            ui.open_report(f["unit_id"], f["year"], cell=(f["keys"] or [None])[0], finding=f["finding_id"])
        else:
            st.info(f"{ui.md_escape(f['unit'])} {f['year']} 年没有已入库的年报，无法打开报告。")
    if st.button("查看全部问题", icon=":material/list:", key="to_findings"):
        st.switch_page(ui.FINDINGS_PAGE)
