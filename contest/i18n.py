"""Message catalogs (contest/locales/*.toml): services report codes, people read text."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("vi", "en")
DEFAULT = "vi"


def N_(text: str) -> str:  # noqa: N802 (the name gettext's tools look for)
    """Marks a Vietnamese text for the catalog (`make i18n`); it is translated where it is shown."""
    return text


@cache  # read once per process: every message on every page comes from here
def catalog(lang: str) -> dict[str, dict[str, str]]:
    path = Path(__file__).parent / "locales" / f"{lang}.toml"
    with path.open("rb") as f:
        return tomllib.load(f)


def message(code: str, lang: str = DEFAULT, section: str = "errors", **params: Any) -> str:
    """The text for a code in a language, falling back to Vietnamese, then to the code."""
    for candidate in (lang, DEFAULT):
        text = catalog(candidate if candidate in LANGUAGES else DEFAULT).get(section, {}).get(code)
        if text is not None:
            return text.format(**params) if params else text
    return code


class InputError(Exception):
    """Bad input: field name -> message code (with params), nothing written."""

    def __init__(self, errors: dict[str, str], **params: Any) -> None:
        super().__init__(", ".join(f"{k}={v}" for k, v in errors.items()))
        self.errors = errors
        self.params = params

    def messages(self, lang: str = DEFAULT) -> dict[str, str]:
        return {name: message(code, lang, **self.params) for name, code in self.errors.items()}
