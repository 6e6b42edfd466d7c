"""The app's request class: a JSON body msgspec cannot read is malformed input, whatever the reason."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException


class ContestRequest(Request):
    """Invalid UTF-8 inside a string (UnicodeDecodeError) or nesting past msgspec's depth (RecursionError) escape
    Litestar's own check, which only knows msgspec.DecodeError: both become the same 400 as any malformed body."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except (UnicodeDecodeError, RecursionError) as exc:
            raise SerializationException(f"JSON is malformed: {exc}") from exc
