"""Vietnamese phone numbers, normalised to the national form people know (0912345678)."""

from __future__ import annotations

import phonenumbers

from contest.digits import is_digits

# What an anonymised contestant is called (contest.people.privacy): shown whole on public pages, never shortened.
ERASED_NAME = "Đã xóa"


def normalise_phone(raw: str) -> str | None:
    """0912 345 678, +84 912-345-678, 84912345678 -> 0912345678; None when not a Vietnamese number."""
    digits = "".join(ch for ch in raw if is_digits(ch) or ch == "+")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        return None
    return "0" + str(number.national_number)


def mask_phone(phone: str) -> str:
    """0912345678 -> 09x****678, for public pages: the network prefix and the last three digits only."""
    if len(phone) < 8:
        return "***"
    return phone[:2] + "x" + "*" * (len(phone) - 6) + phone[-3:]


def short_name(full_name: str) -> str:
    """Nguyễn Văn An -> Nguyễn V. A., for public pages: the family name and the initials of the rest."""
    if full_name == ERASED_NAME:
        return full_name
    words = full_name.split()
    if len(words) < 2:
        return words[0] if words else ""
    return " ".join([words[0], *(w[0].upper() + "." for w in words[1:])])
