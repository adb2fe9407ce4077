"""Admin-only actions: the password check, review marks, and uploads that run a load.

* The password comes from :func:`dashboard.config.admin_password` and is compared with
  :func:`hmac.compare_digest`.  Failed attempts are counted for the whole server process (every
  session, see :class:`_LoginThrottle`): after ``n`` failures in a row the next attempt — from any
  session, a new one included — waits 0.5 s, 1 s, 2 s, … up to 8 s before it is checked, and the
  attempts of the process take turns, so guessing from many sessions at once is no faster than
  one after another.  A correct password resets the count.
* Uploads are limited by type and size, their names are reduced to a safe base name (no
  folders, no ``..``), and they are written into a fresh folder which is then loaded with the
  store's own load API (copy-on-write: the database file is swapped only when the load
  succeeded).
"""

from __future__ import annotations

import hmac
import io
import logging
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboard import config
from dashboard.data import connection as connection_q

log = logging.getLogger("nianbao.dashboard")

ADMIN_KEY = "_admin"
FAILS_KEY = "_admin_fails"
MAX_DELAY = 8.0


def is_admin() -> bool:
    return st.session_state.get(ADMIN_KEY) is True


def failure_delay(fails: int) -> float:
    """Seconds to wait before checking a password after ``fails`` failed attempts in a row."""
    return 0.0 if fails <= 0 else min(0.5 * 2 ** (fails - 1), MAX_DELAY)


class _LoginThrottle:
    """The failed-login count of the whole process, shared by every session (thread-safe).

    Per-session counting was useless against brute force: a new session (a page reload) started
    again at no delay.  One counter for the process cannot be reset that way, and its memory is
    one integer however many sessions or guesses there are.  ``turn`` makes the attempts of the
    process take turns (wait, compare, count), so parallel sessions cannot guess faster than one;
    an attempt that cannot get its turn within a bounded time is refused unchecked ("busy")
    instead of tying up its thread.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()        # guards ``fails``
        self.turn = threading.Lock()        # one attempt at a time: wait, compare, count
        self.fails = 0

    def failures(self) -> int:
        with self.lock:
            return self.fails

    def record(self, ok: bool) -> int:
        with self.lock:
            self.fails = 0 if ok else self.fails + 1
            return self.fails

    def reset(self) -> None:
        with self.lock:
            self.fails = 0


_THROTTLE = _LoginThrottle()


def login_failures() -> int:
    """Failed admin logins in a row, counted over every session of this process."""
    return _THROTTLE.failures()


def reset_login_failures() -> None:
    """Forget the failures (tests: each test starts from a fresh process state)."""
    _THROTTLE.reset()


def _turn_timeout() -> float:
    """How long an attempt may queue for its turn: a few of the longest waits."""
    return 4 * MAX_DELAY + 2


def login_attempt(entered: str, session: MutableMapping) -> str:
    """Check a password: ``"ok"``, ``"wrong"``, ``"busy"`` (not checked: too many attempts queued)
    or ``"off"`` (no admin password configured).  ``session`` is the session state to mark admin.

    Constant-time compare; before it, the wait that the process-wide failure count requires.
    """
    expected = config.admin_password()
    if not expected:
        return "off"
    if not _THROTTLE.turn.acquire(timeout=_turn_timeout()):
        return "busy"
    try:
        delay = failure_delay(_THROTTLE.failures())
        if delay:
            time.sleep(delay)
        ok = hmac.compare_digest((entered or "").encode("utf-8"), expected.encode("utf-8"))
        _THROTTLE.record(ok)
    finally:
        _THROTTLE.turn.release()
    if ok:
        session[ADMIN_KEY] = True
        session[FAILS_KEY] = 0
        return "ok"
    session[FAILS_KEY] = int(session.get(FAILS_KEY, 0)) + 1     # this session's own share, for display
    return "wrong"


def check_password(entered: str) -> bool:
    """Compare with the configured password (constant time); slow down repeated failures."""
    return login_attempt(entered, st.session_state) == "ok"


def logout() -> None:
    st.session_state[ADMIN_KEY] = False


def login_box(key: str, purpose: str) -> bool:
    """Show the admin login (or the logged-in state); True when the user is admin."""
    if config.admin_password() is None:
        st.info(f"{purpose}需要管理员权限，但本系统未设置管理员密码。请由部署人员设置环境变量 "
                "NIANBAO_ADMIN_PASSWORD（或在 .streamlit/secrets.toml 中设置 admin_password）后重启应用。",
                icon=":material/lock:")
        return False
    if is_admin():
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        c1.caption("已以管理员身份登录。")
        c2.button("退出管理员", key=f"{key}_logout", on_click=logout, icon=":material/logout:")
        return True
    with st.form(key=f"{key}_login", border=True):
        st.markdown(f"**{purpose}需要管理员密码**")
        pw = st.text_input("管理员密码", type="password", key=f"{key}_pw")
        submitted = st.form_submit_button("登录", icon=":material/login:")
    if submitted:
        result = login_attempt(pw or "", st.session_state)
        if result == "ok":
            st.rerun()
        if result == "busy":
            st.warning("登录尝试过于频繁，这次没有核对密码。请稍等半分钟后再试。", icon=":material/lock:")
        else:
            n = login_failures()
            st.warning(f"密码不正确。管理员登录已连续失败 {n} 次（所有用户合计），下一次登录前要等待 "
                       f"{failure_delay(n):g} 秒。", icon=":material/lock:")
    return False


# ---------------------------------------------------------------- reviews


REVIEW_ACTIONS = {"confirmed": "确认（确实有问题）", "dismissed": "排除（不是问题）", "open": "恢复为待处理"}


class StoreProblem(str):
    """A reason the store could not save (full disk, damaged file, no write permission): an error to
    show as such, unlike a refusal (not admin, finding gone, store busy), which is a warning."""


def review(finding_id: str, status: str, note: str, reviewer: str) -> str | None:
    """Record a review mark (admin only).  Returns None on success, else a Chinese reason
    (a :class:`StoreProblem` when the store failed rather than refused)."""
    if not is_admin():
        return "需要管理员登录后才能确认或排除问题"
    from ingest.store.db import DatabaseCorrupt, DiskFull, StoreBusy, is_disk_full
    from ingest.store.review import FindingNotFound, set_review

    db = connection_q.db_path()
    try:
        set_review(db, finding_id, status, note.strip(), reviewer.strip() or "管理员")
    except FindingNotFound as e:
        return str(e)
    except StoreBusy as e:
        return str(e)
    except DatabaseCorrupt as e:
        return StoreProblem(_corrupt_reason(Path(e.db_path), e.what))
    except OSError as e:
        if isinstance(e, DiskFull) or is_disk_full(e):
            return StoreProblem(_disk_full_reason(db))
        if isinstance(e, PermissionError):
            return StoreProblem(_permission_reason(db))
        raise
    return None


def adopt(report_id: str, who: str) -> str | None:
    """Adopt a held file as an ordinary version (admin only).  None on success, else a Chinese reason."""
    if not is_admin():
        return "需要管理员登录后才能采用暂未采用的文件"
    from ingest.store.adopt import NotHeld, adopt_held
    from ingest.store.db import DatabaseCorrupt, DiskFull, StoreBusy, is_disk_full

    db = connection_q.db_path()
    try:
        adopt_held(db, report_id, who.strip() or "管理员")
    except (NotHeld, StoreBusy) as e:
        return str(e)
    except DatabaseCorrupt as e:
        return StoreProblem(_corrupt_reason(Path(e.db_path), e.what))
    except OSError as e:
        if isinstance(e, DiskFull) or is_disk_full(e):
            return StoreProblem(_disk_full_reason(db))
        if isinstance(e, PermissionError):
            return StoreProblem(_permission_reason(db))
        raise
    return None


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _disk_full_reason(db: Path) -> str:
    """What a full disk means for a review mark and what to do (the store's own text speaks of loads)."""
    folder = db.parent.resolve()
    try:
        free = f"只剩 {_mb(shutil.disk_usage(folder).free)} 可用"
    except OSError:
        free = "没有足够的可用空间"
    try:
        size = f"（{_mb(db.stat().st_size)}）"
    except OSError:
        size = ""
    return (f"审核结果没有保存：磁盘空间不足。数据库所在的文件夹 {folder} {free}；保存审核结果时要先把整个数据库"
            f"{size}复制一份再写入，所以可用空间要比数据库本身大（建议至少留出数据库大小的两倍）。数据库没有任何改动。"
            "请让管理服务器的人员清理这块磁盘的空间，然后再点一次“保存审核结果”。")


def _corrupt_reason(db: Path, what: str) -> str:
    return (f"审核结果没有保存：数据库文件 {db} 无法读取（{what}）。该文件保持原样，没有被改动或删除。"
            f"请让管理服务器的人员重建数据库：先把这个文件移到别处保存（例如改名为 {db.name}.damaged），"
            f"再重新导入全部报告（python -m ingest load 报告文件夹/ --db {db}）；如果有备份，也可以用备份文件替换它。"
            "审核结果保存在数据库文件中：用备份替换可以保留备份时已有的审核结果，重新导入则需要重新审核。")


def _permission_reason(db: Path) -> str:
    folder = db.parent.resolve()
    return (f"审核结果没有保存：网页应用没有权限写入数据库所在的文件夹 {folder}（保存时要在这个文件夹里写一个新的"
            "数据库副本，再替换原文件）。数据库没有任何改动。请让管理服务器的人员给运行网页应用的账户加上这个文件夹的"
            "写入权限，然后再点一次“保存审核结果”。")


# ---------------------------------------------------------------- uploads

_UNSAFE = re.compile(r"[^\w\u3400-\u9fff（）()\[\]【】.\- ]+")


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder: base name only, no control or path characters."""
    base = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    base = re.sub(r"\.{2,}", ".", base)
    if not base or base.startswith("."):
        base = "upload" + base
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem[:100] or "upload"
    while len(stem.encode("utf-8")) > 180:         # file systems count bytes (255), not characters
        stem = stem[:-1]
    return f"{stem}.{ext.lower()}" if ext else stem


@dataclass
class UploadCheck:
    accepted: list[tuple[str, bytes]] = field(default_factory=list)   # (safe name, data)
    refused: list[tuple[str, str]] = field(default_factory=list)      # (name as given, reason)


def check_uploads(files: list[tuple[str, bytes]]) -> UploadCheck:
    """Apply the type and size limits; rename duplicates so no upload overwrites another."""
    out = UploadCheck()
    limit = config.UPLOAD_MAX_MB * 1024 * 1024
    used: set[str] = set()
    for name, data in files[: config.UPLOAD_MAX_FILES]:
        safe = safe_name(name)
        ext = safe.rpartition(".")[2].lower() if "." in safe else ""
        if ext not in config.UPLOAD_TYPES:
            out.refused.append((name, f"不支持的文件类型（只接受 {'、'.join(config.UPLOAD_TYPES)}）"))
            continue
        if len(data) > limit:
            out.refused.append((name, f"文件超过 {config.UPLOAD_MAX_MB} MB"))
            continue
        if not data:
            out.refused.append((name, "文件是空的"))
            continue
        final, n = safe, 1
        while final in used:
            stem, _, e = safe.rpartition(".")
            final, n = f"{stem}-{n}.{e}", n + 1
        used.add(final)
        out.accepted.append((final, data))
    for name, _ in files[config.UPLOAD_MAX_FILES:]:
        out.refused.append((name, f"一次最多上传 {config.UPLOAD_MAX_FILES} 个文件"))
    return out


class UploadNotSaved(Exception):
    """The uploaded files could not be written to the upload folder (nothing was kept)."""


def save_uploads(accepted: list[tuple[str, bytes]], root: Path | None = None) -> Path:
    """Write the accepted files into a new folder under the upload root and return it.

    All or nothing: when a file cannot be written (a full disk, no permission), the folder and the
    files already written are removed and :class:`UploadNotSaved` says why in Chinese.
    """
    from ingest.store.db import is_disk_full

    root = root or config.upload_root()
    folder: Path | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=root))
        for name, data in accepted:
            target = (folder / name).resolve()
            if target.parent != folder.resolve():    # belt and braces: never write outside the folder
                raise ValueError(f"不安全的文件名：{name}")
            target.write_bytes(data)
    except OSError as e:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        need = sum(len(d) for _, d in accepted)
        if is_disk_full(e):
            try:
                free = _mb(shutil.disk_usage(root if root.exists() else root.parent).free)
            except OSError:
                free = "不足"
            raise UploadNotSaved(f"上传的文件没有保存：上传文件夹 {root} 所在的磁盘空间不足（剩余 {free}，这批文件共 "
                                 f"{_mb(need)}）。数据库没有改动。请清理磁盘空间后重新上传。") from e
        if isinstance(e, PermissionError):
            raise UploadNotSaved(f"上传的文件没有保存：没有在上传文件夹 {root} 中写入文件的权限。数据库没有改动。"
                                 "请管理员检查该文件夹的权限（或用 NIANBAO_UPLOAD_DIR 指定另一个文件夹）。") from e
        raise UploadNotSaved(f"上传的文件没有保存：写入上传文件夹 {root} 时出错（{e.strerror or '未知原因'}）。"
                             "数据库没有改动，请稍后重试。") from e
    return folder


def run_upload_load(folder: Path) -> tuple[bool, str]:
    """Load one upload folder into the database.  Returns (ok, Chinese summary)."""
    if not is_admin():
        return False, "需要管理员登录后才能上传和导入报告"
    from ingest.store.db import StoreBusy
    from ingest.store.loader import format_summary, load_files

    err = io.StringIO()
    try:
        summary = load_files([str(folder)], connection_q.db_path(), progress=False, lock_timeout=120, err=err)
    except StoreBusy as e:
        return False, f"导入未开始：{e}"
    except OSError as e:   # DiskFull, StoreUnwritable …: their messages are Chinese and say what to do
        from ingest.store.db import is_disk_full

        if is_disk_full(e) or isinstance(e, PermissionError):
            return False, f"导入失败，数据库保持导入之前的状态：{e}"
        log.exception("upload load failed")
        return False, f"导入失败，数据库保持导入之前的状态：读写文件时出错（{e.strerror or '未知原因'}），请稍后重试。"
    except Exception:  # the load leaves the database untouched on failure
        log.exception("upload load failed")
        return False, "导入失败，数据库保持导入之前的状态：程序内部出错，详细信息已记录在服务器日志中，请联系系统管理员。"
    return True, format_summary(summary)
