"""Legacy office documents — Word 97–2003 (.doc), WPS 文字 (.wps), RTF, OpenDocument (.odt) — read
by converting them to .docx with LibreOffice and reading that with the DOCX reader, so every format
reaches the mapper as the same kind of :class:`~ingest.document.Document`.

Each conversion runs ``soffice --headless`` in a private temporary folder (mode 0700) that holds the
input, the output, LibreOffice's user profile and its temporary files, and is removed afterwards:
nothing is left behind, and two conversions never share a profile (they would block each other).
The profile switches macros off (highest macro security, execution disabled), the child gets a
CPU-time limit (RLIMIT_CPU, so a busy machine never fails a good file) and a file-size limit, and a
wall-clock backstop far above that catches a conversion that hangs without using the CPU.  The
converter runs inside the parse worker, so the loader's pool and progress bar cover it.

Without LibreOffice the file is refused with a message that says what to install.  The original
file's format stays in the provenance (``Document.converted_from``; ``source_format`` in the parse
output); the sha256 is that of the original bytes.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ingest import limits
from ingest.document import Document
from ingest.errors import RejectedFile
from ingest.readers.common import check_file_size

# where soffice is, when not on PATH (e.g. /opt/libreoffice7.6/program/soffice)
SOFFICE_ENV = "NIANBAO_SOFFICE"
INSTALL_HINT = "请管理员安装 LibreOffice（Debian/Ubuntu：apt-get install libreoffice-writer-nogui）后重新导入"

_SUFFIX = {"doc": ".doc", "wps": ".wps", "rtf": ".rtf", "odt": ".odt"}
# The import filters to try, in order.  Named, because LibreOffice left to guess opens anything it
# does not recognise as plain text: a damaged .doc would "convert" into a page of noise.  A .wps
# without the Word 97 stream (Microsoft Works, old WPS) is left to LibreOffice's own detection.
_WORD97 = "WordDocument".encode("utf-16-le")
_FILTERS = {"doc": ("MS Word 97", "MS Word 95"), "rtf": ("Rich Text Format",), "odt": ("writer8",)}

# Highest macro security and macro execution off, in the conversion's own profile.
_NO_MACROS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    configured = os.environ.get(SOFFICE_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


# Sets the limits and then becomes LibreOffice (exec), so the limits hold for soffice and every process
# it starts.  A small program rather than ``preexec_fn``, which is unsafe in a threaded process (the
# web app converts small uploads in its own process).
_LIMITED_EXEC = ("import os, resource, sys\n"
                 "cpu, size = int(sys.argv[1]), int(sys.argv[2])\n"
                 "resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))\n"
                 "resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))\n"
                 "os.execv(sys.argv[3], sys.argv[3:])\n")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _filters(data: bytes, fmt: str) -> tuple[str | None, ...]:
    if fmt == "wps":
        return _FILTERS["doc"] if _WORD97 in data else (None,)
    return _FILTERS[fmt]


def to_docx(data: bytes, fmt: str) -> bytes:
    """The file converted to .docx bytes, or :class:`RejectedFile` with a plain reason."""
    for infilter in _filters(data, fmt):
        converted = _convert(data, fmt, infilter)
        if converted is not None:
            return converted
    from ingest.readers import REGISTRY

    raise RejectedFile(f"{REGISTRY[fmt].name}已损坏或格式异常，LibreOffice 无法打开；请用 Word/WPS 打开确认，"
                       "或另存为 .docx 后再导入", "corrupt")


def _convert(data: bytes, fmt: str, infilter: str | None) -> bytes | None:
    """One conversion with one import filter: the .docx bytes, or None when LibreOffice could not
    open the file with that filter."""
    from ingest.readers import REGISTRY

    name = REGISTRY[fmt].name
    program = soffice()
    if program is None:
        raise RejectedFile(f"{name}需要先用 LibreOffice 转换才能读取，本机未安装 LibreOffice：{INSTALL_HINT}；"
                           "或在 Word/WPS 中另存为 .docx 后再导入", "missing_tool")
    work = Path(tempfile.mkdtemp(prefix="nianbao-convert-"))
    proc: subprocess.Popen | None = None
    try:
        profile = work / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_NO_MACROS, encoding="utf-8")
        out = work / "out"
        out.mkdir()
        tmp = work / "tmp"
        tmp.mkdir()
        src = work / f"report{_SUFFIX[fmt]}"
        src.write_bytes(data)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "TMPDIR": str(tmp),
               "LANG": "C.UTF-8", "SAL_USE_VCLPLUGIN": "svp"}
        cmd = [sys.executable, "-c", _LIMITED_EXEC, str(max(1, math.ceil(limits.CONVERT_CPU_SECONDS))),
               str(limits.CONVERT_MAX_OUTPUT_BYTES), program, "--headless", "--invisible", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
               f"-env:UserInstallation={profile.as_uri()}",
               *([f"--infilter={infilter}"] if infilter else []),
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out), str(src)]
        cpu_before = _children_cpu()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env, cwd=work, start_new_session=True)
        wall = limits.CONVERT_CPU_SECONDS * limits.PARSE_WALL_FACTOR
        try:
            proc.wait(timeout=wall)
        except subprocess.TimeoutExpired:
            raise RejectedFile(f"{name}转换超时（等待超过 {wall:g} 秒仍未完成），文件可能已损坏；"
                               "请在 Word/WPS 中打开后另存为 .docx 再导入", "timeout") from None
        result = out / "report.docx"
        if (not result.is_file() and proc.returncode != 0
                and _children_cpu() - cpu_before >= limits.CONVERT_CPU_SECONDS * 0.9):
            raise RejectedFile(f"{name}转换超时（处理用时超过 {limits.CONVERT_CPU_SECONDS:g} 秒），"
                               "文件可能已损坏或结构异常", "timeout")
        if not result.is_file() or result.stat().st_size == 0:
            return None
        check_file_size(result.stat().st_size)
        return result.read_bytes()
    finally:
        if proc is not None:
            # the whole session: soffice.bin may outlive the wrapper that started it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def read(data: bytes, source: str, fmt: str) -> Document:
    from ingest.readers.docx import read as read_docx

    doc = read_docx(to_docx(data, fmt), source)
    doc.converted_from = fmt
    return doc
