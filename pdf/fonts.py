"""Find the fonts a sheet needs: a CJK font for Chinese text, wherever the OS keeps it.

WeasyPrint finds fonts through fontconfig, by family name; this module asks fontconfig which
Chinese-capable family is installed (Debian's ``fonts-noto-cjk`` by default, installed by
``make run`` when missing) so the stylesheet names one that exists and no glyph is drawn as
a box.
"""

from __future__ import annotations

import functools
import shutil
import subprocess  # noqa: S404 - fc-list with fixed arguments, no shell
from dataclasses import dataclass

#: Families we prefer, best first; any other family covering Chinese is used as a last resort.
PREFERRED_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
)
#: Latin families tried before the CJK one in English sheets.
LATIN_FAMILIES = ("Noto Sans", "DejaVu Sans", "Liberation Sans", "Arial")


class FontNotFoundError(RuntimeError):
    """No installed font can render Simplified Chinese."""


@dataclass(frozen=True)
class CjkFont:
    """An installed font family that covers Simplified Chinese."""

    family: str
    path: str


def _fc_list(pattern: str, fmt: str) -> list[str]:
    binary = shutil.which("fc-list")
    if binary is None:
        return []
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [binary, pattern, "--format", fmt],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in result.stdout.splitlines() if line.strip()]


@functools.cache
def find_cjk_font() -> CjkFont:
    """Return the best installed Simplified Chinese family; raise when there is none."""
    found: dict[str, str] = {}
    for line in _fc_list(":lang=zh-cn", "%{family}\t%{file}\n"):
        families, _, path = line.partition("\t")
        for family in families.split(","):
            found.setdefault(family.strip(), path.strip())
    for family in PREFERRED_CJK_FAMILIES:
        if family in found:
            return CjkFont(family, found[family])
    if found:
        family = sorted(found)[0]
        return CjkFont(family, found[family])
    raise FontNotFoundError(
        "No font for Simplified Chinese is installed; install fonts-noto-cjk "
        "(make system-deps does it)."
    )


def font_stack(language: str) -> str:
    """Return the CSS ``font-family`` value for a sheet in ``language``."""
    cjk = find_cjk_font().family
    latin = ", ".join(f'"{name}"' for name in LATIN_FAMILIES)
    if language == "zh_CN":
        return f'"{cjk}", {latin}, sans-serif'
    return f'{latin}, "{cjk}", sans-serif'
