"""An upload that cannot be saved or loaded says why in plain Chinese and leaves nothing behind
(red team: a full disk gave "页面显示时出错" with OSError: [Errno 28] and a 0-byte file)."""
from __future__ import annotations

import errno
from pathlib import Path

import pytest

from dashboard import admin


def _fail_on_second_write(monkeypatch: pytest.MonkeyPatch, exc: OSError) -> None:
    real = Path.write_bytes
    calls = {"n": 0}

    def write_bytes(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            self.touch()                  # what a full disk leaves: the file created, nothing written
            raise exc
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


@pytest.mark.parametrize(("exc", "said"), [
    (OSError(errno.ENOSPC, "No space left on device"), "磁盘空间不足"),
    (PermissionError(errno.EACCES, "Permission denied"), "没有在上传文件夹"),
    (OSError(errno.EIO, "Input/output error"), "写入上传文件夹"),
])
def test_a_failed_save_keeps_nothing_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  exc: OSError, said: str) -> None:
    root = tmp_path / "uploads"
    _fail_on_second_write(monkeypatch, exc)
    with pytest.raises(admin.UploadNotSaved) as e:
        admin.save_uploads([("a.txt", b"x" * 10), ("b.txt", b"y" * 10)], root)
    assert said in str(e.value) and "数据库没有改动" in str(e.value)
    assert "Errno" not in str(e.value) and "OSError" not in str(e.value)
    assert list(root.iterdir()) == []          # no folder, no 0-byte file


def test_an_unexpected_load_failure_shows_no_exception_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ingest.store.loader as loader

    def boom(*args, **kwargs):
        raise RuntimeError(f"internal state at {tmp_path}/secret.py")

    monkeypatch.setattr(admin, "is_admin", lambda: True)
    monkeypatch.setattr(loader, "load_files", boom)
    ok, text = admin.run_upload_load(tmp_path)
    assert not ok and "数据库保持导入之前的状态" in text
    assert "RuntimeError" not in text and str(tmp_path) not in text
