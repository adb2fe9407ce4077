"""Which files a ``load`` looks at: named files as given, folders recursively.

Inside folders, hidden files and folders (``.git``, ``.DS_Store``) are not looked at, and files
that are evidently not reports by their name (manifests, README, expected-result files, Office
lock files, database files) are recorded as ``skipped`` with the reason.  Every other file is
handed to the parser, which rejects what it cannot read with a plain reason.  A file named on
the command line is always handed to the parser.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from pathlib import Path

from ingest.limits import MAX_FILE_BYTES
from ingest.store.writer import FileItem

# (glob patterns on the lower-cased file name, reason shown to the user)
SKIP_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("*.expected.json", "truth.jsonl", "*.json", "*.jsonl"), "数据文件，不是报告"),
    (("*.csv", "*.tsv"), "清单或表格数据文件，不是报告"),
    (("readme*", "*.md", "license*", "changelog*"), "说明文件，不是报告"),
    (("~$*", "thumbs.db", "desktop.ini"), "系统或 Office 临时文件"),
    (("*.duckdb", "*.duckdb.*", "*.wal", "*.lock", "*.py", "*.pyc"), "程序或数据库文件，不是报告"),
)


def skip_reason(name: str) -> str | None:
    low = name.lower()
    for patterns, reason in SKIP_RULES:
        if any(fnmatch.fnmatchcase(low, p) for p in patterns):
            return reason
    return None


def discover(paths: list[str]) -> list[FileItem]:
    """Expand ``paths`` into file items (absolute paths, each once, in a stable order)."""
    items: list[FileItem] = []
    seen: set[str] = set()

    def add(item: FileItem) -> None:
        if item.path not in seen:
            seen.add(item.path)
            items.append(item)

    for raw in paths:
        p = Path(raw).expanduser()
        ap = str(p.resolve())
        if p.is_file():
            add(FileItem(ap))
        elif p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for name in sorted(files):
                    if name.startswith("."):
                        continue
                    fp = str((Path(root) / name).resolve())
                    reason = skip_reason(name)
                    add(FileItem(fp, skipped=reason) if reason else FileItem(fp))
        else:
            add(FileItem(ap, rejected="文件或文件夹不存在"))
    return items


def hash_file(item: FileItem) -> None:
    """Fill ``item.sha256``, or reject the item when it cannot be read or is too large."""
    try:
        size = os.path.getsize(item.path)
        if size > MAX_FILE_BYTES:
            item.rejected = f"文件过大（{size / 1048576:.1f} MB），超过 {MAX_FILE_BYTES // 1048576} MB 的上限"
            return
        h = hashlib.sha256()
        with open(item.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        item.sha256 = h.hexdigest()
    except OSError as e:
        item.rejected = f"无法读取文件：{e.strerror or e}"


def mtime_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
