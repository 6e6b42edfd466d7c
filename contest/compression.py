"""Brotli/gzip for pages and htmx fragments, without paying for a compressor on the responses too small to need one."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware

from contest.shared import SHARED_SCOPE_KEY

PER_REQUEST_QUALITY = 4

if TYPE_CHECKING:
    from litestar.config.compression import CompressionConfig
    from litestar.types import ASGIApp, Message, Receive, Scope, Send


class LeanCompression:
    """Litestar's compression, except that its compressor (a brotli or gzip object and a buffer, built for every
    request) is only built when a response is streamed or its body reaches the minimum size. A small body in one
    message (/healthz, a 204, a tick, a redirect) goes out as it is, at no cost: the same bytes Litestar sends.

    A plain ASGI class that hands the compressing itself to Litestar's middleware: as a subclass of it, every
    request also went through Litestar's per-middleware exclusion check (a twentieth of a hello-world request).

    Two brotli settings: a shared copy (contest.shared), compressed once for every viewer, takes the config's quality;
    a response made for one request (an attempt's questions, a dashboard, a result) takes PER_REQUEST_QUALITY. At the
    deadline spike quality 5 cost an attempt start a sixth of its CPU (the compressor's flush in the profile); quality
    4 takes a quarter less time for 5-8 % more bytes (a few dozen on a start's answer, 5 KB of JSON in 260 bytes)."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        self.app = app
        self.config = config
        self.litestar = CompressionMiddleware(app=app, config=config)
        quality = min(config.brotli_quality, PER_REQUEST_QUALITY)
        self.per_request = CompressionMiddleware(app=app, config=dataclasses.replace(config, brotli_quality=quality))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Litestar's parses every header into a Headers object to read this one.
        accept = next((value for name, value in scope["headers"] if name == b"accept-encoding"), b"").decode("latin-1")
        encoding = self.config.compression_facade.encoding
        if encoding not in accept and self.config.gzip_fallback and CompressionEncoding.GZIP in accept:
            encoding = CompressionEncoding.GZIP
        if encoding in accept:
            send = self.create_compression_send_wrapper(send, encoding, scope)
        await self.app(scope, receive, send)

    def create_compression_send_wrapper(
        self,
        send: Send,
        compression_encoding: Literal[CompressionEncoding.BROTLI, CompressionEncoding.GZIP] | str,
        scope: Scope,
    ) -> Send:
        minimum = self.config.minimum_size
        start: Message | None = None
        compress: Send | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal start, compress
            if compress is not None:
                await compress(message)
            elif message["type"] == "http.response.start":
                start = message
            elif (
                start is not None
                and message["type"] == "http.response.body"
                and not message.get("more_body")
                and len(message.get("body", b"")) < minimum
            ):
                await send(start)
                await send(message)
            else:  # worth compressing, or streamed: Litestar's own wrapper from the start message on
                maker = self.litestar if scope.get(SHARED_SCOPE_KEY) else self.per_request
                compress = maker.create_compression_send_wrapper(send, compression_encoding, scope)
                if start is not None:
                    await compress(start)
                await compress(message)

        return send_wrapper
