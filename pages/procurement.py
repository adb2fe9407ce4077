"""政府采购: 2019–2020 procurement (万元, unknown units flagged) and, separately, 2021+ fees."""

import polars as pl
import streamlit as st

from dashboard import filters, ui
from dashboard.charts import value_bars
from dashboard.data import procurement as procurement_q
from dashboard.data.where import describe

ui.db_guard()
scope = filters.current()

st.title("政府采购")
st.caption(ui.md_escape(describe(scope)))
st.warning("**两个不同的指标，不能相互比较或相加：** 2019–2020 年格式的表二 第二十条第（九）项“政府集中采购”"
           "（采购项目数量、采购总金额）在 2021 年格式中已取消；2021 年格式的表二 第二十条第（八）项"
           "“行政事业性收费 本年收费金额”是收费，不是采购。", icon=":material/compare_arrows:")

st.header("政府集中采购（2019–2020 年格式）")
ptot = procurement_q.procurement_totals(scope)
if not ptot["reports"]:
    ui.empty_state("筛选范围内没有 2019–2020 年格式的采购数据", "请把年度范围放宽到 2019–2020 年，或检查模板筛选")
else:
    proc = ui.with_unit_label(procurement_q.procurement_by_report(scope))
    by_unit = ui.with_unit_label(procurement_q.procurement_by_unit(scope))
    unknown = ui.with_unit_label(procurement_q.procurement_by_report(scope, only_unknown=True))
    ui.kpi_row([
        ("采购项目数合计", ui.fmt_int(ptot["projects"]), "表二 第二十条第（九）项 采购项目数量之和"),
        ("采购总金额合计（万元）", f"{ptot['wan'] or 0:,.2f}", "只含单位明确（元或万元）的金额；元已换算为万元"),
        ("单位不明的金额", f"{ptot['unknown']} 份报告", "报告未注明元或万元，未计入合计，见下表"),
    ])
    chart_df = by_unit.select("单位", pl.col("wan").alias("采购总金额（万元）"),
                              pl.col("projects").alias("采购项目数"), pl.col("unknown").alias("单位不明的年报数"))
    plotted = chart_df.filter(pl.col("采购总金额（万元）").is_not_null())
    ui.show_chart(value_bars(plotted.head(40), "采购总金额（万元）", "各乡镇（街道）政府集中采购总金额（万元）",
                             "采购总金额（万元）", "#00695c",
                             subtitle=f"只含单位明确的金额；{chart_df.height - plotted.height} 个单位的金额全部未注明单位，未画出"),
                  chart_df, "各乡镇（街道）政府集中采购", key="proc_chart")
    if unknown.height:
        st.markdown("**金额未注明单位（元或万元）的报告 —— 未计入上面的合计**")
        ui.show_table(unknown.select("单位", pl.col("region").alias("县市区"), pl.col("year").alias("年度"),
                                     pl.col("raw").alias("报告所印金额"), pl.col("projects").alias("采购项目数")),
                      None, key="proc_unknown", caption="请与单位核实金额单位后更正；规则 S2A-6"
                      + ("（最多列出 500 份）" if ptot["unknown"] > 500 else ""))
    detail = proc.select("单位", pl.col("region").alias("县市区"), pl.col("year").alias("年度"),
                         pl.col("projects").alias("采购项目数"), pl.col("raw").alias("报告所印金额"),
                         pl.col("printed_unit").fill_null("未注明").alias("所印单位"),
                         pl.col("wan").alias("金额（万元）"),
                         pl.when(pl.col("converted")).then(pl.lit("由元换算")).when(pl.col("unknown_unit"))
                         .then(pl.lit("单位不明，未计入")).otherwise(pl.lit("")).alias("说明"))
    with st.expander("逐份报告明细", icon=":material/list:"):
        ui.show_table(detail, None, key="proc_detail")

st.header("行政事业性收费（2021 年起格式）")
ftot = procurement_q.fee_totals(scope)
if not ftot["reports"]:
    ui.empty_state("筛选范围内没有 2021 年起格式的收费数据", "请把年度范围放宽到 2021 年以后，或检查模板筛选")
else:
    fees = ui.with_unit_label(procurement_q.fees_by_report(scope))
    fu = ui.with_unit_label(procurement_q.fees_by_unit(scope))
    ui.kpi_row([
        ("收费金额合计（万元）", f"{ftot['wan'] or 0:,.2f}", "表二 第二十条第（八）项 本年收费金额（单位：万元）之和"),
        ("按元填报、已换算", f"{ftot['converted']} 份报告", "报告按元填写的金额已除以 10000 换算为万元（规则 S2B-3）"),
        ("年报数", ui.fmt_int(ftot["reports"]), None),
    ])
    fchart = fu.select("单位", pl.col("wan").alias("收费金额（万元）"), pl.col("reports").alias("年报数"),
                       pl.col("converted").alias("按元填报的年报数"))
    ui.show_chart(value_bars(fchart.head(40), "收费金额（万元）", "各乡镇（街道）行政事业性收费金额（万元）",
                             "收费金额（万元）", "#5d4037", subtitle="这是收费，不是政府采购"),
                  fchart, "各乡镇（街道）行政事业性收费", key="fee_chart")
    with st.expander("逐份报告明细", icon=":material/list:"):
        ui.show_table(fees.select("单位", pl.col("region").alias("县市区"), pl.col("year").alias("年度"),
                                  pl.col("raw").alias("报告所印金额"), pl.col("printed_unit").fill_null("万元（模板）")
                                  .alias("所印单位"), pl.col("wan").alias("金额（万元）"),
                                  pl.when(pl.col("converted")).then(pl.lit("按元填报，已换算")).otherwise(pl.lit(""))
                                  .alias("说明")), None, key="fee_detail")
