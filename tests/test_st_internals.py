"""Each Streamlit internal that dashboard/st_internals.py uses still exists and works as assumed.

A Streamlit upgrade that renames or changes one of them fails the test named after it, instead of
quietly turning a bookmarked address into "Page not found" or every chart into a slow one.
"""
from __future__ import annotations

import inspect

import streamlit.commands.navigation as navigation
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest


def test_pages_manager_uses_pages_directory_is_the_switch_that_st_navigation_reads() -> None:
    assert "uses_pages_directory" in vars(PagesManager)
    # st.navigation turns the legacy pages/ mode off through this same class attribute
    assert "PagesManager.uses_pages_directory" in inspect.getsource(navigation)


def test_the_script_run_context_has_a_pages_manager_with_the_page_intent() -> None:
    def script() -> None:
        import streamlit as st
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        pm = get_script_run_ctx().pages_manager
        st.text(repr((pm.intended_page_name, pm.intended_page_script_hash, callable(pm.set_script_intent))))

    at = AppTest.from_function(script).run()
    assert not at.exception, at.exception
    assert at.text[0].value.endswith("True)")


def test_altair_chart_converts_through_to_dict_so_validation_can_be_skipped() -> None:
    def script() -> None:
        import altair as alt
        import polars as pl
        import streamlit as st

        from dashboard.st_internals import without_schema_validation

        calls: list[dict] = []
        chart = alt.Chart(pl.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q")
        to_dict = chart.to_dict

        def spy(*args: object, **kwargs: object) -> dict:
            calls.append(dict(kwargs))
            return to_dict(*args, **kwargs)

        object.__setattr__(chart, "to_dict", spy)
        st.altair_chart(without_schema_validation(chart))
        st.text(repr([c.get("validate") for c in calls]))

    at = AppTest.from_function(script).run()
    assert not at.exception, at.exception
    seen = at.text[0].value
    assert seen != "[]", "st.altair_chart no longer calls chart.to_dict()"
    assert "True" not in seen, f"Streamlit asked for validation anyway: {seen}"
    assert len(at.get("vega_lite_chart")) == 1
    assert set(seen.strip("[]").split(", ")) == {"False"}, seen


def test_an_error_streamlit_catches_shows_no_traceback_or_server_path() -> None:
    """The red team's crafted client message showed a traceback with server paths."""
    import tomllib
    from pathlib import Path

    from streamlit import config
    from streamlit.elements import exception as exception_utils
    from streamlit.proto.Exception_pb2 import Exception as ExceptionProto

    root = Path(__file__).resolve().parents[1]
    setting = tomllib.loads((root / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["client"]
    assert setting["showErrorDetails"] == "none"
    old = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", setting["showErrorDetails"])
    try:
        try:
            raise ValueError(f"bad widget state in {root}/app.py")
        except ValueError as e:
            proto = ExceptionProto()
            exception_utils.marshall(proto, e, apply_show_error_details=True)
    finally:
        config.set_option("client.showErrorDetails", old)
    shown = str(proto)
    assert str(root) not in shown and "ValueError" not in shown and not list(proto.stack_trace), shown


def test_the_redacted_error_text_is_chinese() -> None:
    from streamlit.elements import exception as exception_utils
    from streamlit.proto.Exception_pb2 import Exception as ExceptionProto

    from dashboard import st_internals

    st_internals.use_chinese_error_text()
    assert exception_utils._GENERIC_UNCAUGHT_EXCEPTION_TEXT == st_internals.GENERIC_ERROR_TEXT
    from streamlit import config

    old = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "none")
    try:
        try:
            raise RuntimeError("x")
        except RuntimeError as e:
            proto = ExceptionProto()
            exception_utils.marshall(proto, e, apply_show_error_details=True)
    finally:
        config.set_option("client.showErrorDetails", old)
    assert proto.message == st_internals.GENERIC_ERROR_TEXT
