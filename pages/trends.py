"""年度趋势: a measure over the years, year-on-year changes, and the 结转 chain."""

import polars as pl
import streamlit as st

from dashboard import filters, ui
from dashboard.charts import chain_heatmap, total_trend, trend_lines
from dashboard.data import trends as trends_q
from dashboard.data.where import describe
from dashboard.labels import CHAIN_NAMES

ui.db_guard()
scope = filters.current()

st.title("年度趋势")
st.caption(ui.md_escape(describe(scope)))

measure = st.selectbox("指标", list(trends_q.MEASURES), format_func=lambda m: trends_q.MEASURES[m][0],
                       key="trend_measure")
name, _, is_rate = trends_q.MEASURES[measure]

totals = trends_q.measure_by_year(scope, measure)
if totals.is_empty():
    ui.empty_state("筛选范围内没有年报数据", "请放宽左侧的筛选条件，或在“数据管理”页面导入报告")
    st.stop()
tdf = totals.select(pl.col("year").cast(pl.String).alias("年度"), pl.col("value").alias("数值"),
                    pl.col("reports").alias("报告数"))
ui.show_chart(total_trend(tdf, name, is_rate, f"筛选范围合计：{name}"), tdf, f"各年度合计：{name}",
              key="trend_total")

MAX_LINES = 10
if scope.units:
    per = trends_q.measure_by_unit_year(scope, measure, list(scope.units)[:MAX_LINES])
    how = "左侧选定的乡镇（街道）" + (f"（只画前 {MAX_LINES} 个）" if len(scope.units) > MAX_LINES else "")
else:
    per = trends_q.measure_by_top_units(scope, measure, MAX_LINES)
    how = f"该指标最高的 {MAX_LINES} 个乡镇（街道）；在左侧“乡镇（街道）”中选择可指定要比较的单位"
if per.height:
    pdf = per.select(pl.col("label").alias("单位"), pl.col("year").cast(pl.String).alias("年度"),
                     pl.col("value").alias("数值"))
    ui.show_chart(trend_lines(pdf, name, is_rate, f"各乡镇（街道）{name}"), pdf, f"各乡镇（街道）{name}",
                  key="trend_units")
    st.caption("图中单位：" + how)

st.subheader("同比变化（按变化幅度排序）")
yoy = trends_q.yoy_changes(scope, measure)
if yoy.is_empty():
    ui.empty_state("没有可比较的相邻年度", "同比需要同一单位相邻两年的年报；请把年度范围放宽到至少两年")
else:
    yoy = yoy.with_columns(pl.col("unit").alias("单位"))
    ui.show_table(yoy.select("单位", pl.col("region").alias("县市区"), pl.col("year").alias("年度"),
                             pl.col("prev").alias("上年"), pl.col("value").alias("本年"),
                             pl.col("change").alias("变化"), pl.col("pct").alias("变化率")),
                  None, key="trend_yoy", height=min(38 * (yoy.height + 1), 420),
                  column_config={"变化率": st.column_config.NumberColumn(format="percent"),
                                 "上年": st.column_config.NumberColumn(format="%.4g" if is_rate else "%g"),
                                 "本年": st.column_config.NumberColumn(format="%.4g" if is_rate else "%g"),
                                 "变化": st.column_config.NumberColumn(format="%+.4g" if is_rate else "%+g")},
                  caption="最多列出变化最大的 300 项；变化率以上年数值为基数")

st.subheader("结转衔接：上年“结转下年度继续办理”与本年“上年结转”")
CHAIN_ALL_UP_TO = 60      # more units than this: the matrix is not drawn and only breaks are listed
counts, chain = trends_q.carry_chain_overview(scope, CHAIN_ALL_UP_TO)
if not counts["units"]:
    ui.empty_state("没有可检查的结转衔接", "需要同一单位相邻两年的年报；请把年度范围放宽到至少两年")
else:
    ui.kpi_row([("衔接断开", ui.fmt_int(counts.get("break", 0)), "上一年结转下年度 ≠ 本年上年结转（总计列）"),
                ("衔接一致", ui.fmt_int(counts.get("ok", 0)), None),
                ("无法比较", ui.fmt_int(counts.get("unknown", 0) + counts.get("no_prev", 0)),
                 "上一年没有报告，或任一年缺少表三的数字")])
    n_units = counts["units"]
    chain = ui.with_unit_label(chain)
    shown = chain.select("单位", pl.col("region").alias("县市区"), pl.col("year").cast(pl.String).alias("年度"),
                         pl.col("state").replace_strict(CHAIN_NAMES).alias("衔接"),
                         pl.col("prev_carry_forward").alias("上年结转下年度"), pl.col("carried_over").alias("本年上年结转"),
                         pl.col("diff").alias("差额"))
    if n_units <= CHAIN_ALL_UP_TO:
        plot = shown.with_columns(pl.when(pl.col("衔接") == CHAIN_NAMES["break"])
                                  .then(pl.col("差额").cast(pl.Int64).cast(pl.String)).otherwise(pl.lit(""))
                                  .alias("差额标记"))
        ui.show_chart(chain_heatmap(plot, "结转衔接情况"), shown, "结转衔接情况", key="trend_chain")
    else:
        st.caption(f"单位较多（{n_units} 个），不画矩阵；请在左侧缩小范围。下表列出衔接断开的情况。")
    if counts.get("break"):
        ui.show_table(shown.filter(pl.col("衔接") == CHAIN_NAMES["break"]), "衔接断开的单位和年度",
                      key="trend_breaks", caption="逐列的差异见“一致性预警”页面的规则 X-1"
                      + ("（最多列出差额最大的 500 项）" if counts["break"] > 500 else ""))
