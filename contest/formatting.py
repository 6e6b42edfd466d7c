"""Helpers templates use to show numbers, times and catalog text in the reader's language (Vietnamese by default).

The plain functions take a language; the template filters and `msg` take it from the rendering's request.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context

from contest.clock import VN_TZ
from contest.i18n import DEFAULT, message
from contest.leaderboard.scorecode import in_questions
from contest.translations import lang_in, translations

# Vietnamese: 22/11/2026 14:05; English: 22 Nov 2026, 14:05 (times are always Vietnam's).
DATETIME = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
DAY = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
SHORT_DAY = {"vi": "dd/MM", "en": "d MMM"}


@cache
def _locale(lang: str) -> Locale:
    """Babel's locale, parsed once: given the code, babel parses it again at every number and date on a page."""
    return Locale.parse(lang)


def duration(ms: int | None, lang: str = DEFAULT) -> str:
    """83450 -> '1 phút 23,4 giây' ('1 min 23.4 s'); 5300 -> '5,3 giây'. Tenths, cut not rounded: the boards order
    times to the tenth (leaderboard.scorecode), so a time on a board and the same time on a result page read alike."""
    if ms is None:
        return "–"
    t = translations(lang)
    minutes, rest = divmod(ms, 60_000)
    seconds = t.gettext("%(seconds)s giây") % {"seconds": format_decimal(Decimal(rest // 100) / 10, "0.0", locale=_locale(lang))}
    return t.gettext("%(minutes)s phút %(seconds)s") % {"minutes": minutes, "seconds": seconds} if minutes else seconds


def time_left(seconds: int, lang: str = DEFAULT) -> str:
    """The two largest units of a wait: '2 ngày 3 giờ', '3 giờ 5 phút', '5 phút'."""
    t = translations(lang)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    day_text = t.ngettext("%(num)s ngày", "%(num)s ngày", days) % {"num": days}
    hour_text = t.ngettext("%(num)s giờ", "%(num)s giờ", hours) % {"num": hours}
    minute_text = t.ngettext("%(num)s phút", "%(num)s phút", minutes) % {"num": minutes}
    if days:
        return f"{day_text} {hour_text}"
    if hours:
        return f"{hour_text} {minute_text}"
    return minute_text


def local(dt: datetime | None, lang: str = DEFAULT) -> str:
    """A moment in Vietnam's time: '22/11/2026 14:05' ('22 Nov 2026, 14:05' in English)."""
    return format_datetime(dt.astimezone(VN_TZ), DATETIME.get(lang, DATETIME[DEFAULT]), locale=_locale(lang)) if dt else ""


def day(d: date | None, lang: str = DEFAULT, short: bool = False) -> str:
    """A calendar day: '22/11/2026' ('22 Nov 2026'), or without the year: '22/11' ('22 Nov')."""
    if d is None:
        return ""
    return format_date(d, (SHORT_DAY if short else DAY).get(lang, DAY[DEFAULT]), locale=_locale(lang))


def number(n: int | None, lang: str = DEFAULT) -> str:
    """1234 -> '1.234' ('1,234' in English)."""
    return format_decimal(n, locale=_locale(lang)) if n is not None else "–"


def decimal(x: float | None, places: int = 2, lang: str = DEFAULT) -> str:
    """3.14159 -> '3,14' ('3.14' in English), with that many places."""
    return format_decimal(x, "#,##0." + "0" * places, locale=_locale(lang)) if x is not None else "–"


def score(questions: float | None, lang: str = DEFAULT) -> str:
    """A score in questions: 7 -> '7'; 7.5 -> '7,5' ('7.5' in English), partial credit to the hundredth of a question."""
    return format_decimal(round(questions, 2), "#,##0.##", locale=_locale(lang)) if questions is not None else "–"


def points(sixtieths: int | None, lang: str = DEFAULT) -> str:
    """A score kept in sixtieths of a question (scorecode.UNIT), shown in questions: 450 -> '7,5'."""
    return score(in_questions(sixtieths), lang)


@pass_context
def _msg(context: Context, code: str, lang: str | None = None, section: str = "errors", **params: Any) -> str:
    return message(code, lang or lang_in(context), section, **params)


@pass_context
def _language(context: Context) -> str:
    return lang_in(context)


def template_globals() -> dict[str, Any]:
    return {"msg": _msg, "language": _language}


def template_filters() -> dict[str, Any]:
    def filter_of(fn: Any) -> Any:
        return pass_context(lambda context, value, *args, **kwargs: fn(value, *args, lang=lang_in(context), **kwargs))

    return {
        name: filter_of(fn)
        for name, fn in (
            ("duration", duration),
            ("time_left", time_left),
            ("local", local),
            ("day", day),
            ("number", number),
            ("decimal", decimal),
            ("score", score),
            ("points", points),
        )
    }
