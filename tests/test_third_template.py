"""Adding a national template is data only (docs/architecture.md, "add a template").

The test copies the code (``ingest/``, ``dashboard/``, ``pages/``, ``app.py``) into a temporary
folder and changes nothing there but the template data, ``ingest/templates/layout.toml`` and
``keys.tsv``: F2021 ends in 2026 and an invented "2027年格式" follows, the same tables with one more
row under （六）其他处理 (4.申请人撤回申请).  A 2027 report is then parsed, loaded and shown by the
copied code in fresh processes (so every table the code derives at import sees the new template):
the recogniser must name it, the mapper read the new row, the identities count it, the store's
measures add it to 其他处理, and the 办理结果 page list it as a reason with its template.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.demo.layout import render
from tests.reportkit import base_report
from tests.test_templates_source import FAKE_2027

ROOT = Path(__file__).resolve().parents[1]
NEW_ROW = "4.申请人撤回申请"

LAYOUT_2027 = FAKE_2027 + '''
[[s3.rows]]
key = "other_withdrawn"
group = "other"
keywords = ["撤回申请"]
templates = ["2027"]
'''


def _edit_layout(text: str) -> str:
    head = 'id = "2021"\nfirst_year = 2021\n'
    assert head in text
    text = text.replace(head, head + "last_year = 2026\n", 1)
    # F2021's markers and its F2021-only rows, groups and 表二 columns also belong to F2027
    marker_line = next(line for line in text.splitlines() if line.startswith('"2021" = ["本年制发件数"'))
    text = text.replace(marker_line, marker_line + "\n" + marker_line.replace('"2021" = [', '"2027" = ["撤回申请", ', 1), 1)
    text = text.replace('templates = ["2021"]', 'templates = ["2021", "2027"]')
    columns = text[text.index('[s2.columns."2021"]'):]
    columns = columns[:columns.index("\n\n")]
    text = text.replace(columns, columns + "\n\n" + columns.replace('"2021"', '"2027"', 1), 1)
    # the new row goes before 总计 (rows are matched in file order)
    total = '[[s3.rows]]\nkey = "result_total"'
    assert total in text
    template, row = LAYOUT_2027.split("\n[[s3.rows]]\n")
    return text.replace(total, "[[s3.rows]]\n" + row + "\n" + total, 1) + template


def _edit_keys(text: str) -> str:
    lines = text.splitlines()
    out = list(lines)
    out += [line.replace("\t2021\t", "\t2027\t", 1) for line in lines if "\t2021\t" in line]
    cols = ("natural", "commercial", "research", "public_interest", "legal_service", "other_org", "total")
    col_labels = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
    out += [f"s3.other_withdrawn.{c}\t2027\t三\t收到和处理政府信息公开申请情况\t（六）其他处理 {NEW_ROW}\t{lab}\t件\tcount\t"
            for c, lab in zip(cols, col_labels, strict=True)]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("ingest", "dashboard", "pages", ".streamlit"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dst / name, ignore=ignore)
    shutil.copy2(ROOT / "app.py", dst / "app.py")
    tdir = dst / "ingest" / "templates"
    (tdir / "layout.toml").write_text(_edit_layout((tdir / "layout.toml").read_text(encoding="utf-8")), encoding="utf-8")
    (tdir / "keys.tsv").write_text(_edit_keys((tdir / "keys.tsv").read_text(encoding="utf-8")), encoding="utf-8")
    changed = subprocess.run(["diff", "-rq", str(ROOT / "ingest"), str(dst / "ingest"), "-x", "__pycache__"],
                             capture_output=True, text=True).stdout.split("\n")
    assert sorted(line for line in changed if line) == sorted(
        f"Files {ROOT / 'ingest/templates' / f} and {tdir / f} differ" for f in ("keys.tsv", "layout.toml"))
    return dst


def _report_2027(path: Path) -> None:
    """A 2021-format report for 2027 with the new row printed after 3.其他: 1 application withdrawn."""
    r = base_report("2021", 2027, **{"s3__new_received__natural": "4", "s3__new_received__total": "4",
                                     "s3__result_total__natural": "4", "s3__result_total__total": "4"})
    text = render(r, "pipe").decode("utf-8")
    other = next(line for line in text.splitlines() if line.startswith("3.其他 |"))
    text = text.replace(other, other + f"\n{NEW_ROW} | 1 | 0 | 0 | 0 | 0 | 0 | 1 |", 1)
    said = "收到政府信息公开申请3件"
    assert said in text
    text = text.replace(said, "收到政府信息公开申请4件", 1).replace("无法提供1件", "无法提供1件，申请人撤回1件", 1)
    path.write_text(text, encoding="utf-8")


def _run(tree: Path, *args: str, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=tree, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(tree), **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def loaded(tree: Path) -> tuple[dict, Path]:
    report = tree / "栖云镇2027.txt"
    _report_2027(report)
    parsed = json.loads(_run(tree, "-m", "ingest", "parse", str(report)).splitlines()[0])
    db = tree / "nb.duckdb"
    _run(tree, "-m", "ingest", "load", str(report), "--db", str(db))
    return parsed, db


def test_the_parser_recognises_the_new_template_and_reads_its_new_row(loaded: tuple[dict, Path]) -> None:
    parsed, _ = loaded
    assert parsed["template"] == "2027"
    assert parsed["cells"]["s3.other_withdrawn.natural"] == 1
    assert parsed["cells"]["s3.other_withdrawn.total"] == 1
    # S3-2 adds the new row to the results (4 = 2 granted + 1 无法提供 + 1 withdrawn); no X-5 for 2027
    assert parsed["findings"] == []


_DASHBOARD = r'''
import json, sys
import duckdb
from streamlit.testing.v1 import AppTest
from ingest.templates import cell_name
from dashboard.scope import TEMPLATES, TEMPLATE_NAMES
db = sys.argv[1]
con = duckdb.connect(db, read_only=True)
measures = con.execute("SELECT template, received, other, result_total FROM v_report_measures").fetchall()
con.close()
at = AppTest.from_file("app.py", default_timeout=120)
at.run()
at.switch_page("pages/outcomes.py").run()
tables = [d.value.astype(str).values.tolist() for d in at.dataframe]
tpl = [m for m in at.multiselect if m.label == "模板版本"][0]
print(json.dumps({"measures": measures, "templates": list(TEMPLATES), "names": TEMPLATE_NAMES,
                  "cell_name": cell_name("2027", "s3.other_withdrawn.natural"),
                  "errors": [str(e.value) for e in [*at.exception, *at.error]],
                  "tables": tables, "template_options": list(tpl.options)}, ensure_ascii=False))
'''


def test_the_store_and_the_dashboard_pick_it_up(tree: Path, loaded: tuple[dict, Path]) -> None:
    _, db = loaded
    script = tree / "dashboard_check.py"
    script.write_text(_DASHBOARD, encoding="utf-8")
    out = json.loads(_run(tree, str(script), str(db), env={"NIANBAO_DB": str(db)}).splitlines()[-1])
    assert out["errors"] == []
    assert out["measures"] == [["2027", 4.0, 1.0, 4.0]]           # 其他处理 = the new row
    assert "2027" in out["templates"] and out["names"]["2027"] == "2027年格式"
    assert "2027年格式" in out["template_options"]
    assert out["cell_name"] == f"表三 第（六）项其他处理 {NEW_ROW} 自然人列"
    reasons = [row for t in out["tables"] for row in t if any("撤回申请" in str(c) for c in row)]
    assert reasons and any("（2027年格式）" in str(c) for c in reasons[0]), out["tables"]
