"""Settings of the dashboard: where the database is, the admin password, upload limits.

Everything comes from the environment (or ``st.secrets`` for the password), so the same code
runs the demo, the tests (which point ``NIANBAO_DB`` at a temp file) and a real installation.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingest.readers import upload_extensions

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "data/nianbao.duckdb"

# Uploads (数据管理 page): accepted report formats and the per-file size limit.
UPLOAD_TYPES = upload_extensions()
UPLOAD_MAX_MB = 30
UPLOAD_MAX_FILES = 200

# How to rebuild the database, shown whenever it is missing or unreadable.
REBUILD_HINT = ("重新生成示例数据并启动：`bash scripts/run-app.sh`；"
                "导入自己的报告：`uv run python -m ingest load 报告文件夹/ --db {db}`")


def _resolve(p: str) -> Path:
    path = Path(p).expanduser()
    return path if path.is_absolute() else ROOT / path


def db_path() -> Path:
    """The DuckDB file the app reads (env ``NIANBAO_DB``; relative paths are taken from the project root)."""
    return _resolve(os.environ.get("NIANBAO_DB") or DEFAULT_DB)


def upload_root() -> Path:
    """Folder where uploaded files are kept (each upload in its own new sub-folder)."""
    return _resolve(os.environ.get("NIANBAO_UPLOAD_DIR") or "data/tmp/uploads")


def admin_password() -> str | None:
    """The admin password from env ``NIANBAO_ADMIN_PASSWORD`` or ``st.secrets["admin_password"]``.

    None (admin functions disabled) when neither is set or the value is empty.
    """
    pw = os.environ.get("NIANBAO_ADMIN_PASSWORD")
    if pw:
        return pw
    try:
        import streamlit as st

        value = st.secrets.get("admin_password")
    except Exception:  # no secrets.toml, or it is unreadable: treat as "not configured"
        return None
    return str(value) if value else None


def rebuild_hint() -> str:
    return REBUILD_HINT.format(db=db_path())
