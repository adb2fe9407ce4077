"""申请量: new and carried-over applications by township, stacked by applicant type."""

import polars as pl
import streamlit as st

from dashboard import filters, ui
from dashboard.charts import applicant_by_year, applicant_stacked
from dashboard.data import volume as volume_q
from dashboard.data.snapshot import APPLICANT_COLS
from dashboard.data.where import describe
from dashboard.labels import APPLICANT_NAMES

ui.db_guard()
scope = filters.current()

st.title("申请量")
st.caption(ui.md_escape(describe(scope)) + "　·　数据来自表三 第一项“本年新收”和第二项“上年结转”，"
           "按申请人类型（自然人及五类法人或其他组织）分列；图中只叠加各申请人列，不把总计列与各列相加。")

MEASURES = {"new": "本年新收", "co": "上年结转", "both": "新收与结转合计"}
TOP = 30

RANK_MAX = 300
by_unit = volume_q.applications_by_unit(scope, RANK_MAX)
n_units = int(by_unit["n_units"][0]) if by_unit.height else 0
if by_unit.is_empty():
    ui.empty_state("筛选范围内没有年报数据", "请在左侧放宽筛选条件（年度、县市区、模板），或在“数据管理”页面导入报告")
    st.stop()
by_unit = ui.with_unit_label(by_unit)

measure = st.segmented_control("口径", list(MEASURES), default="both", format_func=MEASURES.get,
                               key="vol_measure", required=True)
prefixes = ["new", "co"] if measure == "both" else [measure]
order = {name: i for i, name in enumerate(APPLICANT_NAMES.values())}

long = (by_unit.select("单位", *[pl.col(f"{p}_{c}") for p in prefixes for c in APPLICANT_COLS])
        .unpivot(index="单位", variable_name="col", value_name="件数")
        .with_columns(pl.col("col").str.split_exact("_", 1).struct.field("field_1").alias("c0"),
                      pl.col("col").str.replace(r"^(new|co)_", "").alias("c"))
        .with_columns(pl.col("c").replace_strict(APPLICANT_NAMES).alias("申请人类型"))
        .group_by("单位", "申请人类型", maintain_order=True).agg(pl.col("件数").sum())
        .with_columns(pl.col("申请人类型").replace_strict(order, return_dtype=pl.Int32).alias("序号")))
totals = long.group_by("单位").agg(pl.col("件数").sum().alias("合计")).sort("合计", descending=True)
top_units = totals.head(TOP)["单位"].to_list()
sub = f"按{MEASURES[measure]}件数排序" + (f"，只显示前 {TOP} 个（共 {n_units} 个，排名见下表）"
                                     if n_units > TOP else "")
ui.show_chart(applicant_stacked(long.filter(pl.col("单位").is_in(top_units)),
                                f"各乡镇（街道）{MEASURES[measure]}申请量（按申请人类型）", sub),
              long.filter(pl.col("单位").is_in(top_units)).drop("序号"),
              f"各乡镇（街道）{MEASURES[measure]}申请量", key="vol_chart")

st.subheader("申请量排名")
rank = (by_unit.with_columns(
            pl.sum_horizontal([pl.col(f"new_{c}") for c in APPLICANT_COLS[1:]]).alias("法人或其他组织"))
        .sort(pl.col("received").fill_null(0) + pl.col("carried").fill_null(0), descending=True)
        .with_row_index("排名", offset=1)
        .select("排名", "单位", pl.col("region").alias("县市区"), pl.col("reports").alias("年报数"),
                pl.col("received").alias("本年新收（总计列）"), pl.col("carried").alias("上年结转（总计列）"),
                pl.col("new_natural").alias("本年新收·自然人"), pl.col("法人或其他组织").alias("本年新收·法人或其他组织"),
                pl.when(pl.col("mismatch")).then(pl.lit("各申请人列之和与总计列不符，见一致性预警"))
                .otherwise(pl.lit("")).alias("核对")))
ui.show_table(rank, None, key="vol_rank", height=min(38 * (rank.height + 1), 520),
              caption="总计列取报告所印的总计（空白时取各列之和）；“法人或其他组织”为五类组织之和"
              + (f"；共 {n_units} 个单位，只列出申请量最多的 {RANK_MAX} 个" if n_units > RANK_MAX else ""))

st.subheader("逐年比较")
by_year = volume_q.applications_by_year(scope)
ylong = (by_year.select("year", *[f"{p}_{c}" for p in ("new", "co") for c in APPLICANT_COLS])
         .unpivot(index="year", variable_name="col", value_name="件数")
         .with_columns(pl.when(pl.col("col").str.starts_with("new_")).then(pl.lit("本年新收"))
                       .otherwise(pl.lit("上年结转")).alias("口径"),
                       pl.col("col").str.replace(r"^(new|co)_", "").replace_strict(APPLICANT_NAMES).alias("申请人类型"),
                       pl.col("year").cast(pl.String).alias("年度"))
         .with_columns(pl.col("申请人类型").replace_strict(order, return_dtype=pl.Int32).alias("序号"))
         .select("年度", "口径", "申请人类型", "件数", "序号"))
ui.show_chart(applicant_by_year(ylong, "各年度申请量（按申请人类型）"), ylong.drop("序号"),
              "各年度申请量", key="vol_year_chart")

per = volume_q.received_unit_year(scope)
if per.height:
    per = ui.with_unit_label(per)
    wide = (per.pivot(on="year", index=["单位", "region"], values="received", sort_columns=True)
            .rename({"region": "县市区"}))
    wide = wide.rename({c: f"{c} 年" for c in wide.columns if c.isdigit()})
    ui.show_table(wide, "各乡镇（街道）逐年本年新收申请数（总计列）", key="vol_pivot",
                  height=min(38 * (wide.height + 1), 520),
                  caption="空白表示该年度没有已入库的年报" + ("（只列出申请量最多的 300 个单位）" if wide.height >= 300 else ""))
