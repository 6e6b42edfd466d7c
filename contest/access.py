"""The outermost layer of the app: every request gets an id and one access log line, and HEAD is answered as GET.

It wraps Litestar's whole handler (router included), so 404s and 405s of the router are logged too. The cost per
request is one short random id, one header and one log call handed to Litestar's queue listener (no I/O here).
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any

from litestar.types import ASGIApp, BeforeMessageSendHookHandler, Message, Receive, Scope, Send

logger = logging.getLogger("contest.access")

HEALTHZ = "/healthz"
REQUEST_ID = "request_id"  # the key in the scope's state, read by the error pages
# Anything that looks like a Vietnamese phone number (0912345678, +84912345678, 84912345678) or another long run of
# digits: personal data never goes to the log.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)[\d .-]{8,12}\d(?!\d)|\d{9,}")


def redact(text: str) -> str:
    """The text with every phone-number-like run of digits replaced by '***'."""
    return _PHONE.sub("***", text)


def request_id(scope: Scope | Any) -> str:
    """The id of the request this scope belongs to ('-' outside a request)."""
    state = scope.get("state") if isinstance(scope, dict) else None
    return str((state or {}).get(REQUEST_ID, "-"))


# What every response start passes through (the security headers): one send wrapper for all, not one per concern.
StartHook = BeforeMessageSendHookHandler


class AccessLog:
    """ASGI wrapper: an X-Request-ID on every response, `method path status ms id` in the log, HEAD as GET, and
    the `on_start` hook (the security headers) on every response's start."""

    def __init__(self, app: ASGIApp, on_start: StartHook | None = None) -> None:
        self.app = app
        self.on_start = on_start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # An id to find a request's lines by, not a secret: no system call per request (secrets would make one).
        rid = f"{random.getrandbits(48):012x}"
        scope.setdefault("state", {})[REQUEST_ID] = rid  # type: ignore[typeddict-item]
        method, path = scope["method"], scope["path"]  # type: ignore[typeddict-item]
        head = method == "HEAD"
        if head:
            # Uptime monitors and link checkers: the GET route answers and its body is dropped below. A copy, so the
            # server still knows it answers a HEAD (no body, the GET's Content-Length).
            scope = {**scope, "method": "GET"}  # type: ignore[assignment]
        status = 500
        started = time.perf_counter()
        on_start = self.on_start

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
                if on_start is not None:
                    await on_start(message, scope)  # type: ignore[misc]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}  # type: ignore[typeddict-item]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # A load balancer or uptime monitor asks /healthz every few seconds: its answers are not worth a line
            # each (a failing one still gets it).
            if path != HEALTHZ or status >= 500:
                if any(c.isdigit() for c in path):
                    path = redact(path)
                logger.info("%s %s %d %.1fms id=%s", method, path, status, (time.perf_counter() - started) * 1000, rid)
