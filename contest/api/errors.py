"""The error bodies /api/v1 really sends, as the schema documents them (tests/security/test_schemathesis.py checks
every answer against it)."""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class ErrorsOut(msgspec.Struct):
    """What is wrong, by field ("body", "auth", "rate", "service" or a field of the request), in the caller's
    language (Accept-Language: en, else Vietnamese)."""

    errors: dict[str, str]
    detail: str | None = None  # 400 and 404: the parser's or router's own words, in English


def _errors(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorsOut, description=description, generate_examples=False)


PUBLIC_ERRORS: dict[int, ResponseSpec] = {
    400: _errors("Malformed body, or a parameter of the wrong type or out of range"),
    404: _errors("No such contest, round, province or attempt"),
    422: _errors("Well-formed but refused: a message for each field"),
    429: _errors("Over a rate limit; Retry-After says when to try again"),
    503: _errors("The database or Redis is briefly out of reach; Retry-After says when to try again"),
}
CONTESTANT_ERRORS: dict[int, ResponseSpec] = {
    **PUBLIC_ERRORS,
    401: _errors("No bearer token, or one that is not valid"),
}
