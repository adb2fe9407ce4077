"""Every chart of the dashboard: Altair, one style, Chinese titles, axes and tooltips.

Colours are data: the six outcome groups (予以公开 … 其他处理), the applicant types and the
submission states each have ONE colour map (:mod:`dashboard.labels`) used on every page.  Charts take tidy polars
frames whose column names are already Chinese where they show up in tooltips.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard.labels import (
    APPLICANT_COLORS,
    APPLICANT_ORDER,
    CHAIN_COLORS,
    CHAIN_ORDER,
    OUTCOME_COLORS,
    OUTCOME_ORDER,
    STATUS_COLORS,
    STATUS_NAMES,
    STATUS_ORDER,
    STATUS_SHORT,
)

FONT = "Noto Sans CJK SC"

# Altair validates every schema object as it is built ("debug mode"): ~20 ms per chart, the largest
# part of a page re-render.  The complete spec is still validated once when Streamlit (or the
# export) converts it with ``to_dict()``, so an invalid chart still fails loudly.
alt.utils.schemapi.disable_debug_mode()

def outcome_scale() -> alt.Scale:
    return alt.Scale(domain=OUTCOME_ORDER, range=OUTCOME_COLORS)


def applicant_scale() -> alt.Scale:
    return alt.Scale(domain=APPLICANT_ORDER, range=APPLICANT_COLORS)


def status_scale() -> alt.Scale:
    return alt.Scale(domain=STATUS_ORDER, range=STATUS_COLORS)


def _config() -> alt.Config:
    return alt.Config(
        font=FONT,
        axis=alt.AxisConfig(labelFont=FONT, titleFont=FONT, labelFontSize=12, titleFontSize=12, labelLimit=260),
        legend=alt.LegendConfig(labelFont=FONT, titleFont=FONT, orient="bottom", labelLimit=320, columns=3),
        header=alt.HeaderConfig(labelFont=FONT, titleFont=FONT),
        text=alt.MarkConfig(font=FONT),
        view=alt.ViewConfig(strokeWidth=0))


def style(chart: alt.TopLevelMixin, title: str, subtitle: str | None = None) -> alt.TopLevelMixin:
    """The one house style: Chinese font everywhere, title on the left, legend at the bottom.

    Set in place (Altair's ``.configure_*`` chain deep-copies the whole chart at every step).
    """
    chart.title = alt.TitleParams(title, subtitle=subtitle or "", anchor="start", fontSize=15, subtitleFontSize=12,
                                  font=FONT, subtitleFont=FONT)
    # Streamlit sizes charts with "fit"; fitting only the width keeps the plot height we set
    # (otherwise a title and a bottom legend squeeze the rows to nothing).
    chart.autosize = alt.AutoSizeParams(type="fit-x", contains="padding")
    chart.config = _config()
    return chart


def _size(chart: alt.TopLevelMixin, height: int) -> alt.TopLevelMixin:
    chart.height = height
    chart.width = "container"
    return chart


def _layer(data: pl.DataFrame, *layers: alt.Chart) -> alt.LayerChart:
    """Layers sharing one data frame, given once at the top: Altair copies every layer that carries
    its own data when it builds (and again when it converts) a layer chart."""
    return alt.LayerChart(data=data, layer=list(layers))


def _bar_height(n: int, per: int = 24, lo: int = 160) -> int:
    return max(lo, per * n + 40)


# Channels are always built from explicit field/type arguments: Altair's shorthand strings
# ("年度:O") are parsed through its schema machinery and cost ~40 ms per chart.
_TYPES = {"N": "nominal", "O": "ordinal", "Q": "quantitative"}


def _tips(df: pl.DataFrame, fields: list[str], formats: dict[str, str] | None = None,
          titles: dict[str, str] | None = None) -> list[alt.Tooltip]:
    out = []
    for f in fields:
        kw: dict = {}
        if formats and f in formats:
            kw["format"] = formats[f]
        if titles and f in titles:
            kw["title"] = titles[f]
        out.append(alt.Tooltip(field=f, type="quantitative" if df[f].dtype.is_numeric() else "nominal", **kw))
    return out


def _x(field: str, t: str, **kw) -> alt.X:
    return alt.X(field=field, type=_TYPES[t], **kw)


def _y(field: str, t: str, **kw) -> alt.Y:
    return alt.Y(field=field, type=_TYPES[t], **kw)


def _color(field: str, t: str, **kw) -> alt.Color:
    return alt.Color(field=field, type=_TYPES[t], **kw)


def _top_axis() -> alt.Axis:
    return alt.Axis(orient="top", labelAngle=0)


# ---------------------------------------------------------------- 总览


def status_heatmap(df: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """Unit × year submission matrix; cells are clickable (selection ``pick`` on unit_id + year)."""
    d = df.with_columns(
        pl.col("status").replace_strict(STATUS_NAMES, default="未知").alias("状态"),
        pl.col("status").replace_strict(STATUS_SHORT, default="").alias("标记"),
        pl.col("year").cast(pl.String).alias("年度"),
        pl.col("label").alias("单位"),
        pl.col("errors").alias("错误"), pl.col("warnings").alias("警告"), pl.col("infos").alias("提示"),
    ).select("unit_id", "year", "单位", "年度", "状态", "标记", "错误", "警告", "提示")
    order = d["单位"].unique(maintain_order=True).to_list()
    pick = alt.selection_point(name="pick", fields=["unit_id", "year"], on="click", clear="dblclick")
    base = alt.Chart().encode(x=_x("年度", "O", title="年度", axis=_top_axis()),
                              y=_y("单位", "N", title=None, sort=order))
    rect = base.mark_rect(stroke="white", strokeWidth=2, cursor="pointer").encode(
        color=_color("状态", "N", scale=status_scale(), title="提交情况"),
        opacity=alt.OpacityValue(value=0.45,
                                 condition=alt.ConditionalParameterValueDefnumberExprRef(param="pick", value=1.0)),
        tooltip=_tips(d, ["单位", "年度", "状态", "错误", "警告", "提示"]),
    ).add_params(pick)
    text = base.mark_text(fontSize=13, fontWeight="bold", color="white").encode(text=alt.Text(field="标记",
                                                                                              type="nominal"))
    chart = _size(_layer(d, rect, text), _bar_height(len(order), 26))
    return style(chart, title, "点击格子打开该单位该年度的报告；“缺”未发布，“错”有错误，“模”模板不符，“迟”逾期发布")


def region_status_heatmap(df: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    d = df.select(pl.col("region").alias("县市区"), pl.col("year").cast(pl.String).alias("年度"),
                  pl.col("units").alias("单位数"), pl.col("missing").alias("未发布"),
                  pl.col("has_errors").alias("有错误"), pl.col("wrong_template").alias("模板不符"),
                  pl.col("late").alias("逾期发布"))
    d = d.with_columns(pl.when(pl.col("未发布") > 0).then(pl.col("未发布").cast(pl.String)).otherwise(pl.lit(""))
                       .alias("标记"))
    base = alt.Chart().encode(x=_x("年度", "O", title="年度", axis=_top_axis()), y=_y("县市区", "N", title=None))
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=_color("未发布", "Q", title="未发布单位数", scale=alt.Scale(scheme="greys")),
        tooltip=_tips(d, ["县市区", "年度", "单位数", "未发布", "有错误", "模板不符", "逾期发布"]))
    text = base.mark_text(fontSize=12, color="#b71c1c", fontWeight="bold").encode(
        text=alt.Text(field="标记", type="nominal"))
    n = d["县市区"].n_unique()
    return style(_size(_layer(d, rect, text), _bar_height(n, 24)), title,
                 "数字为未发布年报的单位数；选择县市区或乡镇后显示逐个单位的矩阵")


# ---------------------------------------------------------------- 申请量


def applicant_stacked(long: pl.DataFrame, title: str, subtitle: str | None = None) -> alt.TopLevelMixin:
    """Horizontal bars per unit, stacked by applicant type.  ``long``: 单位, 申请人类型, 件数, 序号."""
    order = (long.group_by("单位", maintain_order=True).agg(pl.col("件数").sum())
             .sort("件数", descending=True)["单位"].to_list())
    chart = _size(alt.Chart(long).mark_bar().encode(
        y=_y("单位", "N", sort=order, title=None),
        x=_x("件数", "Q", aggregate="sum", title="申请件数"),
        color=_color("申请人类型", "N", scale=applicant_scale(), title="申请人类型"),
        order=alt.Order(field="序号", type="quantitative"),
        tooltip=[*_tips(long, ["单位", "申请人类型"]),
                 alt.Tooltip(field="件数", type="quantitative", aggregate="sum", title="件数")],
    ), _bar_height(len(order)))
    return style(chart, title, subtitle)


def applicant_by_year(long: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """Bars per year stacked by applicant type.  ``long``: 年度, 申请人类型, 件数, 口径, 序号."""
    chart = _size(alt.Chart(long).mark_bar().encode(
        x=_x("年度", "O", title="年度", axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset(field="口径", type="nominal", title="口径", sort=["本年新收", "上年结转"]),
        y=_y("件数", "Q", aggregate="sum", title="申请件数"),
        color=_color("申请人类型", "N", scale=applicant_scale(), title="申请人类型"),
        order=alt.Order(field="序号", type="quantitative"),
        tooltip=[*_tips(long, ["年度", "口径", "申请人类型"]),
                 alt.Tooltip(field="件数", type="quantitative", aggregate="sum", title="件数")],
    ), 320)
    return style(chart, title, "每个年度左柱为本年新收，右柱为上年结转")


# ---------------------------------------------------------------- 办理结果


def outcome_share(long: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """100% stacked bars of the outcome groups per unit.  ``long``: 单位, 办理结果, 件数, 占比, 序号."""
    order = long["单位"].unique(maintain_order=True).to_list()
    chart = _size(alt.Chart(long).mark_bar().encode(
        y=_y("单位", "N", sort=order, title=None),
        x=_x("件数", "Q", stack="normalize", title="占办理结果总数的比例", axis=alt.Axis(format="%")),
        color=_color("办理结果", "N", scale=outcome_scale(), title="办理结果"),
        order=alt.Order(field="序号", type="quantitative"),
        tooltip=_tips(long, ["单位", "办理结果", "件数", "占比"], formats={"占比": ".1%"}),
    ), _bar_height(len(order)))
    return style(chart, title, "其他处理：2019 年格式的单行与 2021 年格式三行之和已统一口径")


def reason_bars(df: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """Reason rows within 不予公开 / 无法提供 / 不予处理 / 其他处理.  ``df``: 办理结果, 理由, 件数, 理由标签."""
    order = df["理由标签"].to_list()
    chart = _size(alt.Chart(df).mark_bar().encode(
        y=_y("理由标签", "N", sort=order, title=None),
        x=_x("件数", "Q", title="件数"),
        color=_color("办理结果", "N", scale=outcome_scale(), title="办理结果"),
        tooltip=_tips(df, ["办理结果", "理由", "件数"]),
    ), _bar_height(len(order), 22))
    return style(chart, title)


def rate_bars(df: pl.DataFrame, overall: float | None, title: str) -> alt.TopLevelMixin:
    """公开率 per unit with the overall rate as a rule.  ``df``: 单位, 公开率, 公开件数, 办理总数."""
    order = df.sort("公开率", descending=True)["单位"].to_list()
    bars = alt.Chart(df).mark_bar(color=OUTCOME_COLORS[0]).encode(
        y=_y("单位", "N", sort=order, title=None),
        x=_x("公开率", "Q", title="公开率", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=_tips(df, ["单位", "公开率", "公开件数", "办理总数"], formats={"公开率": ".1%"}),
    )
    layers = [bars]
    if overall is not None:
        rule_df = pl.DataFrame({"整体公开率": [overall]})
        layers.append(alt.Chart(rule_df).mark_rule(color="#212121", strokeDash=[6, 3], size=2).encode(
            x=_x("整体公开率", "Q"), tooltip=_tips(rule_df, ["整体公开率"], formats={"整体公开率": ".1%"})))
    chart = _size(alt.layer(*layers), _bar_height(len(order)))
    sub = f"虚线为筛选范围内的整体公开率 {overall:.1%}" if overall is not None else None
    return style(chart, title, sub)


# ---------------------------------------------------------------- 政府采购 / 收费


def value_bars(df: pl.DataFrame, value: str, title: str, x_title: str, color: str, fmt: str = ",.2f",
               subtitle: str | None = None) -> alt.TopLevelMixin:
    order = df.sort(value, descending=True, nulls_last=True)["单位"].to_list()
    numeric = [c for c in df.columns if c != "单位" and df[c].dtype.is_numeric()]
    chart = _size(alt.Chart(df).mark_bar(color=color).encode(
        y=_y("单位", "N", sort=order, title=None),
        x=_x(value, "Q", title=x_title),
        tooltip=_tips(df, [c for c in df.columns], formats=dict.fromkeys(numeric, fmt)),
    ), _bar_height(len(order)))
    return style(chart, title, subtitle)


# ---------------------------------------------------------------- 年度趋势


def trend_lines(df: pl.DataFrame, measure_name: str, is_rate: bool, title: str) -> alt.TopLevelMixin:
    """``df``: 单位, 年度, 数值."""
    fmt = ".1%" if is_rate else ",.0f"
    chart = _size(alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=60)).encode(
        x=_x("年度", "O", title="年度", axis=alt.Axis(labelAngle=0)),
        y=_y("数值", "Q", title=measure_name, axis=alt.Axis(format=fmt)),
        color=_color("单位", "N", title="单位", scale=alt.Scale(scheme="tableau10")),
        tooltip=_tips(df, ["单位", "年度", "数值"], formats={"数值": fmt}, titles={"数值": measure_name}),
    ), 340)
    return style(chart, title)


def total_trend(df: pl.DataFrame, measure_name: str, is_rate: bool, title: str) -> alt.TopLevelMixin:
    """``df``: 年度, 数值, 报告数."""
    fmt = ".1%" if is_rate else ",.0f"
    base = alt.Chart().encode(x=_x("年度", "O", title="年度", axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(color="#1f5fa8").encode(
        y=_y("数值", "Q", title=measure_name, axis=alt.Axis(format=fmt)),
        tooltip=_tips(df, ["年度", "数值", "报告数"], formats={"数值": fmt}, titles={"数值": measure_name}))
    text = base.mark_text(dy=-8, fontSize=12).encode(y=_y("数值", "Q"),
                                                     text=alt.Text(field="数值", type="quantitative", format=fmt))
    return style(_size(_layer(df, bars, text), 280), title)


def chain_heatmap(df: pl.DataFrame, title: str) -> alt.TopLevelMixin:
    """结转 chain per unit and year.  ``df``: 单位, 年度, 衔接, 上年结转下年度, 本年上年结转, 差额, 差额标记."""
    order = df["单位"].unique(maintain_order=True).to_list()
    base = alt.Chart().encode(x=_x("年度", "O", title="年度", axis=_top_axis()),
                              y=_y("单位", "N", sort=order, title=None))
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=_color("衔接", "N", scale=alt.Scale(domain=CHAIN_ORDER, range=CHAIN_COLORS), title="结转衔接"),
        tooltip=_tips(df, ["单位", "年度", "衔接", "上年结转下年度", "本年上年结转", "差额"]))
    text = base.mark_text(fontSize=12, color="white", fontWeight="bold").encode(
        text=alt.Text(field="差额标记", type="nominal"))
    return style(_size(_layer(df, rect, text), _bar_height(len(order), 24)), title,
                 "上一年报告“结转下年度继续办理”（总计）与本年“上年结转”（总计）比较；格中数字为差额")
