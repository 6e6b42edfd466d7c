"""What every subcommand shares: the operator's language for its messages, and Piccolo pointed at piccolo_conf."""

from __future__ import annotations

import os
import sys

from contest.i18n import DEFAULT
from contest.settings import ROOT

# The operator's language (`contest --lang en ...`): messages are Vietnamese msgids translated in contest/locales.
_lang = DEFAULT


def set_language(lang: str) -> None:
    """Speak `lang` in every message from now on (set once, from `--lang`)."""
    global _lang
    _lang = lang


def language() -> str:
    """The operator's language."""
    return _lang


def _(text: str) -> str:
    from contest.translations import translations

    return translations(_lang).gettext(text)


def piccolo_env() -> None:
    """Point Piccolo at piccolo_conf: table modules may only be imported after this."""
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
