"""`python -m ingest parse` as spec/cli.md defines it: JSON Lines, one-line reasons, exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_parse(*files: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "ingest", "parse", *map(str, files)], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout)


@pytest.fixture()
def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {}

    def put(name: str, data: bytes) -> None:
        p = tmp_path / name
        p.write_bytes(data)
        files[name] = p

    put("empty.txt", b"")
    put("junk.bin", os.urandom(4096))
    put("notzip.docx", b"this is not a zip file at all")
    put("fake.pdf", "这不是PDF，只是改了扩展名的文本".encode())
    put("news.txt", "本镇召开春季植树动员大会\n\n3月12日上午，镇党委书记带领干部群众在河堤植树300余棵。".encode())
    buf = tmp_path / "ok.docx"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    data = buf.read_bytes()
    buf.unlink()
    put("truncated.docx", data[: len(data) // 2])
    return files


def test_parse_outputs_json_lines(samples_dir: Path) -> None:
    r = run_parse(samples_dir / "quangang-2020.txt")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().split("\n")
    assert len(lines) == 1
    obj = json.loads(lines[0])
    for field in ("source", "sha256", "format", "unit", "unit_level", "region", "year", "template", "published",
                  "cells", "units", "narrative", "findings"):
        assert field in obj
    assert obj["format"] == "text" and obj["unit"] == "泉港镇" and "\\u" not in lines[0]


def test_bad_inputs_fail_alone_with_one_line_reason(samples_dir: Path, bad_files: dict[str, Path]) -> None:
    r = run_parse(*bad_files.values(), samples_dir / "quangang-2020.txt")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    out = [json.loads(x) for x in r.stdout.strip().split("\n")]
    assert [o["unit"] for o in out] == ["泉港镇"], "其余文件仍应解析成功"
    err_lines = [x for x in r.stderr.strip().split("\n") if x]
    assert len(err_lines) == len(bad_files)
    for name, line in zip(bad_files, err_lines, strict=True):
        assert line.startswith(str(bad_files[name]) + ": ")
        reason = line.split(": ", 1)[1]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in reason), f"原因应为中文：{line}"


def test_missing_file_reason() -> None:
    r = run_parse(Path("/nonexistent/报告.txt"))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "报告.txt: " in r.stderr
