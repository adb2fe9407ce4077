"""The shared sidebar filters, drawn once in app.py for every page.

Each widget is keyed and bound to the URL (``bind="query-params"``): its value lives in
``st.session_state`` (so it survives page switches, because app.py draws it on every run) and
in the query string (so a copied link reproduces the view, and opening such a link restores
the filters on first load).  The resulting :class:`~dashboard.scope.Scope` is stored in
``st.session_state["scope"]`` for the pages.

Query-string names: ``years`` (two values), ``region``, ``level``, ``q`` (part of a name),
``town``, ``tpl``, ``sev``.  A bound multiselect writes the *displayed* label of each option
into the URL (``sev=错误``, ``town=泉港镇（丰城市）``), so links stay readable.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from dashboard.data import options as options_q
from dashboard.labels import SEVERITIES, SEVERITY_NAMES
from dashboard.scope import LEVELS, TEMPLATE_NAMES, TEMPLATES, Scope

K_YEARS, K_REGION, K_LEVEL, K_NAME, K_TOWN, K_TPL, K_SEV = "years", "region", "level", "q", "town", "tpl", "sev"
ALL_KEYS = (K_YEARS, K_REGION, K_LEVEL, K_NAME, K_TOWN, K_TPL, K_SEV)
TOWN_OPTIONS_MAX = 1000
SCOPE_KEY = "scope"


def _requested(key: str) -> list[str]:
    """Values for ``key`` in the session or the URL (so URL values are offered as options)."""
    vals = list(st.session_state.get(key) or [])
    with contextlib.suppress(Exception):  # a bound parameter may not be readable in every version
        vals += [v for v in st.query_params.get_all(key) if v not in vals]
    return vals


def _reset(defaults: dict) -> None:
    """Back to "everything".  Values are set, not deleted: a deleted bound widget would take its
    value from the URL again.  (Streamlit logs a harmless note for the slider, which also has a
    default value.)"""
    for k, v in defaults.items():
        st.session_state[k] = v


def draw_sidebar() -> Scope:
    """Draw the filter widgets in the sidebar and return (and store) the scope."""
    opts = options_q.filter_options()
    years_all = opts["years"]
    defaults = {K_REGION: [], K_LEVEL: [], K_NAME: "", K_TOWN: [], K_TPL: [], K_SEV: []}
    with st.sidebar:
        st.subheader("筛选", divider="gray")
        years = None
        if years_all and years_all[0] < years_all[1]:
            defaults[K_YEARS] = years_all
            years = st.slider("年度范围", years_all[0], years_all[1], years_all, step=1, key=K_YEARS,
                              bind="query-params", help="报告所属的统计年度")
        elif years_all:
            st.caption(f"年度：{years_all[0]}（数据库中只有这一年）")
        regions = st.multiselect("县市区", opts["regions"], key=K_REGION, bind="query-params",
                                 filter_mode="contains", placeholder="全部县市区（可输入名称查找）")
        levels = st.multiselect("单位层级", [lv for lv in LEVELS if lv in opts["levels"]] or list(LEVELS),
                                key=K_LEVEL, bind="query-params", placeholder="全部层级")
        name = st.text_input("名称包含", key=K_NAME, bind="query-params",
                             placeholder="输入乡镇（街道）名称中的任意几个字",
                             help="只显示名称包含这几个字的单位，例如输入“港”可找到“泉港镇”")
        cand = options_q.unit_options(regions, levels, (name or "").strip(), TOWN_OPTIONS_MAX)
        labels = dict(zip(cand["unit_id"].to_list(), cand["label"].to_list(), strict=True))
        # selected units stay selectable even when the name/region filters (or the cap) leave them out;
        # the URL carries the displayed labels ("泉港镇（丰城市）")
        shown = set(labels.values())
        wanted = [u for u in _requested(K_TOWN) if u not in labels and u not in shown]
        labels.update(options_q.units_for_labels(wanted))
        towns = st.multiselect("乡镇（街道）", list(labels), key=K_TOWN, bind="query-params",
                               format_func=lambda u: labels.get(u, u), filter_mode="contains",
                               placeholder="全部（可输入名称的任意部分查找）",
                               help=None if cand.height < TOWN_OPTIONS_MAX else
                               f"选项过多，只列出前 {TOWN_OPTIONS_MAX} 个；请先选择县市区或输入名称")
        templates = st.multiselect("模板版本", list(TEMPLATES), key=K_TPL, bind="query-params",
                                   format_func=TEMPLATE_NAMES.get, placeholder="全部模板")
        sevs = st.multiselect("问题级别", list(SEVERITIES), key=K_SEV, bind="query-params",
                              format_func=SEVERITY_NAMES.get, placeholder="全部级别（错误、警告、提示）")
        st.button("清除全部筛选", key="_reset_filters", on_click=_reset, args=(defaults,),
                  icon=":material/filter_alt_off:", width="stretch")
    yr = None
    if years is not None:
        lo, hi = int(years[0]), int(years[1])
        if lo > hi:           # "?years=2025&years=2019" from a hand-edited link: read it as 2019–2025
            lo, hi = hi, lo
            st.sidebar.info(f"网址中的年度范围前后颠倒，已按 {lo}–{hi} 年显示。")
        yr = None if (lo, hi) == tuple(years_all) else (lo, hi)
    scope = Scope(years=yr, regions=tuple(regions), units=tuple(towns), name=(name or "").strip(),
                  levels=tuple(levels), templates=tuple(templates), severities=tuple(sevs))
    st.session_state[SCOPE_KEY] = scope
    return scope


def current() -> Scope:
    """The scope drawn by app.py in this run (an empty scope when filters could not be drawn)."""
    return st.session_state.get(SCOPE_KEY) or Scope()

