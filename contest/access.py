"""The outermost layer of the app: every request gets an id and one access log line, and HEAD is answered as GET.

It wraps Litestar's whole handler (router included), so 404s and 405s of the router are logged too. The cost per
request is one short random id, one header and one line appended to a batch the event loop writes every 50 ms.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


# What every response start passes through (the security headers): one send wrapper for all, not one per concern,
# and a plain call, not a coroutine to await.
StartHook = Callable[[Message, Scope], None]


class _Batch:
    """Access lines written from the event loop in batches, one write every 50 ms at most: no log record, no hop to
    the logging thread and no flush per request (together they cost a shared page a third of its time). The lines
    look like the log's own (`INFO - time - contest.access - …`) and go to the same stream."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []
        self.scheduled = False

    def add(self, line: str) -> None:
        self.lines.append((time.time(), line))
        if not self.scheduled:
            try:
                asyncio.get_running_loop().call_later(0.05, self.flush)
                self.scheduled = True
            except RuntimeError:  # no loop (cannot happen in a request): at once
                self.flush()

    def flush(self) -> None:
        self.scheduled = False
        lines, self.lines = self.lines, []
        text = "".join(
            f"INFO - {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(t))},{int(t % 1 * 1000):03d} - contest.access"
            f" - access - {line}\n"
            for t, line in lines
        )
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed stream at shutdown
            pass


_batch = _Batch()


async def flush_access_lines() -> None:
    """The lines not written yet (the app's shutdown hook: the last requests of a process that stops)."""
    _batch.flush()


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
                headers = message.get("headers")
                if type(headers) is list:
                    headers.append((b"x-request-id", rid.encode()))
                else:
                    message["headers"] = [*(headers or ()), (b"x-request-id", rid.encode())]
                if on_start is not None:
                    on_start(message, scope)
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
                line = f"{method} {path} {status} {(time.perf_counter() - started) * 1000:.1f}ms id={rid}"
                if status >= 500:  # through the log's queue, after the error's traceback that went there first
                    logger.info(line)
                else:
                    _batch.add(line)
