"""The demo corpus is deterministic: the same seed gives byte-identical files, another seed gives others."""

from __future__ import annotations

from pathlib import Path

from ingest.demo.generate import build_corpus, run_demo


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_demo(str(a), 2025) == 0
    assert run_demo(str(b), 2025) == 0
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    differing = [name for name in fa if fa[name] != fb[name]]
    assert not differing, f"同一种子两次生成的文件字节不同：{differing[:10]}"
    assert {"truth.jsonl", "missing.jsonl"} <= set(fa)
    assert len(fa) > 200


def test_rerun_into_same_folder_replaces_the_corpus(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run_demo(str(out), 7)
    first = _files(out)
    run_demo(str(out), 2025)
    second = _files(out)
    run_demo(str(out), 7)
    assert _files(out) == first
    assert first != second


def test_other_seed_gives_other_numbers() -> None:
    docs_a, _ = build_corpus(2025)
    docs_b, _ = build_corpus(2026)
    cells_a = [d.truth["cells"] for d in docs_a]
    cells_b = [d.truth["cells"] for d in docs_b]
    assert cells_a != cells_b
    assert {d.truth["sha256"] for d in docs_a}.isdisjoint({d.truth["sha256"] for d in docs_b})


def test_cli_in_another_process_gives_the_same_bytes(tmp_path: Path) -> None:
    """``python -m ingest demo`` with another hash seed writes what run_demo writes here."""
    import os
    import subprocess
    import sys

    here, there = tmp_path / "here", tmp_path / "there"
    run_demo(str(here), 2025)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "ingest", "demo", "--out", str(there), "--seed", "2025"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert _files(here) == _files(there)
