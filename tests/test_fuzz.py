"""Fuzzing the parser (issue 7 item 1) and hostile content inside valid documents (item 2).

Whatever the bytes, ``parse_file`` returns a result that keeps the output invariants
(``fuzzkit.check_result``: keys of the template only, numbers or null, kinds consistent with values,
findings with a rule, a severity and one line of Chinese, a plausible year, strict JSON) or raises
``RejectedFile`` with one line of Chinese — never another exception.

The properties here are a small, fast sample (hypothesis, a few hundred inputs in all); the bounded
10,000-input run is ``bench/fuzz_parse.py``.  Regression tests for what fuzzing found sit at the end.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ingest.demo.layout import EXTENSIONS, SOURCE_FORMAT, render
from ingest.errors import RejectedFile
from ingest.sniff import read_document
from ingest.textnorm import strip_invisible
from ingest.values import classify
from tests import fuzzkit as F
from tests.reportkit import base_report

ROOT = Path(__file__).resolve().parents[1]


def fuzz_settings(n: int, shrink: bool = True):
    """``n`` examples.  The per-example time limit is a CPU-time budget inside ``fuzzkit.outcome`` (a few
    seconds; 20 s for PDFs): a hang, not slowness, is what it catches, and unlike hypothesis's wall-clock
    deadline a busy shared machine cannot trip it.  ``shrink=False`` for the slow ones (PDF, rendering
    DOCX/PDF), where shrinking a failure would take minutes; hypothesis still reports the example."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.target, Phase.shrink] if shrink else [])
    return settings(max_examples=n, deadline=None, phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


BUDGET = {"text": 10, "html": 10, "docx": 10, "pdf": 20}      # CPU seconds per example
# Fewer PDF examples: reading a PDF costs ~50 times a text file.
BYTE_EXAMPLES = {"text": 150, "html": 120, "docx": 120, "pdf": 25}
SLOW = {"pdf"}


# ------------------------------------------------------------------------------------------- (a) bytes

@pytest.mark.parametrize("fmt", F.FORMATS)
def test_byte_mutations_parse_or_refuse(fmt: str) -> None:
    seeds = F.seeds_for(fmt)
    names = F.byte_mutators_for(fmt)

    @fuzz_settings(BYTE_EXAMPLES[fmt], shrink=fmt not in SLOW)
    @given(seed=st.sampled_from(seeds), ops=st.lists(st.sampled_from(names), min_size=1, max_size=3),
           rnd=st.randoms(use_true_random=False))
    def prop(seed: F.Seed, ops: list[str], rnd: random.Random) -> None:
        data = seed.data
        for op in ops:
            data = F.BYTE_MUTATOR[op](data, rnd)
        F.outcome(data, seed.filename, budget=BUDGET[fmt])

    prop()


@pytest.mark.parametrize("fmt", ["text", "html"])
def test_mislabelled_encodings_parse_or_refuse(fmt: str) -> None:
    seeds = [s for s in F.seeds_for(fmt) if F.decoded(s)]

    @fuzz_settings(100)
    @given(seed=st.sampled_from(seeds), enc=st.sampled_from(F.ENCODING_MUTATORS[fmt]),
           mutate=st.booleans(), rnd=st.randoms(use_true_random=False))
    def prop(seed: F.Seed, enc, mutate: bool, rnd: random.Random) -> None:
        text = F.decoded(seed)
        if mutate:
            text = F.mutate_text(text, rnd, 2)
        F.outcome(enc[1](text, rnd), seed.filename, budget=BUDGET[fmt])

    prop()


@pytest.fixture(scope="module")
def clean_2021() -> dict:
    rep = base_report("2021")
    return {fmt: render(rep, fmt) for fmt in ("pipe", "html")}


def _cells(data: bytes, name: str) -> dict:
    r = F.parse_bytes(data, name)
    F.check_result(r)
    return r["cells"]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16-le", "utf-16-be"])
def test_text_in_another_encoding_reads_the_same(clean_2021: dict, encoding: str) -> None:
    text = clean_2021["pipe"].decode("utf-8")
    want = _cells(clean_2021["pipe"], "r.txt")
    assert want, "the clean report must have cells"
    assert _cells(text.encode(encoding), "r.txt") == want


def _cut_inside_a_character(text: str, encoding: str) -> bytes:
    """The file cut off in the middle of a multi-byte character (an interrupted download)."""
    k = len(text) * 2 // 3
    while not F.CHINESE.match(text[k]):
        k += 1
    return text[:k].encode(encoding) + text[k].encode(encoding)[:1]


@pytest.mark.parametrize("damage", ["stray byte", "cut inside a character", "several stray bytes"])
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_regression_a_few_bad_bytes_do_not_refuse_the_report(clean_2021: dict, encoding: str, damage: str) -> None:
    """A UTF-8 or GBK report with one damaged byte, or cut inside a character, was refused whole
    (无法识别文件的文字编码): strict UTF-8 failed, GB18030 failed or gave mojibake, so did detection."""
    text = clean_2021["pipe"].decode("utf-8")
    data = text.encode(encoding)
    at = len(text[:text.index("收到政府信息公开申请")].encode(encoding))     # in the narrative of 一
    if damage == "stray byte":
        data = data[:at] + b"\xff" + data[at:]
    elif damage == "several stray bytes":
        for k in range(3):
            data = data[:at + 6 * k] + b"\x80" + data[at + 6 * k:]
    else:
        data = _cut_inside_a_character(text, encoding)
    r = F.parse_bytes(data, "r.txt")
    F.check_result(r)
    assert r["unit"] == "栖云镇" and r["template"] == "2021"
    if damage != "cut inside a character":
        assert r["cells"] == _cells(clean_2021["pipe"], "r.txt")


def test_half_utf8_half_gbk_is_refused_in_plain_words(clean_2021: dict) -> None:
    """Too many undecodable bytes either way: still refused, with the encoding reason."""
    text = clean_2021["pipe"].decode("utf-8")
    half = len(text) // 2
    with pytest.raises(RejectedFile) as info:
        F.parse_bytes(text[:half].encode("utf-8") + text[half:].encode("gbk"), "r.txt")
    F.check_refusal(info.value)


def test_gbk_page_that_declares_utf8_reads_the_same(clean_2021: dict) -> None:
    html = clean_2021["html"].decode("utf-8")
    assert "charset=utf-8" in html
    want = _cells(clean_2021["html"], "r.html")
    assert _cells(html.encode("gbk"), "r.html") == want


@pytest.mark.parametrize("label", ["gb2312", "gbk", "big5", "utf-7", "base64", "rot13", "x-nonsense"])
def test_utf8_page_that_declares_another_charset_reads_the_same(clean_2021: dict, label: str) -> None:
    html = clean_2021["html"].decode("utf-8").replace("charset=utf-8", f"charset={label}")
    assert _cells(html.encode("utf-8"), "r.html") == _cells(clean_2021["html"], "r.html")


def test_utf16_page_without_bom_reads_the_same(clean_2021: dict) -> None:
    html = clean_2021["html"].decode("utf-8")
    assert _cells(html.encode("utf-16-le"), "r.html") == _cells(clean_2021["html"], "r.html")


# ------------------------------------------------------------------------------------------- (b) text

def test_text_mutations_through_text_reader_and_mapper() -> None:
    seeds = [s for s in F.seeds_for("text") if F.decoded(s)]

    @fuzz_settings(200)
    @given(seed=st.sampled_from(seeds), rnd=st.randoms(use_true_random=False))
    def prop(seed: F.Seed, rnd: random.Random) -> None:
        F.outcome(F.mutate_text(F.decoded(seed), rnd).encode("utf-8"), seed.filename, budget=BUDGET["text"])

    prop()


def test_document_mutations_through_the_mapper() -> None:
    docs = F.seed_documents()

    @fuzz_settings(150)
    @given(doc=st.sampled_from(docs), rnd=st.randoms(use_true_random=False))
    def prop(doc, rnd: random.Random) -> None:
        F.parse_doc(F.mutate_document(doc, rnd), budget=BUDGET["text"])

    prop()


@pytest.mark.parametrize("demo_fmt,n", [("pipe", 60), ("text", 40), ("html", 40), ("docx", 12), ("pdf", 8)])
def test_mutated_reports_rendered_in_each_format(demo_fmt: str, n: int) -> None:
    @fuzz_settings(n, shrink=demo_fmt in ("pipe", "text", "html"))
    @given(template=st.sampled_from(["2019", "2021"]), rnd=st.randoms(use_true_random=False))
    def prop(template: str, rnd: random.Random) -> None:
        rep = F.mutate_report(F.demo_report(template), rnd, xml_safe=demo_fmt == "docx")
        F.outcome(render(rep, demo_fmt), f"r{EXTENSIONS[demo_fmt]}", budget=BUDGET[SOURCE_FORMAT[demo_fmt]])

    prop()


@pytest.mark.parametrize("number", ["-3", "2.5", "+5", "1,234", "99999999999999", "０", "−1", "1e5", "0x1F"])
def test_any_printed_number_in_any_cell(number: str) -> None:
    rep = base_report("2021")
    for key in list(rep.cells)[::7]:
        rep.cells[key] = number
    r = F.parse_bytes(render(rep, "pipe"), "r.txt")
    F.check_result(r)


# ------------------------------------------------------------------------------------------- (c) hostile content

DEMO_FORMATS = ["text", "pipe", "html", "docx", "pdf"]


def _squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.mark.parametrize("demo_fmt", DEMO_FORMATS)
def test_hostile_narrative_is_kept_as_plain_text(demo_fmt: str) -> None:
    rep = base_report("2021")
    rep.sections["一"] += "".join(f"\n{h}" for h in F.HOSTILE)
    rep.sections["五"] = "问题：" + "；".join(F.HOSTILE) + "。"
    r = F.parse_bytes(render(rep, demo_fmt), f"r{EXTENSIONS[demo_fmt]}")
    F.check_result(r)
    assert r["unit"] == "栖云镇" and r["year"] == 2023 and r["template"] == "2021"
    text = "\n".join(r["sections"].values())
    for h in F.HOSTILE:
        want = strip_invisible(h)        # bidi controls are removed on purpose (spec §12.7)
        if demo_fmt == "pdf":            # a PDF re-wraps lines: compare without white space
            assert _squeeze(want) in _squeeze(text), h
        else:
            assert want in text, f"{h!r} not kept verbatim in sections"
    assert not any(k.startswith("s3.") and r["kinds"][k] == "text" for k in r["cells"]), "narrative leaked into cells"


@pytest.mark.parametrize("demo_fmt", DEMO_FORMATS)
def test_hostile_title_does_not_break_recognition(demo_fmt: str) -> None:
    rep = base_report("2021")
    rep.title = "示例市云岭区栖云镇人民政府2023年政府信息公开工作年度报告<script>alert(1)</script>**[x](javascript:1)**"
    r = F.parse_bytes(render(rep, demo_fmt), f"r{EXTENSIONS[demo_fmt]}")
    F.check_result(r)
    assert r["unit"] == "栖云镇" and r["year"] == 2023 and r["region"] == "云岭区"


# One hostile payload per cell: first, middle and last value columns of 表三, a one-value row of 表二,
# a middle cell of 表四's single data row.
HOSTILE_CELLS = (
    "s3.granted.commercial", "s3.partial.natural", "s3.deny_state_secret.total", "s3.unable_not_held.research",
    "s3.noproc_petition.public_interest", "s3.other_fee_unpaid.legal_service", "s3.carry_forward.other_org",
    "s2.penalty.decisions", "s2.regulation.repealed", "s2.fee.amount", "s4.review.corrected",
    "s4.suit_after_review.pending",
)
# Short ones for the PDF, where a long unbreakable string spills over into the neighbouring cells.
SHORT_HOSTILE = ("**5**", "<b>1</b>", "<i>", "=1+1", "[a](b)", "{{x}}", "<!--", "`rm`", "&amp;", "_x_", "<", "#")


@pytest.fixture(scope="module")
def clean_cells() -> dict[str, dict]:
    rep = base_report("2021")
    return {fmt: F.parse_bytes(render(rep, fmt), f"r{EXTENSIONS[fmt]}")["cells"] for fmt in DEMO_FORMATS}


@pytest.mark.parametrize("demo_fmt", DEMO_FORMATS)
def test_hostile_cells_are_kept_verbatim_as_text_in_their_column(demo_fmt: str, clean_cells: dict) -> None:
    """Markup in a value cell is text (reported by the checks) and the cells after it keep their columns."""
    payloads = SHORT_HOSTILE if demo_fmt == "pdf" else F.HOSTILE
    rep = base_report("2021")
    put = dict(zip(HOSTILE_CELLS, payloads, strict=True))
    rep.cells.update(put)
    r = F.parse_bytes(render(rep, demo_fmt), f"r{EXTENSIONS[demo_fmt]}")
    F.check_result(r)
    for key, payload in put.items():
        assert r["raw"].get(key) == strip_invisible(payload).strip(), (key, r["raw"].get(key))
        assert r["kinds"][key] == "text" and r["cells"][key] is None, key
        assert any(key in f["keys"] and strip_invisible(payload).strip() in f["message"] for f in r["findings"]), key
    others = {k: v for k, v in clean_cells[demo_fmt].items() if k not in put}
    assert {k: r["cells"].get(k) for k in others} == others, "a text cell moved the numbers after it"


# ------------------------------------------------------------------------------------------- the CLI

def test_cli_on_mutated_files_prints_json_or_one_line_reasons(tmp_path: Path) -> None:
    rng = random.Random(7)
    files = []
    for i, seed in enumerate(F.all_seeds()):
        for j in range(2):
            p = tmp_path / f"{i}-{j}{Path(seed.filename).suffix}"
            p.write_bytes(F.mutate_bytes(seed.data, rng))
            files.append(p)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run([sys.executable, "-m", "ingest", "parse", *map(str, files)], cwd=ROOT, env=env,
                       capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert "Traceback" not in r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    err = r.stderr.splitlines()
    assert len(out) + len(err) == len(files), r.stderr
    for line in err:
        path, _, reason = line.partition(": ")
        assert Path(path) in files and F.CHINESE.search(reason) and "内部错误" not in reason, line
    for obj in out:
        F.check_result({**obj, "raw": obj["raw"], "kinds": obj["kinds"]})


# ------------------------------------------------------------------------------------------- regressions

def test_regression_number_with_more_digits_than_python_converts() -> None:
    """A cell of 5000 digits raised ValueError (int() refuses more than 4300 digits)."""
    cv = classify("9" * 5000)
    assert cv.kind == "text" and cv.value is None
    rep = base_report("2021")
    rep.cells["s3.granted.natural"] = "9" * 5000
    r = F.parse_bytes(render(rep, "pipe"), "r.txt")
    F.check_result(r)
    assert r["kinds"]["s3.granted.natural"] == "text"


@pytest.mark.parametrize("printed", ["1" * 400 + ".5", "9" * 400, str(10**40), "1234567890123456"])
def test_regression_numbers_beyond_any_count_are_text(printed: str) -> None:
    """'1…(400 digits).5' became float inf: OverflowError in the finding message, 'Infinity' in the JSON;
    10**40 passed as an int that DuckDB refuses (over 128 bits).  Over 15 integer digits is text."""
    assert classify(printed).kind == "text"
    rep = base_report("2019")
    rep.cells["s3.granted.natural"] = printed
    rep.cells["s2.procurement.amount"] = printed + "万元"
    r = F.parse_bytes(render(rep, "html"), "r.html")
    F.check_result(r)
    assert r["kinds"]["s3.granted.natural"] == "text" and r["cells"]["s3.granted.natural"] is None
    assert r["kinds"]["s2.procurement.amount"] == "text"
    assert {"S3-4"} <= {f["rule"] for f in r["findings"]}


@pytest.mark.parametrize("printed", ["999999999999999", "-5", "12.5", "1,234,567"])
def test_long_but_plausible_numbers_stay_numbers(printed: str) -> None:
    assert classify(printed).kind == "number"


def test_regression_huge_number_in_the_narrative() -> None:
    """'收到申请<5000 digits>件' raised ValueError when the narrative check read the figure."""
    rep = base_report("2021")
    rep.sections["一"] = f"2023年，栖云镇收到政府信息公开申请{'9' * 5000}件，予以公开{'1' * 40}件。"
    r = F.parse_bytes(render(rep, "pipe"), "r.txt")
    F.check_result(r)


@pytest.mark.parametrize("demo_fmt", ["text", "html"])
def test_regression_finding_message_is_one_line(demo_fmt: str) -> None:
    """A cell printed on two lines ('0' + '|' in a tab cell, a <br> in a web page) put a line break into the
    S3-4 message, which must be one line (spec §9.1)."""
    rep = base_report("2021")
    rep.cells["s3.granted.commercial"] = "0\n||"
    r = F.parse_bytes(render(rep, demo_fmt), f"r{EXTENSIONS[demo_fmt]}")
    F.check_result(r)
    assert any(f["rule"] == "S3-4" for f in r["findings"])


@pytest.mark.parametrize("demo_fmt", ["text", "html", "docx"])
@pytest.mark.parametrize("printed", ["不适用", "见附件", "abc"])
def test_regression_text_cell_does_not_shift_the_row(demo_fmt: str, printed: str) -> None:
    """A word in a value cell was dropped, so the cells after it moved one column left: 其他 got the
    row's total and 总计 went blank or absent (wrong numbers in the wrong columns)."""
    rep = base_report("2021")
    rep.cells["s3.granted.commercial"] = printed
    r = F.parse_bytes(render(rep, demo_fmt), f"r{EXTENSIONS[demo_fmt]}")
    row = {k.split(".")[-1]: r["raw"].get(k) for k in r["raw"] if k.startswith("s3.granted.")}
    assert row == {"natural": "2", "commercial": printed, "research": "0", "public_interest": "0",
                   "legal_service": "0", "other_org": "0", "total": "2"}


@fuzz_settings(60)
@given(year=st.integers(1000, 2999))
def test_regression_report_year_is_plausible(year: int) -> None:
    """A title year of 1900–1989 was taken as the report year (the regexes accepted 19xx)."""
    rep = base_report("2021", year=year)
    r = F.parse_bytes(render(rep, "pipe"), "r.txt")
    F.check_result(r)
    assert r["year"] == (year if 1990 <= year <= 2099 else None)


def test_regression_short_file_cut_inside_a_character(clean_2021: dict) -> None:
    """Under 1,000 bytes, one damaged sequence was still too many: a short page cut mid-character was refused."""
    text = clean_2021["pipe"].decode("utf-8")[:300]
    data = _cut_inside_a_character(text, "utf-8")
    assert len(data) < 1000
    r = F.parse_bytes(data, "r.txt")
    F.check_result(r)
    assert r["unit"] == "栖云镇" and r["year"] == 2023


def test_regression_pdf_line_of_one_repeated_character() -> None:
    """The fake-bold check compared each character with every earlier copy of it on the same line:
    a 1.4 KB PDF with one line of 30,000 '9's (text running off the page) took 30 s, 100,000 minutes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 8)
    c.drawString(50, 800, "2020")
    c.drawString(10, 700, "9" * 30_000)
    c.showPage()
    c.save()
    with F.cpu_budget(10):           # a hang guard (about 0.3 s when linear), not a timing assert
        doc = read_document(buf.getvalue(), "x.pdf")
    assert "9" * 1000 in doc.plain_text()


def test_regression_row_with_a_long_run_of_blank_cells() -> None:
    """Surplus blanks were dropped from the front of a row with list.pop(0), quadratic: a 3 MB text
    report with one row of a million empty tab cells before its value took many minutes."""
    from ingest.mapper import fit_values
    from ingest.tokens import Token

    tok = Token("", "", "", "第1行", True, False, 0)
    blank, five = classify(""), classify("5")
    values = [(blank, tok)] * 500_000 + [(five, tok)] + [(blank, tok)] * 10
    with F.cpu_budget(10):           # a hang guard (milliseconds when linear), not a timing assert
        cells, surplus = fit_values(values, 7)
    assert [c.raw for c, _ in cells] == [""] * 6 + ["5"] and surplus == []


def test_long_run_of_blank_cells_in_a_text_report() -> None:
    text = render(base_report("2021"), "text").decode()
    text = text.replace("\t（一）予以公开\n\t2\n", "\t（一）予以公开\n" + "\t" * 30_000 + "\n\t2\n", 1)
    r = F.parse_bytes(text.encode(), "r.txt")
    F.check_result(r)
    assert r["raw"]["s3.granted.natural"] == "2"


@pytest.mark.parametrize("run", [" ", "\u3000", "\xa0"])        # (tabs are cells: see the giant-text test)
def test_regression_long_run_of_spaces_inside_a_line(run: str) -> None:
    """The text reader splits long lines before section headings with ``\\s+(?=一、总体情况…)``: on a line
    holding 100,000 spaces the regex retried every start inside the run (quadratic, minutes)."""
    text = render(base_report("2021"), "pipe").decode()
    at = text.index("收到政府信息公开申请")
    text = text[:at] + run * 100_000 + text[at:]
    with F.cpu_budget(10):           # a hang guard (well under a second when linear), not a timing assert
        r = F.parse_bytes(text.encode(), "r.txt")
    F.check_result(r)
    assert r["unit"] == "栖云镇" and r["cells"]["s3.granted.natural"] == 2


def _pdf_with_one_stream(content: bytes, *, break_checksum: bool = False, body: bytes | None = None,
                         filters: bytes = b"/FlateDecode") -> bytes:
    """A minimal one-page PDF whose content stream is ``content``, deflated (its Adler-32 broken if asked),
    or the already encoded ``body`` under ``filters``."""
    if body is None:
        body = zlib.compress(content)
    if break_checksum:
        body = body[:-1] + bytes([body[-1] ^ 0xFF])
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
            b"/Contents 4 0 R >>",
            b"<< /Length %d /Filter %s >>\nstream\n" % (len(body), filters) + body + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_regression_pdf_stream_with_a_broken_checksum() -> None:
    """pdfminer reads a Flate stream whose checksum fails one byte at a time, concatenating the output
    (quadratic): a 1 MB PDF with one such stream took half a minute, a bigger one hours."""
    letters = bytes.maketrans(bytes(range(256)), (b"abcdefghijklmnopqrstuvwxyz0123456789" * 8)[:256])
    noise = random.Random(1).randbytes(1_600_000).translate(letters)
    comments = b"".join(b"% " + noise[i:i + 100] + b"\n" for i in range(0, len(noise), 100))
    content = b"BT /F1 12 Tf 50 800 Td (2020 report) Tj ET\n" + comments
    for broken in (False, True):
        with F.cpu_budget(10):       # a hang guard (under a second when linear), not a timing assert
            doc = read_document(_pdf_with_one_stream(content, break_checksum=broken), "x.pdf")
        assert "2020 report" in doc.plain_text()


def _deflated_spaces(megabytes: int) -> bytes:
    z = zlib.compressobj(9)
    block = b" " * (1 << 20)
    return b"".join(z.compress(block) for _ in range(megabytes)) + z.flush()


@pytest.mark.parametrize("chain", ["ascii85 then flate", "flate twice"])
def test_regression_stream_bomb_behind_another_filter_is_refused(chain: str) -> None:
    """The stream-bomb check inflated only a first /FlateDecode: behind /ASCII85Decode, or deflated twice,
    a PDF of under 1 KB inflated to 400 MB in memory (and a few KB more to gigabytes).  100 MB here: over
    the 32 MB page limit either way."""
    import base64

    bomb = _deflated_spaces(100)
    if chain == "flate twice":
        body, filters = zlib.compress(bomb, 9), b"[/FlateDecode /FlateDecode]"
    else:
        body, filters = base64.a85encode(bomb) + b"~>", b"[/ASCII85Decode /FlateDecode]"
    with pytest.raises(RejectedFile) as info:
        read_document(_pdf_with_one_stream(b"", body=body, filters=filters), "bomb.pdf")
    assert info.value.code == "unsafe", info.value.reason


def _pdf_with_nested_forms(levels: int, fan: int) -> bytes:
    """A page that draws form X0; each form Xk draws X(k+1) ``fan`` times; the last one prints 'x'."""
    def stream(attrs: bytes, content: bytes) -> bytes:
        return attrs + b" /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"

    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> "
               b"/XObject << /X0 6 0 R >> >> /Contents 4 0 R >>",
            4: stream(b"<<", b"BT /F1 12 Tf 50 800 Td (2020 report) Tj ET\n/X0 Do\n"),
            5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    for k in range(levels):
        last = k + 1 == levels
        content = b"BT /F1 8 Tf 10 10 Td (x) Tj ET\n" if last else b"/X%d Do\n" % (k + 1) * fan
        res = b"<< /Font << /F1 5 0 R >> >>" if last else \
            b"<< /XObject << /X%d %d 0 R >> /Font << /F1 5 0 R >> >>" % (k + 1, 7 + k)
        objs[6 + k] = stream(b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources " + res, content)
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for i in sorted(objs):
        offsets[i] = len(out)
        out += b"%d 0 obj\n" % i + objs[i] + b"\nendobj\n"
    xref, size = len(out), max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size + b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def test_regression_pdf_forms_drawing_forms_are_refused() -> None:
    """Forms that draw forms multiply (a 'billion laughs' for PDF): 10 levels of 10 draws each is 10^10
    draws from a 2 KB file; 6 levels took 18 s, 9 would take hours."""
    assert "2020 report" in read_document(_pdf_with_nested_forms(2, 3), "ok.pdf").plain_text()
    with F.cpu_budget(20), pytest.raises(RejectedFile) as info:      # a hang guard, not a timing assert
        read_document(_pdf_with_nested_forms(10, 10), "bomb.pdf")
    assert info.value.code == "unsafe" and "第1页" in info.value.reason, info.value.reason


@pytest.mark.parametrize("demo_fmt", ["pipe", "html", "docx"])
def test_regression_markup_never_becomes_part_of_a_region(demo_fmt: str) -> None:
    """With markup inside the issuer's name, the region was read from the text before the township as
    '</script>区' (found by test_mutated_reports_rendered_in_each_format)."""
    rep = base_report("2021")
    rep.title = "示例市云岭<script>alert(1)</script>区栖云镇人民政府2023年政府信息公开工作年度报告"
    r = F.parse_bytes(render(rep, demo_fmt), f"r{EXTENSIONS[demo_fmt]}")
    F.check_result(r)
    assert r["unit"] == "栖云镇" and r["region"] in (None, "云岭区"), r["region"]


@pytest.mark.parametrize("shape", ["tab cells", "one value per line", "values run together"])
def test_regression_giant_text_is_refused_before_it_costs_memory(shape: str) -> None:
    """A 3 MB text of empty tab cells (the character limit allows 3 million) took 20 s and 850 MB;
    values one per line or run together the same.  Refused like the other readers' giants."""
    import resource

    body = {"tab cells": "\t" * 2_900_000, "one value per line": "0\n" * 1_400_000,
            "values run together": ("0 " * 29 + "0\n") * 48_000}[shape]
    text = render(base_report("2021"), "pipe").decode().replace("六、", body + "六、", 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with F.cpu_budget(15), pytest.raises(RejectedFile) as info:     # a hang guard, not a timing assert
        F.parse_bytes(text.encode(), "r.txt")
    assert info.value.code == "too_large", info.value.reason
    F.check_refusal(info.value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 300, f"peak memory grew by {grown_mb:.0f} MB"


def test_regression_ascii85_stream_with_a_long_run_of_white_space() -> None:
    """pdfminer strips the ASCII85 end marker with ``\\s*~\\s*>?\\s*$``, which retries every start inside
    a run of white space (quadratic): 100,000 tabs inside a content stream took 20 s per decode."""
    import base64

    encoded = base64.a85encode(zlib.compress(b"BT /F1 12 Tf 50 800 Td (2020 report) Tj ET\n"))
    body = encoded[:20] + b"\t" * 100_000 + encoded[20:] + b"~>"
    pdf = _pdf_with_one_stream(b"", body=body, filters=b"[/ASCII85Decode /FlateDecode]")
    with F.cpu_budget(10):           # a hang guard (milliseconds when linear), not a timing assert
        doc = read_document(pdf, "x.pdf")
    assert "2020 report" in doc.plain_text()
