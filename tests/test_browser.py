"""The real app in a real browser: `streamlit run app.py` driven by Playwright with Debian's chromium.

Visits every page, looks for error elements, opens a view from a URL with query parameters and
checks that the filters are restored (and survive navigation), checks that report text with
``<script>`` is shown as text, and saves a screenshot of every page (into a temp folder, and into
``$NIANBAO_SCREENSHOTS`` when that is set).  Skipped when chromium is not installed
(``apt-get install chromium fonts-noto-cjk``; scripts/test.sh does that as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pytest

from dashboard.pages_list import PAGES as PAGE_LIST
from tests.app_fixture import SCRIPT_UNIT, build_demo_db

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("未安装 Debian 的 chromium（apt-get install chromium fonts-noto-cjk），跳过浏览器测试",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="未安装 playwright（uv sync 安装开发依赖）")

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "browser-test-密码"
# url path -> (title, has charts)
PAGES = {p.url: (p.title, p.has_charts) for p in PAGE_LIST}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = build_demo_db(tmp_path_factory.mktemp("browser"))
    if path is None:
        pytest.skip("示例数据生成器（ingest.demo.generate）不可用，跳过浏览器测试")
    return path


@pytest.fixture(scope="module")
def server(db, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = dict(os.environ, NIANBAO_DB=str(db), NIANBAO_ADMIN_PASSWORD=PASSWORD,
               NIANBAO_UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit 未能启动：\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> list[Path]:
    dirs = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("NIANBAO_SCREENSHOTS"):
        dirs.append(Path(os.environ["NIANBAO_SCREENSHOTS"]))
        dirs[-1].mkdir(parents=True, exist_ok=True)
    return dirs


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 2400}, locale="zh-CN")
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()


def settle(pg, title: str, charts: bool = False, timeout: float = 90_000) -> None:
    """Wait until the page shows its title, the script run has finished and charts are drawn."""
    pg.wait_for_selector(f'h1:has-text("{title}")', timeout=timeout)
    pg.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)
    if charts:
        pg.wait_for_selector('[data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas',
                             timeout=timeout)
    pg.wait_for_timeout(800)


def no_errors(pg) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0, pg.locator('[data-testid="stException"]').all_inner_texts()
    errors = pg.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()
    assert not pg.get_by_text("Traceback").count()


def wait_for_expander_opened(pg, inside) -> None:
    """Wait until the expander holding ``inside`` has finished its opening animation.

    A click during the animation can be lost: the content is still being laid out, so the
    button's box moves between Playwright's hit test and the mouse event (seen as a download
    that never starts, about 1 run in 5 under load).  A person clicks after the panel has opened.
    """
    inside.wait_for(state="visible")
    pg.wait_for_function(
        "el => el.closest('[data-testid=\"stExpander\"]').getAnimations({subtree: true}).length === 0",
        arg=inside.element_handle(), timeout=30_000)


def screenshot(pg, shots: list[Path], name: str) -> None:
    for d in shots:
        pg.screenshot(path=str(d / f"{name}.png"), full_page=True)


def metric(pg, label: str) -> str:
    box = pg.locator('[data-testid="stMetric"]', has=pg.locator(f'[data-testid="stMetricLabel"]:has-text("{label}")'))
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def chips(pg, label: str) -> list[str]:
    box = pg.locator('[data-testid="stMultiSelect"]', has=pg.locator(f'label:has-text("{label}")'))
    return box.first.locator("span[data-tag] span[title]").all_inner_texts()


def count(db: Path, q: str, params: list) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(q, params).fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------- tests


def test_every_page_renders_without_errors(server, page, shots):
    for path, (title, has_charts) in PAGES.items():
        page.goto(f"{server}/{path}")
        settle(page, title, has_charts)
        no_errors(page)
        if has_charts:
            assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1
        # the shared filters are in the sidebar on every page
        assert page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').count() == 1
        screenshot(page, shots, path or "overview")
    assert not page.dialogs


def test_chinese_font_is_available(server, page):
    page.goto(server)
    settle(page, "总览", charts=True)
    assert page.evaluate("document.fonts.check(\"14px 'Noto Sans CJK SC'\")"), \
        "浏览器找不到 Noto Sans CJK SC 字体，中文会显示为方框：请安装 fonts-noto-cjk"


def test_url_query_parameters_restore_the_filters(server, page, db, shots):
    q = urllib.parse.urlencode([("region", "云岭区"), ("years", "2020"), ("years", "2023"), ("sev", "错误")])
    page.goto(f"{server}/?{q}")
    settle(page, "总览", charts=True)
    no_errors(page)
    assert chips(page, "县市区") == ["云岭区"]
    assert chips(page, "问题级别") == ["错误"]
    assert page.locator('[data-testid="stSliderThumbValue"]').all_inner_texts() == ["2020", "2023"]
    expected = count(db, """SELECT count(*) FROM reports r JOIN units u USING (unit_id)
                            WHERE r.status = 'current' AND u.region = ? AND r.year BETWEEN 2020 AND 2023""",
                     ["云岭区"])
    assert metric(page, "已入库年报") == f"{expected:,}"
    screenshot(page, shots, "overview-from-url")
    # the filter survives a page switch through the navigation, and the link carries it along
    page.locator('[data-testid="stSidebarNav"] a[href*="volume"]').click()
    settle(page, "申请量", charts=True)
    assert chips(page, "县市区") == ["云岭区"]
    assert "region=" in page.url


def test_overview_address_opens_the_overview(server, page):
    """/overview (the page's name, like /volume for 申请量) opens 总览 with its filters from the query string,
    not Streamlit's "Page not found" notice; the browser is left on the canonical address / of the default page."""
    for path in ("overview", "overview?" + urllib.parse.urlencode({"region": "云岭区"})):
        page.goto(f"{server}/{path}")
        settle(page, "总览", charts=True)
        no_errors(page)
        assert page.get_by_text("Page not found").count() == 0, path
        assert page.get_by_text("no corresponding file").count() == 0, path
        assert urllib.parse.urlparse(page.url).path == "/", page.url
        if "region" in path:
            assert chips(page, "县市区") == ["云岭区"]
            assert "region=" in page.url


def test_report_text_is_shown_escaped(server, page, db, shots):
    unit_id = count(db, "SELECT unit_id FROM units WHERE name = ?", [SCRIPT_UNIT])
    q = urllib.parse.urlencode({"unit": unit_id, "year": "2021"})
    page.goto(f"{server}/report?{q}")
    settle(page, "报告详情")
    no_errors(page)
    heading = page.locator('[data-testid="stMain"] h3').first.inner_text()
    assert "<script>alert('x')</script>" in heading          # shown as text
    assert not page.dialogs                                   # and never executed
    assert page.locator("script:has-text(\"alert('x')\")").count() == 0
    screenshot(page, shots, "report-escaped")


def test_problem_list_opens_the_report_at_the_cell(server, page, shots):
    page.goto(f"{server}/findings")
    settle(page, "一致性预警")
    # pick the first problem through the URL-free path: click the first row's checkbox in the grid
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 18)       # first data row's selection cell
    page.wait_for_selector('text=问题详情', timeout=30_000)
    page.get_by_role("button", name="在报告中查看（定位到出错的单元格）").click()
    settle(page, "报告详情")
    no_errors(page)
    assert "cell=" in page.url
    assert page.locator("#focus-cell").count() == 1
    screenshot(page, shots, "report-at-cell")


def test_clicking_the_submission_matrix_opens_that_report(server, page, shots):
    page.goto(f"{server}/?{urllib.parse.urlencode({'region': '云岭区'})}")
    settle(page, "总览", charts=True)
    cells = page.locator('[data-testid="stVegaLiteChart"] g.mark-rect path')
    assert cells.count() > 10
    cells.nth(9).click(force=True)
    settle(page, "报告详情")
    no_errors(page)
    assert "unit=" in page.url and "year=" in page.url
    assert "年度政府信息公开工作年度报告" in page.locator('[data-testid="stMain"] h3').first.inner_text()


def test_clear_filters_resets_widgets_and_link(server, page):
    q = urllib.parse.urlencode([("region", "云岭区"), ("years", "2020"), ("years", "2022")])
    page.goto(f"{server}/volume?{q}")
    settle(page, "申请量", charts=True)
    assert chips(page, "县市区") == ["云岭区"]
    page.get_by_role("button", name="清除全部筛选").click()
    page.wait_for_function("() => !window.location.search.includes('region=')", timeout=30_000)
    settle(page, "申请量", charts=True)
    assert chips(page, "县市区") == []
    thumbs = page.locator('[data-testid="stSliderThumbValue"]').all_inner_texts()
    assert thumbs[0] == "2019" and "years=" not in page.url


def test_briefing_and_chart_png_download_from_the_running_app(server, page, tmp_path):
    """Issue 6: the browser downloads the 简报 and a chart picture from the real server."""
    import zipfile

    pg = page
    pg.goto(server)
    settle(pg, "总览", charts=True)
    with pg.expect_download(timeout=120_000) as dl:
        pg.get_by_role("button", name="下载简报（Word）").click()
    docx = tmp_path / "briefing.docx"
    dl.value.save_as(docx)
    with zipfile.ZipFile(docx) as z:
        assert "word/document.xml" in z.namelist()
        assert any(n.startswith("word/media/") for n in z.namelist()), "简报应含图表图片"
    # a chart picture: the export buttons sit in the chart's "查看数据" expander
    pg.get_by_text("查看数据").first.click()
    png_button = pg.get_by_role("button", name="图片 PNG").first
    wait_for_expander_opened(pg, png_button)
    with pg.expect_download(timeout=120_000) as dl:
        png_button.click()
    png = tmp_path / "chart.png"
    dl.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
