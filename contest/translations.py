"""Gettext catalogs for the templates: Vietnamese is their own text, other languages come from locales/<lang>/*.po.

Each rendering translates into the language of the request it renders for (the `request` Litestar puts in every
template's context), so concurrent requests in different languages never see each other's choice.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from contest.i18n import DEFAULT, LANGUAGES
from contest.web import lang_of

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """A language's catalog, read from its .po once (no compiled .mo to keep in step); Vietnamese needs none."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return gettext.NullTranslations()
    with (LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy guess is not a translation: it shows the Vietnamese
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def lang_in(context: Context | dict[str, Any]) -> str:
    """The language a template renders in: a page's own `lang` (one only written in that language), else the
    request's (session, then the `lang` cookie), else Vietnamese."""
    forced = context.get("lang")
    if forced in LANGUAGES:
        return str(forced)
    request = context.get("request")
    return lang_of(request) if request is not None else DEFAULT


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(lang_in(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(lang_in(context)).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, ctx: str, message: str) -> str:
    return translations(lang_in(context)).pgettext(ctx, message)


@pass_context
def _npgettext(context: Context, ctx: str, singular: str, plural: str, n: int) -> str:
    return translations(lang_in(context)).npgettext(ctx, singular, plural, n)


def install(env: Environment) -> None:
    """Jinja's i18n extension with callables that look up each rendering's own language."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # line breaks inside {% trans %} are layout, not part of the message
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
