"""Vietnamese phone numbers, normalised to the national form people know (0912345678)."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str) -> str | None:
    """0912 345 678, +84 912-345-678, 84912345678 -> 0912345678; None when not a Vietnamese number."""
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
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
    """0912345678 -> 0912***678, for public pages."""
    return phone[:4] + "***" + phone[-3:] if len(phone) >= 8 else "***"
