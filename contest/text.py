"""Text as people type it and as the site compares it: one NFC form, one fold."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w]+")


def composed(text: str) -> str:
    """NFC only, spaces untouched: decomposed marks would be drawn or sorted as separate letters."""
    return unicodedata.normalize("NFC", text or "")


def nfc(text: str) -> str:
    """NFC and trimmed: how every text is stored (Excel and phones send decomposed forms too)."""
    return composed((text or "").strip())


def one_line(text: str) -> str:
    """NFC with every run of spaces made one and none at the ends: how a person's name is stored."""
    return " ".join(composed(text).split())


def same_key(text: str) -> str:
    """What makes two texts the same question or option: NFC, trimmed, case-folded, runs of spaces as one.

    Tone marks and punctuation stay: "ma", "má", "mà" and "mã" are four words, "an@gmail.com" is not "an.gmail.com".
    """
    return unicodedata.normalize("NFC", " ".join(unicodedata.normalize("NFC", text or "").casefold().split()))


def fold(text: str) -> str:
    """Lower-case, without diacritics or punctuation, for accent-insensitive search: "Công dân số!" -> "cong dan so".

    Never to tell two questions or options apart (see same_key)."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(_NOT_WORD.sub(" ", bare).split())
