"""Helpers templates use to show numbers, times and catalog text the Vietnamese way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from contest.i18n import message

VN_TZ = timezone(timedelta(hours=7))


def duration(ms: int | None) -> str:
    """83450 -> '1 phút 23,45 giây'; 5300 -> '5,30 giây' (hundredths: they break ties)."""
    if ms is None:
        return "–"
    minutes, rest = divmod(ms, 60_000)
    seconds = f"{rest // 1000},{(rest % 1000) // 10:02d} giây"
    return f"{minutes} phút {seconds}" if minutes else seconds


def time_left(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} ngày {hours} giờ"
    if hours:
        return f"{hours} giờ {minutes} phút"
    return f"{minutes} phút"


def local(dt: datetime | None) -> str:
    return dt.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if dt else ""


def number(n: int | None) -> str:
    return f"{n:,}".replace(",", ".") if n is not None else "–"


def template_globals() -> dict[str, Any]:
    return {"msg": message}


def template_filters() -> dict[str, Any]:
    return {"duration": duration, "time_left": time_left, "local": local, "number": number}
