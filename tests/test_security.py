"""Issue 7, security: admin-only actions, slowed brute force, upload limits and names, SQL only with
parameters (static check), no secrets in the repository or in pages.

tests/test_app_pages.py already checks the review form and the upload box without and with the password,
the "no password configured" state and ``check_uploads``; this file adds what they do not cover.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.proto.TextInput_pb2 import TextInput
from streamlit.testing.v1 import AppTest

from tests.app_fixture import build_app_db
from tests.sqlcheck import check_files, check_source

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PASSWORD = "另一个 correct horse 口令"


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory) -> Path:
    return build_app_db(tmp_path_factory.mktemp("security") / "nianbao.duckdb")


@pytest.fixture
def db(fixture_db, tmp_path, monkeypatch) -> Path:
    p = tmp_path / "nianbao.duckdb"
    shutil.copyfile(fixture_db, p)
    monkeypatch.setenv("NIANBAO_DB", str(p))
    monkeypatch.setenv("NIANBAO_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.setenv("NIANBAO_UPLOAD_DIR", str(tmp_path / "uploads"))
    return p


def sql(db: Path, q: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(q, params or []).fetchall()
    finally:
        con.close()


def everything_shown(at: AppTest) -> str:
    """All text a user can see, plus the URL's query string."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "text", "info", "warning", "error", "success", "title", "subheader",
                 "metric", "code", "json", "exception"):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "value", "")))
    parts += [h.value for h in at.get("html")]
    parts += [str(v) for v in at.query_params.values()]
    return "\n".join(parts)


def login(at: AppTest, key: str, password: str) -> AppTest:
    at.text_input(key=f"{key}_pw").input(password)
    at.button[[b.label for b in at.button].index("登录")].click().run()
    return at


# ---------------------------------------------------------------- admin only


def test_url_parameters_cannot_grant_admin(db) -> None:
    """Neither session keys nor the password can be smuggled in through the URL."""
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in {"_admin": "true", "data_admin_pw": PASSWORD, "_admin_fails": "0", "admin": "1"}.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert not at.file_uploader
    assert not at.radio


def test_password_field_is_masked_and_never_shown(db) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    box = at.text_input(key="data_admin_pw")
    assert box.proto.type == TextInput.PASSWORD
    login(at, "data_admin", "wrong guess 123")
    assert "wrong guess 123" not in "\n".join(str(v) for v in at.query_params.values())
    login(at, "data_admin", PASSWORD)
    assert at.file_uploader                                 # logged in
    for page in ("pages/data.py", "pages/findings.py", "pages/overview.py"):
        at.switch_page(page).run()
        assert PASSWORD not in everything_shown(at)


def test_upload_with_password_loads_a_real_report(db, tmp_path) -> None:
    """Accepted with the password: an uploaded report (real document of the demo city) is parsed and stored,
    and the file is kept inside the upload folder."""
    from tests.reliability_kit import demo_corpus

    city = demo_corpus(tmp_path)
    report = next(city.rglob("*.txt"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    login(at, "data_admin", PASSWORD)
    before = sql(db, "SELECT count(*) FROM reports")[0][0]
    at.file_uploader(key="data_upload").set_value([("../../" + report.name, report.read_bytes(), "text/plain")]).run()
    at.button(key="data_upload_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sql(db, "SELECT count(*) FROM reports")[0][0] == before + 1
    stored = sql(db, "SELECT source_file FROM reports ORDER BY load_seq DESC LIMIT 1")[0][0]
    uploads = (tmp_path / "uploads").resolve()
    assert Path(stored).resolve().is_relative_to(uploads) and ".." not in stored


def test_logout_ends_admin(db) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    login(at, "data_admin", PASSWORD)
    assert at.file_uploader
    at.button(key="data_admin_logout").click().run()
    assert not at.file_uploader


def test_password_from_streamlit_secrets(db, monkeypatch) -> None:
    """The password may come from st.secrets instead of the environment (never from the code)."""
    monkeypatch.delenv("NIANBAO_ADMIN_PASSWORD")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["admin_password"] = "口令来自 secrets"
    at.run()
    at.switch_page("pages/data.py").run()
    login(at, "data_admin", "口令来自 secrets")
    assert at.file_uploader


# ---------------------------------------------------------------- brute force


def test_failure_delay_grows_and_is_capped() -> None:
    from dashboard import admin

    delays = [admin.failure_delay(n) for n in range(8)]
    assert delays[0] == 0
    assert all(b > a for a, b in itertools.pairwise(delays[1:6]))
    assert delays[-1] == admin.MAX_DELAY and delays[-2] == admin.MAX_DELAY


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    """The admin login's waits, recorded instead of slept."""
    from dashboard import admin

    waits: list[float] = []

    class Clock:
        @staticmethod
        def sleep(s: float) -> None:
            waits.append(s)

    monkeypatch.setattr(admin, "time", Clock)
    return waits


def test_repeated_wrong_passwords_slow_down_the_session(db, slept) -> None:
    """In one session every failed attempt makes the next attempt wait longer, the right password too
    (so guessing faster is not possible), and a success resets the count."""
    from dashboard import admin

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    for i in range(4):
        login(at, "data_admin", f"guess-{i}")
        assert not at.file_uploader
        assert any("密码不正确" in w.value for w in at.warning)
    assert slept == [admin.failure_delay(n) for n in (1, 2, 3)]
    login(at, "data_admin", PASSWORD)
    assert at.file_uploader
    assert slept[-1] == admin.failure_delay(4)               # the right password waited as well
    assert at.session_state["_admin_fails"] == 0


def test_a_new_session_is_still_slowed_after_failures_in_another(db, slept) -> None:
    """The slow-down belongs to the server process, not to one session: opening a new session (a page
    reload, another browser) does not start again at no delay, and neither do the sessions already open."""
    from dashboard import admin

    first = AppTest.from_file(APP, default_timeout=60)
    first.run()
    first.switch_page("pages/data.py").run()
    for i in range(3):
        login(first, "data_admin", f"guess-{i}")
    assert slept == [admin.failure_delay(n) for n in (1, 2)]

    second = AppTest.from_file(APP, default_timeout=60)        # a fresh session: empty session state
    second.run()
    second.switch_page("pages/data.py").run()
    assert "_admin_fails" not in second.session_state
    login(second, "data_admin", "guess-3")
    assert not second.file_uploader
    assert slept[-1] == admin.failure_delay(3), slept           # waited as the 4th failure of the process
    assert any("密码不正确" in w.value for w in second.warning)

    login(first, "data_admin", "guess-4")                       # the first session counts the second's failure
    assert slept[-1] == admin.failure_delay(4), slept
    login(second, "data_admin", PASSWORD)
    assert second.file_uploader and slept[-1] == admin.failure_delay(5)
    third = AppTest.from_file(APP, default_timeout=60)          # a success resets the count for everyone
    third.run()
    third.switch_page("pages/data.py").run()
    n = len(slept)
    login(third, "data_admin", "guess-5")
    assert len(slept) == n                                      # no wait before the first failure after a success


def test_password_attempts_from_many_threads_are_checked_one_at_a_time(monkeypatch) -> None:
    """Guessing in parallel from many sessions is no faster than one after another: the attempts of the
    process take turns, each after the wait its turn requires; the failure count is exact under threads."""
    import threading

    from dashboard import admin

    monkeypatch.setenv("NIANBAO_ADMIN_PASSWORD", PASSWORD)
    inside, most, slept = [0], [0], []
    guard = threading.Lock()

    class Clock:
        @staticmethod
        def sleep(s: float) -> None:
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                slept.append(s)
            threading.Event().wait(0.01)
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(admin, "time", Clock)
    monkeypatch.setattr(admin, "MAX_DELAY", 0.5)               # keep the turn timeout short for the test
    results: list[str] = []

    def guess(i: int) -> None:
        results.append(admin.login_attempt(f"guess-{i}", {}))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert most[0] == 1, "two attempts waited at the same time"
    assert results.count("wrong") == admin.login_failures() == 12, results
    assert sorted(slept) == sorted(admin.failure_delay(n) for n in range(1, 12))


# ---------------------------------------------------------------- uploads


def test_upload_widget_limits_type_and_size(db) -> None:
    from dashboard import config

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    login(at, "data_admin", PASSWORD)
    up = at.file_uploader(key="data_upload")
    assert {t.lstrip(".") for t in up.proto.type} == set(config.UPLOAD_TYPES)
    assert up.proto.max_upload_size_mb == config.UPLOAD_MAX_MB


def test_check_uploads_boundaries() -> None:
    from dashboard import admin, config

    limit = config.UPLOAD_MAX_MB * 1024 * 1024
    res = admin.check_uploads([("exact.pdf", b"x" * limit), ("over.pdf", b"x" * (limit + 1)),
                               ("UPPER.PDF", b"1"), ("report.txt.exe", b"1"), ("no_extension", b"1"),
                               ("page.js", b"1"), ("macro.docm", b"1"), ("archive.zip", b"1")])
    assert [n for n, _ in res.accepted] == ["exact.pdf", "UPPER.pdf"]
    assert {n for n, _ in res.refused} == {"over.pdf", "report.txt.exe", "no_extension", "page.js", "macro.docm",
                                           "archive.zip"}
    many = admin.check_uploads([(f"r{i}.txt", b"1") for i in range(config.UPLOAD_MAX_FILES + 3)])
    assert len(many.accepted) == config.UPLOAD_MAX_FILES and len(many.refused) == 3


PATH_TRICKS = ["../../etc/passwd", "../../etc/passwd.txt", "/etc/passwd.txt", "..\\..\\windows\\win.ini.txt",
               "C:\\Windows\\System32\\x.pdf", "a\x00b.txt", "report.txt\x00.exe", "..", ".", "...", "",
               "／etc／passwd.txt", "..／..／x.txt", "%2e%2e%2fpasswd.txt", "\u202etxt.exe", "a\nb.txt",
               "\u200b.txt", "a/" * 50 + "b.txt", ".bashrc", " .txt", "~/.ssh/authorized_keys", "$(rm -rf ~).txt",
               "`id`.txt", "\udcff.txt", "CON.txt", "nul", "x" * 300 + ".txt"]


def _safe_name_ok(name: str, folder: Path) -> None:
    from dashboard import admin

    safe = admin.safe_name(name)
    assert safe and safe not in (".", "..")
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and not safe.startswith("~")
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in safe), repr(safe)
    assert (folder / safe).resolve().parent == folder.resolve()


@pytest.mark.parametrize("name", PATH_TRICKS)
def test_upload_names_cannot_leave_the_upload_folder(name, tmp_path) -> None:
    _safe_name_ok(name, tmp_path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=80)
       | st.lists(st.sampled_from(["..", "/", "\\", ".", "a", "泉港", "\x00", "／", "txt", "~"]), max_size=12)
       .map("".join))
def test_any_upload_name_stays_inside(name: str, tmp_path: Path) -> None:
    _safe_name_ok(name, tmp_path)


def test_saving_hostile_names_writes_only_inside_a_new_folder(tmp_path) -> None:
    from dashboard import admin

    root = tmp_path / "uploads"
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    check = admin.check_uploads([(n if n.endswith((".txt", ".pdf")) else n + ".txt", b"data")
                                 for n in PATH_TRICKS if len(n) < 100])
    folder = admin.save_uploads(check.accepted, root)
    assert folder.parent == root
    written = [p for p in root.rglob("*") if p.is_file()]
    assert len(written) == len(check.accepted) > 10
    assert all(p.parent == folder for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({*outside_before, "uploads"})
    assert not (Path("/etc/passwd.txt").exists() or Path.home().joinpath(".ssh", "authorized_keys.txt").exists())


# ---------------------------------------------------------------- SQL only with parameters


def sql_modules() -> list[Path]:
    return sorted([*ROOT.glob("ingest/store/*.py"), *ROOT.glob("dashboard/*.py"), *ROOT.glob("dashboard/data/*.py"),
                   *ROOT.glob("pages/*.py"), ROOT / "app.py"])


def test_every_sql_statement_takes_values_as_parameters() -> None:
    violations = check_files(ROOT, sql_modules())
    assert violations == [], "\n".join(map(str, violations))


INJECTIONS = {
    "quoted parameter": '''
def unit_reports(con, name):
    return con.execute(f"SELECT * FROM reports WHERE unit = '{name}'").fetchall()
''',
    "widget value": '''
import streamlit as st
q = st.text_input("名称")
con.sql(f"SELECT * FROM units WHERE name LIKE '%{q}%'")
''',
    "concatenation": '''
def find(con, unit_id):
    sql = "SELECT * FROM reports WHERE unit_id = '" + unit_id + "'"
    return con.execute(sql)
find(None, input())
''',
    "format": '''
import os
def f(con):
    con.execute("SELECT * FROM t WHERE x = {}".format(os.environ["X"]))
''',
    "percent": '''
def f(con, year):
    con.execute("SELECT * FROM t WHERE year = %s" % year)
''',
    "through a wrapper": '''
import streamlit as st
def run(sql, params=()):
    return CON.execute(sql, params)
run(f"SELECT * FROM t WHERE k = '{st.query_params['k']}'")
''',
    "database text fed back": '''
def f(con):
    name = con.execute("SELECT name FROM units LIMIT 1").fetchone()[0]
    con.execute(f"SELECT * FROM reports WHERE unit_name = '{name}'")
''',
    "built up in a list": '''
def f(con, scope):
    clauses = ["TRUE"]
    clauses.append(f"region = '{scope.region}'")
    con.execute("SELECT * FROM units WHERE " + " AND ".join(clauses))
''',
}

SAFE = {
    "placeholders and constant table names": '''
REPORTS = "reports"
def f(con, name, year):
    return con.execute(f"SELECT * FROM {REPORTS} WHERE unit = ? AND year = ?", [name, year]).fetchall()
''',
    "a WHERE builder with parameters": '''
def where(scope, prefix=""):
    clauses, params = ["TRUE"], []
    if scope.region:
        clauses.append(f"{prefix}region = ?")
        params.append(scope.region)
    return "WHERE " + " AND ".join(clauses), params
def q(con, scope):
    w, p = where(scope, prefix="u.")
    return con.execute(f"SELECT * FROM units u {w}", p)
''',
    "constant lookup by user key": '''
MEASURES = {"received": "sum(received)", "granted": "sum(granted)"}
def f(con, measure):
    return con.execute(f"SELECT {MEASURES[measure]} FROM m")
''',
    "numbers": '''
def f(con, n):
    return con.execute(f"SELECT * FROM t LIMIT {int(n)}")
''',
}


@pytest.mark.parametrize("case", list(INJECTIONS))
def test_the_sql_check_catches_injections(case) -> None:
    found = check_source(INJECTIONS[case])
    assert found, f"not caught: {case}"


@pytest.mark.parametrize("case", list(SAFE))
def test_the_sql_check_accepts_parameterised_sql(case) -> None:
    assert check_source(SAFE[case]) == []


def test_the_sql_check_catches_an_injection_planted_in_the_real_query_layer() -> None:
    """The same check on the real query layer with one filter of dashboard/data/where.py turned into text:
    it must be found (where a page query uses the clause)."""
    src = (ROOT / "dashboard" / "data" / "where.py").read_text(encoding="utf-8")
    planted = src.replace('clauses.append(f"contains({a}unit, ?)")', "clauses.append(f\"contains({a}unit, '{scope.name}')\")")
    assert planted != src, "the line to plant into has changed; update this test"
    others = ("dashboard.config", "dashboard.scope", "dashboard.data.connection", "dashboard.data.snapshot",
              "dashboard.data.overview", "dashboard.data.findings")
    found = check_source(planted, "dashboard.data.where",
                         {m: (ROOT / (m.replace(".", "/") + ".py")).read_text(encoding="utf-8") for m in others})
    assert found, "planted injection not found"


# ---------------------------------------------------------------- secrets


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "API key (sk-…)": re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "password in a URL": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@]{3,}@", re.I),
}
# password = "…", api_key: '…', NIANBAO_ADMIN_PASSWORD=… (outside tests, whose passwords are fixtures)
ASSIGNED_SECRET = re.compile(
    r"""(?ix)(password|passwd|pwd|secret|token|api_?key|access_?key|admin_password)["']?\s*[:=]\s*["']([^"'\s]{4,})["']"""
    r"""|NIANBAO_ADMIN_PASSWORD\s*=\s*([^\s`"'$]{4,})""")
PLACEHOLDERS = re.compile(r"^(?:…|\.\.\.|<.*>|\$\{?\w+\}?|换成|your|example|xxx|changeme)", re.I)


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def test_no_secrets_in_tracked_files() -> None:
    found = []
    for p in tracked_files():
        if not p.is_file() or p.name == "uv.lock":
            continue
        data = p.read_bytes()
        if b"\0" in data[:4096]:
            continue
        text = data.decode("utf-8", errors="replace")
        rel = str(p.relative_to(ROOT))
        for what, rx in SECRET_PATTERNS.items():
            if rx.search(text):
                found.append(f"{rel}: {what}")
        if not rel.startswith("tests/"):
            for m in ASSIGNED_SECRET.finditer(text):
                value = m.group(2) or m.group(3)
                if not PLACEHOLDERS.match(value):
                    found.append(f"{rel}: {m.group(0)[:60]}")
    assert found == [], found


@pytest.mark.parametrize("text", [
    # (assembled from pieces so that this file itself passes the scan)
    'ADMIN = {"password": "hunter2hunter2"}', "api_key = 'abcd1234efgh'", "NIANBAO_ADMIN_PASSWORD=s3cret-value",
    "-----BEGIN OPENSSH " + "PRIVATE KEY-----", "AKIA" + "ABCDEFGHIJKLMNOP", "token: 'ghp_" + "a" * 36 + "'",
    "postgres://admin:" + "pa55word@db.example.org/x"])
def test_the_secret_scan_catches_examples(text: str) -> None:
    hits = [w for w, rx in SECRET_PATTERNS.items() if rx.search(text)]
    m = ASSIGNED_SECRET.search(text)
    if m and not PLACEHOLDERS.match(m.group(2) or m.group(3)):
        hits.append("assigned")
    assert hits, text


@pytest.mark.parametrize("text", ['type="password"', "NIANBAO_ADMIN_PASSWORD=换成你的口令",
                                  'password = "<你的口令>"', "export NIANBAO_ADMIN_PASSWORD=$PW"])
def test_the_secret_scan_lets_placeholders_pass(text: str) -> None:
    m = ASSIGNED_SECRET.search(text)
    assert not any(rx.search(text) for rx in SECRET_PATTERNS.values())
    assert m is None or PLACEHOLDERS.match(m.group(2) or m.group(3)), text


def test_no_secret_files_tracked_and_secrets_toml_ignored() -> None:
    names = [str(p.relative_to(ROOT)) for p in tracked_files()]
    bad = [n for n in names if re.search(r"(^|/)(\.env(\..*)?|secrets\.toml|id_rsa.*|.*\.pem|.*\.key|.*\.p12)$", n)]
    assert bad == []
    r = subprocess.run(["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=ROOT)
    assert r.returncode == 0, ".streamlit/secrets.toml must be in .gitignore"


def test_admin_password_is_read_only_from_env_or_streamlit_secrets() -> None:
    """Only dashboard/config.py reads the password (env NIANBAO_ADMIN_PASSWORD, then st.secrets); nothing
    else in the code names it, and it has no default value."""
    readers = []
    for p in [*ROOT.glob("dashboard/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py", *ROOT.glob("ingest/**/*.py")]:
        text = p.read_text(encoding="utf-8")
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        if re.search(r"""environ(?:\.get)?\s*[\[(]\s*["']NIANBAO_ADMIN_PASSWORD|getenv\(\s*["']NIANBAO_ADMIN_PASSWORD"""
                     r"""|secrets(?:\.get)?\s*[\[(]\s*["']admin_password""", code):
            readers.append(str(p.relative_to(ROOT)))
    assert readers == ["dashboard/config.py"]
    from dashboard import config

    src = (ROOT / "dashboard" / "config.py").read_text(encoding="utf-8")
    assert re.search(r"""environ\.get\(\s*["']NIANBAO_ADMIN_PASSWORD["']\s*\)""", src), "no default value allowed"
    assert config.admin_password.__doc__
