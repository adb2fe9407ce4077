"""Legacy office files (.doc, .wps, .rtf, .odt) through LibreOffice and the DOCX reader.

The inputs are made here, with LibreOffice, from the demo city's .docx reports (no real document
in the project); each must parse to the same cells as the .docx it was made from.  Skipped, with
the reason, where LibreOffice is not installed; the refusal without it is tested everywhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from ingest.errors import RejectedFile
from ingest.parse import parse_file
from ingest.readers import office
from tests.demo_reference import written

HAVE_SOFFICE = office.soffice() is not None
needs_soffice = pytest.mark.skipif(
    not HAVE_SOFFICE, reason="未安装 LibreOffice（apt-get install libreoffice-writer-nogui），跳过旧版 Word 转换测试")


def _convert(src: Path, fmt: str, out: Path) -> Path:
    """What a township's office software would have saved: src converted by LibreOffice (test side)."""
    filt = {"doc": "doc:MS Word 97", "rtf": "rtf", "odt": "odt"}[fmt]
    profile = out / f"profile-{fmt}"
    subprocess.run([office.soffice(), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", filt, "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=300)
    return out / f"{src.stem}.{fmt}"


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    demo = written(tmp_path_factory.getbasetemp())
    docx = sorted(demo.rglob("*.docx"))
    assert len(docx) >= 3
    # both templates
    picked = [p for p in docx if p.name.startswith(("2019", "2020"))][:1] + \
             [p for p in docx if p.name.startswith(("2023", "2024", "2025"))][:2]
    assert len(picked) == 3
    return picked


@pytest.fixture(scope="module")
def converted(sources: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Path, Path]]]:
    if not HAVE_SOFFICE:
        pytest.skip("未安装 LibreOffice")
    out = tmp_path_factory.mktemp("legacy")
    made: dict[str, list[tuple[Path, Path]]] = {"doc": [], "wps": [], "rtf": [], "odt": []}
    for i, src in enumerate(sources):
        local = out / f"r{i}.docx"
        shutil.copy(src, local)
        for fmt in ("doc", "rtf", "odt"):
            made[fmt].append((src, _convert(local, fmt, out)))
        # WPS 文字 saves .wps files in the Word 97 binary format
        wps = out / f"r{i}.wps"
        shutil.copy(out / f"r{i}.doc", wps)
        made["wps"].append((src, wps))
    return made


def _leftovers() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("nianbao-convert-")}


@needs_soffice
@pytest.mark.parametrize("fmt", ["doc", "wps", "rtf", "odt"])
def test_a_legacy_file_reads_to_the_cells_of_its_docx(converted, fmt: str) -> None:
    before = _leftovers()
    for src, legacy in converted[fmt]:
        want = parse_file(src)
        got = parse_file(legacy)
        assert got["cells"] == want["cells"], legacy.name
        assert (got["unit"], got["year"], got["template"]) == (want["unit"], want["year"], want["template"])
        assert {f["rule"] for f in got["findings"]} == {f["rule"] for f in want["findings"]}
        # provenance: what was read, what the file was, and the original file's own hash
        assert got["format"] == "docx" and got["source_format"] == fmt
        assert got["sha256"] == hashlib.sha256(legacy.read_bytes()).hexdigest()
    assert _leftovers() == before, "a conversion left its temporary folder behind"


@needs_soffice
def test_a_corrupt_doc_is_refused_in_one_plain_line(tmp_path: Path) -> None:
    bad = tmp_path / "坏文件.doc"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(20_000))
    with pytest.raises(RejectedFile) as e:
        parse_file(bad)
    assert e.value.code == "corrupt"
    assert "\n" not in e.value.reason and "旧版 Word" in e.value.reason


def _with_load_macro(odt: Path, dst: Path, target: Path) -> None:
    """The .odt with a Basic macro bound to the document's load event, which writes ``target``."""
    with zipfile.ZipFile(odt) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    dtd = '<!DOCTYPE {0} PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "{1}">'
    lib = "http://openoffice.org/2000/library"
    files["Basic/script-lc.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?>{dtd.format("library:libraries", "libraries.dtd")}'
                                    f'<library:libraries xmlns:library="{lib}" xmlns:xlink="http://www.w3.org/1999/xlink">'
                                    '<library:library library:name="Standard" library:link="false"/></library:libraries>').encode()
    files["Basic/Standard/script-lb.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?>{dtd.format("library:library", "library.dtd")}'
                                             f'<library:library xmlns:library="{lib}" library:name="Standard" '
                                             'library:readonly="false" library:passwordprotected="false">'
                                             '<library:element library:name="Module1"/></library:library>').encode()
    files["Basic/Standard/Module1.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?>{dtd.format("script:module", "module.dtd")}'
                                           '<script:module xmlns:script="http://openoffice.org/2000/script" '
                                           'script:name="Module1" script:language="StarBasic">Sub Main\n'
                                           f'Open "{target}" For Output As #1\nPrint #1, "macro ran"\nClose #1\nEnd Sub\n'
                                           '</script:module>').encode()
    content = files["content.xml"].decode()
    listener = ('<office:scripts><office:event-listeners><script:event-listener script:language="ooo:script" '
                'script:event-name="dom:load" xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic'
                '&amp;location=document"/></office:event-listeners></office:scripts>')
    content = content.replace("<office:scripts/>", listener, 1) if "<office:scripts/>" in content else \
        content.replace("<office:font-face-decls", listener + "<office:font-face-decls", 1)
    assert listener in content
    files["content.xml"] = content.encode()
    entries = "".join(f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="{t}"/>' for p, t in
                      [("Basic/", ""), ("Basic/script-lc.xml", "text/xml"), ("Basic/Standard/", ""),
                       ("Basic/Standard/script-lb.xml", "text/xml"), ("Basic/Standard/Module1.xml", "text/xml")])
    files["META-INF/manifest.xml"] = files["META-INF/manifest.xml"].replace(
        b"</manifest:manifest>", entries.encode() + b"</manifest:manifest>")
    with zipfile.ZipFile(dst, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), files.pop("mimetype"), compress_type=zipfile.ZIP_STORED)
        for name, body in files.items():
            z.writestr(name, body, compress_type=zipfile.ZIP_DEFLATED)


@needs_soffice
def test_a_document_macro_never_runs(converted, tmp_path: Path) -> None:
    src, odt = converted["odt"][0]
    target = tmp_path / "macro-ran.txt"
    hostile = tmp_path / "带宏的报告.odt"
    _with_load_macro(odt, hostile, target)
    got = parse_file(hostile)
    assert got["cells"] == parse_file(src)["cells"]
    assert not target.exists(), "the document's macro ran during conversion"


def test_without_libreoffice_the_file_is_refused_saying_what_to_install(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(office.SOFFICE_ENV, str(tmp_path / "no-such-soffice"))
    doc = tmp_path / "报告.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "WordDocument".encode("utf-16-le") + b"\0" * 600)
    with pytest.raises(RejectedFile) as e:
        parse_file(doc)
    assert e.value.code == "missing_tool"
    assert "LibreOffice" in e.value.reason and "libreoffice-writer-nogui" in e.value.reason and "另存为 .docx" in e.value.reason


def _fake_soffice(tmp_path: Path, body: str) -> Path:
    prog = tmp_path / "soffice"
    prog.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    prog.chmod(0o755)
    return prog


_WORD97 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "WordDocument".encode("utf-16-le")


def test_a_conversion_that_burns_cpu_is_stopped_by_its_cpu_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is CPU time (RLIMIT_CPU on the converter), so a loaded machine never fails a good file;
    the wall-clock backstop is set far away here so that only the CPU limit can end this one."""
    from ingest import limits

    monkeypatch.setenv(office.SOFFICE_ENV, str(_fake_soffice(tmp_path, "while :; do :; done")))
    monkeypatch.setattr(limits, "CONVERT_CPU_SECONDS", 1)
    monkeypatch.setattr(limits, "PARSE_WALL_FACTOR", 10_000)
    with pytest.raises(RejectedFile) as e:
        office.to_docx(_WORD97, "doc")
    assert e.value.code == "timeout" and "处理用时超过 1 秒" in e.value.reason


def test_a_conversion_that_hangs_is_ended_by_the_backstop_with_its_processes(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import limits

    marker = "987.654"
    monkeypatch.setenv(office.SOFFICE_ENV, str(_fake_soffice(tmp_path, f"sleep {marker} & sleep {marker}")))
    monkeypatch.setattr(limits, "CONVERT_CPU_SECONDS", 1)
    monkeypatch.setattr(limits, "PARSE_WALL_FACTOR", 1)
    before = _leftovers()
    with pytest.raises(RejectedFile) as e:
        office.to_docx(_WORD97, "doc")
    assert e.value.code == "timeout" and "等待超过 1 秒" in e.value.reason
    # SIGKILL is delivered asynchronously: allow the killed processes a moment to disappear
    for _ in range(300):
        left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(0.1)
    assert left == [], "the converter's processes outlived it"
    assert _leftovers() == before


@needs_soffice
def test_a_loaded_doc_keeps_its_own_format_and_hash(converted, tmp_path: Path) -> None:
    import duckdb

    from ingest.store.loader import load_files

    _, doc = converted["doc"][0]
    db = tmp_path / "nb.duckdb"
    load_files([str(doc)], db, progress=False)
    con = duckdb.connect(str(db), read_only=True)
    try:
        fmt, sha, n = con.execute("SELECT format, sha256, n_cells FROM reports").fetchone()
    finally:
        con.close()
    assert fmt == "doc" and sha == hashlib.sha256(doc.read_bytes()).hexdigest() and n > 100
