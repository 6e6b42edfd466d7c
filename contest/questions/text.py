"""Question text as people type it and as the bank compares it."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w]+")


def nfc(text: str) -> str:
    """NFC and trimmed: how every text is stored (Excel and phones send decomposed forms too)."""
    return unicodedata.normalize("NFC", (text or "").strip())


def fold(text: str) -> str:
    """Lower-case, without diacritics or punctuation: "Công dân số!" -> "cong dan so"."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(_NOT_WORD.sub(" ", bare).split())
