"""What every HTML route shares: who is taking part, which language, how a page is rendered."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from contest import clock
from contest.i18n import DEFAULT, LANGUAGES, InputError

LANG_COOKIE = "lang"  # the choice also as a cookie of its own: staff pages have a session apart from contestants'


def lang_of(request: Request) -> str:
    """The reader's language: the session's choice, else the language cookie, else Vietnamese."""
    session = request.scope.get("session")
    lang = session.get("lang") if isinstance(session, dict) else None
    lang = lang or request.cookies.get(LANG_COOKIE)
    return lang if lang in LANGUAGES else DEFAULT


def contestant_of(request: Request) -> int | None:
    """The contestant this browser identified as (cookie session), if any."""
    value = request.session.get("contestant")
    return int(value) if value is not None else None


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context={"now": clock.now(), **context}, status_code=status_code)


def errors_of(request: Request, exc: InputError) -> dict[str, str]:
    return exc.messages(lang_of(request))
