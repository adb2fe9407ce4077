"""Units (issuers): one row per real township however documents spell it, and the manifest.

Documents name their issuer in many ways: ``泉港镇``, ``泉港镇人民政府``, ``丰城市泉港镇人民政府``,
``经纬街道办事处``.  :func:`normalise_name` reduces all of them to the short name, and
:func:`resolve_units` groups reports into units by (short name, region).  A document that does
not say its region joins the unit of the same name when exactly one region is known for that
name; otherwise it stays a unit of its own (there are many 城关镇 in China).  The result depends
only on the set of reports, not on the order they were loaded.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.textnorm import strip_invisible

_SUFFIXES = ("人民政府办公室", "人民政府", "办事处", "政府")
_LEVEL_SUFFIX = re.compile(r"(民族乡|镇|乡|街道|苏木)$")
# An administrative prefix: one or more names ending in 省/自治区/市/州/盟/区/县/旗.
_ADMIN_PART = re.compile(r".+?(?:自治区|省|市|自治州|州|盟|新区|区|县|旗)")
_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE.sub("", strip_invisible(unicodedata.normalize("NFKC", text)))


def normalise_region(region: str | None) -> str | None:
    """``江西省宜春市丰城市人民政府`` → ``丰城市``: the last administrative component."""
    if not region:
        return None
    r = _clean(region)
    for suf in _SUFFIXES:
        if r.endswith(suf) and len(r) > len(suf):
            r = r[: -len(suf)]
    parts = _ADMIN_PART.findall(r)
    if parts and "".join(parts) == r:
        return parts[-1]
    return r or None


def normalise_name(name: str, region: str | None = None) -> tuple[str, str | None]:
    """Short unit name and the region its prefix revealed (if any).

    ``丰城市泉港镇人民政府`` → (``泉港镇``, ``丰城市``); ``经纬街道办事处`` → (``经纬街道``, None).
    A prefix is only stripped from names that end in a township level (镇/乡/街道/苏木) and keep
    at least two characters before that ending, so that ``新市镇`` stays ``新市镇``.
    """
    n = _clean(name)
    changed = True
    while changed:
        changed = False
        for suf in _SUFFIXES:
            if n.endswith(suf) and len(n) > len(suf):
                n = n[: -len(suf)]
                changed = True
    if n.endswith("街道办"):
        n = n[:-1]
    found_region = None
    reg = normalise_region(region)
    if reg and n.startswith(reg) and _keeps_name(n[len(reg):]):
        n = n[len(reg):]
        found_region = reg
    m = _LEVEL_SUFFIX.search(n)
    if m:
        prefix = ""
        for part in _ADMIN_PART.finditer(n):
            candidate = n[: part.end()]
            if len(part.group()) >= 2 and _keeps_name(n[part.end():]):
                prefix = candidate
            else:
                break
        if prefix:
            found_region = normalise_region(prefix) or found_region
            n = n[len(prefix):]
    return n, found_region


def _keeps_name(rest: str) -> bool:
    """True when ``rest`` is still a full township name (≥ 2 characters before its level)."""
    m = _LEVEL_SUFFIX.search(rest)
    return bool(m) and m.start() >= 2


def level_of(name: str) -> str | None:
    m = _LEVEL_SUFFIX.search(name)
    if not m:
        return None
    return "乡" if m.group(1) == "民族乡" else ("镇" if m.group(1) == "苏木" else m.group(1))


# ---------------------------------------------------------------- manifest

@dataclass(frozen=True, slots=True)
class Pin:
    unit: str | None
    region: str | None
    year: int | None


class ManifestError(ValueError):
    """A manifest that cannot be read; the message is plain Chinese."""


def read_manifest(path: str | Path) -> dict[str, Pin]:
    """``file,unit,region,year`` CSV → {file key: Pin}.

    A row's ``file`` may be a path relative to the manifest's folder, an absolute path or a bare
    file name; :func:`pin_for` tries the resolved path first, then the file name.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_bytes().decode("gbk", errors="strict")
    except OSError as e:
        raise ManifestError(f"无法读取清单文件 {p}：{e.strerror or e}") from e
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or "file" not in (rows[0].keys() if rows else []):
        raise ManifestError(f"清单文件 {p} 第一行应为表头 file,unit,region,year")
    out: dict[str, Pin] = {}
    for i, row in enumerate(rows, start=2):
        f = (row.get("file") or "").strip()
        if not f:
            continue
        year_raw = (row.get("year") or "").strip()
        try:
            year = int(year_raw) if year_raw else None
        except ValueError:
            raise ManifestError(f"清单文件 {p} 第{i}行：年度“{year_raw}”不是数字") from None
        pin = Pin((row.get("unit") or "").strip() or None, (row.get("region") or "").strip() or None, year)
        fp = Path(f)
        key = str((p.parent / fp).resolve()) if not fp.is_absolute() else str(fp.resolve())
        out[key] = pin
        out.setdefault(fp.name, pin)
    return out


def pin_for(manifest: dict[str, Pin] | None, path: str) -> Pin | None:
    if not manifest:
        return None
    return manifest.get(str(Path(path).resolve())) or manifest.get(Path(path).name)


# ---------------------------------------------------------------- resolution over all reports

@dataclass(slots=True)
class UnitObservation:
    report_id: str
    unit_name: str          # normalised
    region: str | None      # normalised
    level: str | None
    unit_raw: str


@dataclass(slots=True)
class Unit:
    unit_id: str
    name: str
    level: str | None
    region: str | None
    aliases: list[str]


def unit_id_for(name: str, region: str | None) -> str:
    return f"{region}/{name}" if region else name


def resolve_units(observations: Iterable[UnitObservation]) -> tuple[list[Unit], dict[str, str]]:
    """Group reports into units; returns (units, report_id → unit_id)."""
    obs = list(observations)
    regions_by_name: dict[str, set[str]] = defaultdict(set)
    for o in obs:
        if o.region:
            regions_by_name[o.unit_name].add(o.region)
    assign: dict[str, str] = {}
    members: dict[str, list[UnitObservation]] = defaultdict(list)
    for o in obs:
        region = o.region
        if region is None and len(regions_by_name.get(o.unit_name, ())) == 1:
            region = next(iter(regions_by_name[o.unit_name]))
        uid = unit_id_for(o.unit_name, region)
        assign[o.report_id] = uid
        members[uid].append(o)
    units = []
    for uid in sorted(members):
        ms = members[uid]
        name = ms[0].unit_name
        region = next((m.region for m in ms if m.region), None)
        if region is None and "/" in uid:
            region = uid.split("/", 1)[0]
        levels = Counter(m.level for m in ms if m.level)
        level = levels.most_common(1)[0][0] if levels else level_of(name)
        aliases = sorted({m.unit_raw for m in ms if m.unit_raw} | {name})
        units.append(Unit(uid, name, level, region, aliases))
    return units, assign
