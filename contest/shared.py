"""One rendering of a public page for every viewer: per page, language and encoding, once per interval.

A route opts in with `opt={"shared": True}` (`SHARED`). Its response is rendered for an anonymous viewer (the
request's cookies dropped, the language cookie kept), stored in Redis with an ETag for all web processes, kept a
moment in each process's memory, and served with `Cache-Control: public, max-age=1` and no Set-Cookie. What is
personal (my places, my attempts, the identify form with its CSRF token) is a separate small fragment.

Why not Litestar's response cache (`cache=` on a route, `ResponseCacheConfig`): in Litestar 2.x its middleware sits
inside the session and CSRF middleware, so every cached response still gets their Set-Cookie; it renders with the
viewer's cookies (a signed-in viewer's page would be stored for all); its key ignores Accept-Encoding while it stores
compressed bytes; and it has neither an ETag nor single flight (at the expiry every process renders at once). This
middleware is the outermost one, so it can do all of that in one place, in ~150 lines.

Single flight: when the copy is older than the interval, the request that wins a Redis `SET NX` lock renders and
stores; the others serve the previous copy meanwhile, or, when there is none yet, wait for the winner's.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from typing import Any, TypeAlias

from litestar.utils.scope.state import CONNECTION_STATE_KEY, ScopeState
from msgspec import msgpack

from contest import clock, keys
from contest.redis import async_redis
from contest.settings import get_settings

# Raw ASGI: this middleware builds and copies scopes and messages, which Litestar's TypedDicts make tedious to type.
Scope: TypeAlias = Any
Message: TypeAlias = dict[str, Any]
ASGIApp: TypeAlias = Any
Receive: TypeAlias = Any
Send: TypeAlias = Any

SHARED = {"shared": True}
"""A route's `opt` that makes its GET response one shared rendering."""
SHARED_SCOPE_KEY = "contest.shared"
"""Set in the scope of a shared rendering: base.html then leaves out the viewer's CSRF token."""
CACHE_CONTROL = b"public, max-age=1"
VARY = b"Accept-Encoding, Cookie"  # a page's language is the `lang` cookie
API_VARY = b"Accept-Encoding, Accept-Language"  # the API's is Accept-Language
KEEP_STALE_SECONDS = 60  # the previous copy, served while one process renders the next
LOCK_MS = 10_000  # a renderer that died frees the lock after this
WAIT_SECONDS = 5.0  # with no copy at all, how long a request waits for another's rendering before rendering itself
MEMORY_LIMIT = 2_000  # copies kept in a process's memory (forgotten all at once past this)
_DROPPED = frozenset({b"set-cookie", b"date", b"content-length", b"etag", b"cache-control", b"vary"})

RENDERINGS: Counter[str] = Counter()
"""Renderings per shared key in this process (tests count them)."""
_memory: dict[str, tuple[float, int, list[tuple[bytes, bytes]], bytes, bytes]] = {}
_inflight: dict[str, asyncio.Future[bool]] = {}


def interval() -> float:
    """How long one rendering is shared (settings; tests change it)."""
    return get_settings().web.shared_seconds


def forget() -> None:
    """Drop this process's in-memory copies (tests; Redis copies expire on their own)."""
    _memory.clear()


async def drop_all() -> None:
    """Delete every shared copy in Redis now (after a person's data is erased: their name may be on a board)."""
    r = async_redis()
    async for key in r.scan_iter(match=keys.shared_page("*"), count=1000):
        await r.delete(key)
    forget()


def _encoding(accept: bytes) -> bytes:
    return b"br" if b"br" in accept else b"gzip" if b"gzip" in accept else b""


def _lang(cookie: bytes) -> bytes:
    for part in cookie.split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == b"lang":
            return value.strip()
    return b""


class SharedRendering:
    """ASGI middleware: serves routes whose opt has "shared" from one shared rendering (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != "http" or scope["method"] != "GET" or handler is None or not handler.opt.get("shared"):
            await self.app(scope, receive, send)
            return
        accept = cookie = host = accept_lang = b""
        etag_asked = None
        hx = b""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept = value
            elif name == b"cookie":
                cookie = value
            elif name == b"if-none-match":
                etag_asked = value
            elif name == b"hx-request":
                hx = b"hx"
            elif name == b"host":
                host = value
            elif name == b"accept-language":
                accept_lang = value
        encoding, lang = _encoding(accept), _lang(cookie)
        api = scope["path"].startswith("/api/")
        # What the page is rendered from: the address, the language, the encoding, whether htmx asks. Nothing else.
        # (A proxy in front sets Host, and the scheme and client come from the server's proxy headers, not from here.)
        headers = [(b"host", host)] + ([(b"accept-encoding", encoding)] if encoding else [])
        if api:  # the API speaks the language of Accept-Language (errors.api_lang), not of the cookie
            lang = b"en" if accept_lang.lower().startswith(b"en") else b""
            if lang:
                headers.append((b"accept-language", lang))
        elif lang in (b"vi", b"en"):
            headers.append((b"cookie", b"lang=" + lang))
        else:
            lang = b""
        if hx:
            headers.append((b"hx-request", b"true"))
        query = scope.get("query_string", b"")
        key = keys.shared_page(f"{scope['path']}?{query.decode('latin-1')}|{lang.decode()}|{encoding.decode()}|{hx.decode()}")
        anonymous = {**scope, "headers": headers, "state": _fresh_state(scope), SHARED_SCOPE_KEY: True}
        seconds = interval()
        if seconds <= 0:  # not shared (the test suite): still rendered for an anonymous viewer, never stored
            await self.app(anonymous, receive, _strip_cookies(send))
            return
        copy = await _copy(key, seconds, lambda: self._render(key, anonymous, receive, seconds))
        if copy is None:  # no response at all (cannot happen with Litestar's exception handlers)
            await self.app(anonymous, receive, _strip_cookies(send))
            return
        _, status, stored, body, etag = copy
        if status != 200:  # not a page to share (a 404, an error): this request's rendering, as it is
            await send({"type": "http.response.start", "status": status, "headers": stored})
            await send({"type": "http.response.body", "body": body})
            return
        out = [*stored, (b"etag", etag), (b"cache-control", CACHE_CONTROL), (b"vary", API_VARY if api else VARY)]
        if etag_asked is not None and etag in (t.strip() for t in etag_asked.split(b",")):
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    async def _render(self, key: str, scope: Scope, receive: Receive, seconds: float) -> tuple[Any, ...] | None:
        RENDERINGS[key] += 1
        start: Message | None = None
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            return None
        content = b"".join(body)
        stored = [(n, v) for n, v in start.get("headers", []) if n.lower() not in _DROPPED]
        encoding = next((v for n, v in stored if n.lower() == b"content-encoding"), b"")
        etag = b'"' + hashlib.blake2b(content + encoding, digest_size=12).hexdigest().encode() + b'"'
        return (clock.now().timestamp() + seconds, start["status"], stored, content, etag)


async def _copy(key: str, seconds: float, render: Any) -> tuple[Any, ...] | None:
    """The fresh copy of a key, else the previous one while another renders, else this request's rendering."""
    now = clock.now().timestamp()
    copy = _memory.get(key)
    if copy is not None and copy[0] > now:
        return copy
    r = async_redis()
    raw = await r.get(key)
    if raw is not None:
        copy = _load(raw)
        _remember(key, copy)
        if copy[0] > now:
            return copy
    waiting = _inflight.get(key)
    if waiting is not None:  # this process already renders it
        if copy is not None:
            return copy
        await asyncio.shield(waiting)
        return _memory.get(key) or copy
    if not await r.set(keys.shared_page_lock(key), "1", nx=True, px=LOCK_MS):
        if copy is not None:  # another process renders: the previous copy meanwhile
            return copy
        return await _wait(key) or await render()
    future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    _inflight[key] = future
    try:
        made = await render()
        if made is not None and made[1] == 200:
            _remember(key, made)
            await r.set(key, _dump(made), ex=KEEP_STALE_SECONDS)
        return made
    finally:
        del _inflight[key]
        future.set_result(True)
        await r.delete(keys.shared_page_lock(key))


async def _wait(key: str) -> tuple[Any, ...] | None:
    r = async_redis()
    loop = asyncio.get_running_loop()
    until = loop.time() + WAIT_SECONDS
    while loop.time() < until:
        await asyncio.sleep(0.02)
        raw = await r.get(key)
        if raw is not None:
            copy = _load(raw)
            _remember(key, copy)
            return copy
        if not await r.exists(keys.shared_page_lock(key)):  # the other rendering made nothing to share (a 404)
            return None
    return None


def _remember(key: str, copy: tuple[Any, ...]) -> None:
    if len(_memory) >= MEMORY_LIMIT:
        _memory.clear()
    _memory[key] = copy  # type: ignore[assignment]


def _dump(copy: tuple[Any, ...]) -> str:
    # The Redis client decodes replies as text: the bytes travel as latin-1, which maps every byte to one character.
    return msgpack.encode(copy).decode("latin-1")


def _load(raw: str | bytes) -> tuple[Any, ...]:
    fresh, status, headers, body, etag = msgpack.decode(raw.encode("latin-1") if isinstance(raw, str) else raw)
    return (fresh, status, [(bytes(n), bytes(v)) for n, v in headers], bytes(body), bytes(etag))


def _fresh_state(scope: Scope) -> dict[str, Any]:
    """Litestar caches the parsed headers and cookies in the scope's state: the rendering gets a state without them
    (the app's exception handlers kept)."""
    state = dict(scope.get("state", {}))
    old, new = ScopeState.from_scope(scope), ScopeState()
    new.exception_handlers = old.exception_handlers
    state[CONNECTION_STATE_KEY] = new
    return state


def _strip_cookies(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [(n, v) for n, v in message.get("headers", []) if n.lower() != b"set-cookie"]}
        await send(message)

    return wrapped
