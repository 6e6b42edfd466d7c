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


# Letters that draw nothing (the Hangul fillers, default-ignorable code points that are letters all the same):
# a name made of them shows blank on the boards. Other invisible characters are not letters and fail the letter check.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def person_name(text: str) -> str:
    """NFKC with every run of spaces made one: look-alike letters (mathematical bold 𝐀, fullwidth Ａ) become the
    plain letter and NBSP or ideographic spaces a plain space, so a name cannot imitate another; tone marks stay."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def draws_blank(text: str) -> bool:
    """True when some letter of the text shows as nothing."""
    return any(ch in BLANK_LETTERS for ch in text)


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
