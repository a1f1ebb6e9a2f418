"""A font for Chinese county names in matplotlib figures (``map.png``, animations).

matplotlib's default font (DejaVu Sans) has no CJK glyphs: a name such as 义乌市 would be
drawn as empty boxes with a "Glyph ... missing from font" warning per character. Since
matplotlib 3.6 a figure can list fonts to fall back on, glyph by glyph, so Latin text keeps
DejaVu Sans and Chinese comes from a CJK font. :func:`cjk_font` finds one: a family
matplotlib already knows (the usual CJK fonts of Debian, macOS and Windows), else a file in
the usual places of Debian's ``fonts-wqy-microhei``/``fonts-noto-cjk`` (which ``.ci/run``
installs), added to matplotlib's font list. Without one, callers draw English names only.
"""

from __future__ import annotations

import functools
from pathlib import Path

FAMILIES: tuple[str, ...] = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "PingFang SC",
    "Heiti SC",
    "Microsoft YaHei",
    "SimHei",
)
"""CJK families, in order of preference."""
FILES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
"""Where Debian's packages put them, for a matplotlib font cache made before they were
installed."""


@functools.cache
def cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can use, or None if the machine has none."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in FAMILIES:
        if family in known:
            return family
    for path in FILES:
        if Path(path).is_file():
            try:
                font_manager.fontManager.addfont(path)
                return str(font_manager.FontProperties(fname=path).get_name())
            except (OSError, RuntimeError, ValueError):  # an unreadable file: try the next
                continue
    return None


def families() -> list[str]:
    """``font.family`` for a figure with Chinese text: the default sans-serif, then the CJK
    font as a fallback (just the default when there is none)."""
    font = cjk_font()
    return ["DejaVu Sans", font] if font else ["DejaVu Sans"]


def label(name_zh: str | None, name: str | None) -> str:
    """A county's label: "义乌市 Yiwu City" when a CJK font exists, else the English name."""
    parts = [name_zh if cjk_font() else None, name]
    return " ".join(str(p) for p in parts if p) or ""
