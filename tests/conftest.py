"""Shared fixtures.  Real documents live in ../shared (read-only, never copied into the project);
tests that need them skip with a clear message when that folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "samples").is_dir():
        pytest.skip(f"真实样本目录 {SHARED} 不存在（它只在开发与 CI 机器上提供），跳过依赖真实报告的测试")
    return SHARED


@pytest.fixture(scope="session")
def samples_dir(shared_dir: Path) -> Path:
    return shared_dir / "samples"


@pytest.fixture(autouse=True)
def _fresh_admin_login_failures():
    """The app counts failed admin logins per process (dashboard/admin.py); start every test at zero so
    one test's wrong passwords do not slow down (or change the expected waits of) the next."""
    import sys

    admin = sys.modules.get("dashboard.admin")
    if admin is not None:
        admin.reset_login_failures()
    yield
