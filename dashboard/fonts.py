"""The Chinese font every exported chart is drawn with, shipped with the project itself.

Why a bundled font.  vl-convert draws text with the fonts it can find; on a machine without a
CJK font every Chinese character becomes a box, and a bare ``sans-serif`` may pick the Japanese
variant of a CJK font where one is installed.  The project therefore depends on the PyPI package
``noto-cjk-sans-otc`` (Google's Noto Sans CJK Regular collection, SIL Open Font License 1.1,
licence text in the package's ``dist-info/licenses/LICENSE``), registers its folder with
vl-convert once, and names the Simplified Chinese face explicitly in every chart's config.

If that package is missing (a broken environment), the Debian ``fonts-noto-cjk`` collection is
used when present; otherwise :class:`FontMissing` says in Chinese what to install.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

FAMILY = "Noto Sans CJK SC"
"""The font family name charts are configured with (the Simplified Chinese face of the collection)."""

_SYSTEM_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)

_lock = threading.Lock()
_registered: set[str] = set()


class FontMissing(RuntimeError):
    """No usable Chinese font file was found."""


@cache
def font_path() -> Path:
    """Path of the font collection (.ttc) that holds :data:`FAMILY`."""
    try:
        import noto_cjk_sans_otc

        p = Path(str(noto_cjk_sans_otc.FONT_PATH))
        if p.is_file():
            return p
    except ImportError:
        pass
    for p in _SYSTEM_CANDIDATES:
        if p.is_file():
            return p
    raise FontMissing("找不到中文字体文件：请运行 scripts/run-app.sh 或 `uv sync` 安装项目依赖"
                      "（noto-cjk-sans-otc），否则导出图片中的中文会显示为方框")


@cache
def font_number() -> int:
    """Index of the :data:`FAMILY` face inside the collection (for tools that open one face of a .ttc)."""
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(font_path()), lazy=True)
    try:
        for i, face in enumerate(coll.fonts):
            if face["name"].getDebugName(1) == FAMILY:
                return i
    finally:
        coll.close()
    raise FontMissing(f"字体文件 {font_path()} 中没有“{FAMILY}”字形")


@cache
def covered_codepoints() -> frozenset[int]:
    """Every Unicode code point the :data:`FAMILY` face has a glyph for (its cmap)."""
    from fontTools.ttLib import TTFont

    face = TTFont(str(font_path()), fontNumber=font_number(), lazy=True)
    try:
        return frozenset(face.getBestCmap())
    finally:
        face.close()


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` the font cannot draw (whitespace and control characters ignored)."""
    cmap = covered_codepoints()
    return {ch for ch in text if not ch.isspace() and ch.isprintable() and ord(ch) not in cmap}


def ensure_registered() -> str:
    """Register the font folder with vl-convert (once per process); returns :data:`FAMILY`."""
    folder = str(font_path().parent)
    if folder in _registered:
        return FAMILY
    with _lock:
        if folder not in _registered:
            import vl_convert

            vl_convert.register_font_directory(folder)
            _registered.add(folder)
    return FAMILY
