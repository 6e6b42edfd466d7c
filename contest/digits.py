"""Whole numbers typed by people, read one way everywhere: ASCII digits 0-9 and nothing else.

str.isdigit() also takes "²" (which int() then refuses: a server error) and "३१" (which int() reads as 31).
"""

from __future__ import annotations

from typing import Any


def is_digits(text: Any) -> bool:
    """True for a non-empty run of 0-9 and nothing else (no sign, no spaces)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def read_int(raw: Any, default: int | None = None) -> int | None:
    """The whole number in `raw` (spaces around it ignored), else `default`."""
    text = str(raw if raw is not None else "").strip()
    return int(text) if is_digits(text) else default
