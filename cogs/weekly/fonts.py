"""A CJK-capable font for charts, so Chinese item names render as text, not as empty boxes.

Looked for, in order: the Noto Sans CJK font shipped by the `noto-cjk-sans-otc` package (a
dependency), then CJK fonts matplotlib already knows on this system. When there is none, charts
still render (Chinese characters become boxes) and this is logged once.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

# Families that cover Simplified Chinese, most preferred first.
KNOWN_CJK = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
LATIN = "DejaVu Sans"  # matplotlib's own font, always there


def _packaged_font() -> Path | None:
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return path if path.is_file() else None


@cache
def cjk_family() -> str | None:
    """The name of a CJK font family registered with matplotlib, or None (logged once)."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    path = _packaged_font()
    if path is not None:
        try:
            manager.addfont(str(path))
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("cannot load the CJK font %s: %s", path, exc)
    names = {entry.name for entry in manager.ttflist}
    for family in KNOWN_CJK:
        if family in names:
            return family
    packaged = sorted(e.name for e in manager.ttflist if path and Path(e.fname) == path)
    if packaged:
        return packaged[0]
    log.warning(
        "no CJK font found (install noto-cjk-sans-otc or a Noto/WenQuanYi font): "
        "Chinese text in charts will show as boxes"
    )
    return None


def families() -> list[str]:
    """The font family list for charts: the CJK font first (it has Latin letters too), matplotlib's
    DejaVu Sans as the per-glyph fallback for symbols it lacks."""
    cjk = cjk_family()
    return [cjk, LATIN] if cjk else [LATIN]
