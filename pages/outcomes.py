"""办理结果: outcome shares per township, reasons within the refusal groups, 公开率."""

import polars as pl
import streamlit as st

from dashboard import filters, ui
from dashboard.charts import outcome_share, rate_bars, reason_bars
from dashboard.data import outcomes as outcomes_q
from dashboard.data import volume as volume_q
from dashboard.data.where import describe
from dashboard.labels import OUTCOME_NAMES, OUTCOME_ORDER

ui.db_guard()
scope = filters.current()

st.title("办理结果")
st.caption(ui.md_escape(describe(scope)) + "　·　数据来自表三 第三项 本年度办理结果（总计列）。")
st.info("**口径说明：** 2019 年格式的“（六）其他处理”是一行；2021 年格式把它分为三行"
        "（逾期不补正、逾期未缴费、其他）。本页把 2021 年格式的三行相加后与 2019 年格式的单行作为同一类“其他处理”比较。",
        icon=":material/merge_type:")

TOP = 30
by_unit = outcomes_q.outcomes_by_unit(scope, TOP)
if by_unit.is_empty():
    ui.empty_state("筛选范围内没有办理结果数据", "请放宽左侧的筛选条件，或在“数据管理”页面导入报告")
    st.stop()
by_unit = ui.with_unit_label(by_unit)
n_units = volume_q.count_units(scope, "AND result_total > 0")
top = by_unit
order = {name: i for i, name in enumerate(OUTCOME_ORDER)}
long = (top.select("单位", *OUTCOME_NAMES, "handled")
        .unpivot(index=["单位", "handled"], on=list(OUTCOME_NAMES), variable_name="g", value_name="件数")
        .with_columns(pl.col("g").replace_strict(OUTCOME_NAMES).alias("办理结果"),
                      pl.col("件数").fill_null(0))
        .with_columns((pl.col("件数") / pl.col("handled")).alias("占比"),
                      pl.col("办理结果").replace_strict(order, return_dtype=pl.Int32).alias("序号"))
        .select("单位", "办理结果", "件数", "占比", "序号"))
note = f"（办理总数最多的 {TOP} 个，共 {n_units} 个）" if n_units > TOP else ""
ui.show_chart(outcome_share(long, f"各乡镇（街道）办理结果构成{note}"), long.drop("序号"),
              "各乡镇（街道）办理结果构成", key="out_share")

st.subheader("不予公开、无法提供、不予处理的理由")
reasons = outcomes_q.reason_totals(scope)
rs = (reasons.filter(pl.col("n").fill_null(0) > 0)
      .select(pl.col("group").alias("办理结果"), pl.col("reason").alias("理由"), pl.col("n").alias("件数"))
      .with_columns((pl.col("办理结果") + pl.lit("｜") + pl.col("理由")).alias("理由标签")))
if rs.is_empty():
    ui.empty_state("筛选范围内没有不予公开、无法提供、不予处理或其他处理的申请", "这些理由只在相应件数大于 0 时显示")
else:
    ui.show_chart(reason_bars(rs, "各类理由的件数（筛选范围合计）"), rs.drop("理由标签"), "各类理由的件数",
                  key="out_reasons")

st.subheader("公开率比较")
tot = outcomes_q.outcome_totals(scope)
overall = ((tot["granted"] or 0) + (tot["partial"] or 0)) / tot["handled"] if tot["handled"] else None
RATE_MAX = 60
rates = (ui.with_unit_label(outcomes_q.outcomes_by_unit(scope, RATE_MAX, order="rate")).filter(pl.col("rate").is_not_null())
         .select("单位", pl.col("rate").alias("公开率"), pl.col("disclosed").alias("公开件数"),
                 pl.col("handled").alias("办理总数"))
         .sort("公开率", descending=True))
ui.show_chart(rate_bars(rates, overall, "各乡镇（街道）公开率"
                        + (f"（公开率最高的 {RATE_MAX} 个，共 {n_units} 个）" if n_units > RATE_MAX else "")),
              rates, "各乡镇（街道）公开率", key="out_rate")
st.caption("公开率 =（予以公开 + 部分公开）÷ 办理结果总计；办理总数为 0 的单位不计入。")
