"""Bearer tokens for the JSON API: the contestant id signed with the app secret (no lookup per request)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from litestar import Request
from litestar.exceptions import NotAuthorizedException

from contest.digits import read_int
from contest.settings import get_settings


def _sign(payload: str) -> str:
    digest = hmac.new(get_settings().web.secret, payload.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def issue(contestant_id: int) -> str:
    """A token naming this contestant."""
    payload = f"c{contestant_id}"
    return f"{payload}.{_sign(payload)}"


@lru_cache(maxsize=100_000)
def verify(token: str) -> int | None:
    payload, _, signature = token.partition(".")
    if not token.isascii():  # a real token is ASCII; compare_digest raises on anything else
        return None
    if not payload.startswith("c") or not hmac.compare_digest(signature, _sign(payload)):
        return None
    return read_int(payload[1:])


def api_contestant(request: Request) -> int:
    """Dependency: the contestant named by the Authorization header."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    contestant_id = verify(token.strip()) if scheme.lower() == "bearer" else None
    if contestant_id is None:
        raise NotAuthorizedException(detail="not_identified")
    return contestant_id
