"""Be Vietnam Pro for certificates: one TTF per weight, measured alike for both painters, and text fitted to a width."""

from __future__ import annotations

import math
from functools import cache, lru_cache
from itertools import combinations
from pathlib import Path

import fontpkg
from PIL import ImageFont

FAMILY = "Be Vietnam Pro"
PT = 25.4 / 72  # millimetres in a point
WEIGHTS = (400, 600, 700)
# Widths are measured at this size in pixels and scaled: 1/1000 em, the unit reportlab uses too.
_REFERENCE = 1000


@cache
def font_path(weight: int) -> Path:
    return Path(fontpkg.path(FAMILY, weight=weight))


@lru_cache(maxsize=256)
def pil_font(weight: int, px: float) -> ImageFont.FreeTypeFont:
    """Pillow's font at a size in pixels; BASIC layout, like reportlab: no kerning, so widths add up word by word."""
    return ImageFont.truetype(str(font_path(weight)), px, layout_engine=ImageFont.Layout.BASIC)


def em_width(text: str, weight: int) -> float:
    """The advance width of a line of text, in em."""
    return pil_font(weight, _REFERENCE).getlength(text) / _REFERENCE


# Capitals with stacked marks reach above the font's ascent ("Ẵ" ~1.16 em); "Ợ", "g" and commas reach below.
_TALLEST = "ẪẴẲẨỄỂỖỔỠỞỸỶẤẦ"
_DEEPEST = "gjpqyỵỹỴỢỰẶỆỘỊỌ,"


@cache
def ink_extent(weight: int) -> tuple[float, float]:
    """(above, below) the baseline in em: the most a Vietnamese line's ink can take, what a line must leave room for."""
    font = pil_font(weight, _REFERENCE)
    top = -font.getbbox(_TALLEST, anchor="ls")[1]
    bottom = font.getbbox(_DEEPEST, anchor="ls")[3]
    return top / _REFERENCE, bottom / _REFERENCE


def ink(text: str, weight: int) -> tuple[float, float]:
    """(above, below) the baseline in em that this very text's ink takes."""
    _, top, _, bottom = pil_font(weight, _REFERENCE).getbbox(text, anchor="ls")
    return -top / _REFERENCE, bottom / _REFERENCE


def fit(
    text: str, weight: int, width: float, size: float, max_lines: int = 1, smallest: float | None = None
) -> tuple[list[str], float]:
    """Lines and size (pt) so that text fits width (mm).

    With smallest (names) it first shrinks down to that size, and only then wraps; without it (titles) it
    first wraps, up to max_lines; either way it shrinks further if it still does not fit. Line breaks
    typed by the organiser are kept.
    """
    if "\n" in text:
        given = text.split("\n")
        lines = [*given[: max_lines - 1], " ".join(given[max_lines - 1 :])]
        return lines, shrink(size, width, max(em_width(line, weight) for line in lines))
    floor = smallest or size
    whole = em_width(text, weight)
    if whole * floor * PT <= width:
        return [text], shrink(size, width, whole)
    words = text.split(" ")
    lines = [text]
    for count in range(2, min(max_lines, len(words)) + 1):
        lines = _balanced(words, count, weight)
        if max(em_width(line, weight) for line in lines) * floor * PT <= width:
            return lines, floor
    return lines, shrink(floor, width, max(em_width(line, weight) for line in lines))


def shrink(size: float, width: float, em: float) -> float:
    """The largest size up to size, in quarter points, at which em fits width."""
    if em * size * PT <= width:
        return size
    return math.floor(width / (em * PT) * 4) / 4


_BREAK_AFTER = ",;:–—-"
_BREAK_BEFORE = '“(«"'


def _balanced(words: list[str], count: int, weight: int) -> list[str]:
    """Words on count lines, the longest line as short as can be (lines of even length look set, not spilled)."""
    widths = [em_width(word, weight) for word in words]
    space = em_width(" ", weight)
    starts = [0.0]
    for w in widths:
        starts.append(starts[-1] + w + space)

    def cost(cuts: tuple[int, ...]) -> float:
        edges = (0, *cuts, len(words))
        longest = max(starts[b] - starts[a] - space for a, b in zip(edges, edges[1:], strict=False))
        # A break after a comma or dash, or before an opening quote, may make a line up to 10 % longer.
        return longest * 0.9 ** sum(words[cut - 1][-1] in _BREAK_AFTER or words[cut][0] in _BREAK_BEFORE for cut in cuts)

    best = min(combinations(range(1, len(words)), count - 1), key=cost)
    edges = (0, *best, len(words))
    return [" ".join(words[a:b]) for a, b in zip(edges, edges[1:], strict=False)]
