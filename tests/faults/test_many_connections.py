"""A crowd of browsers keeping their connections alive does not lock the next one out.

Granian counts open connections against its backpressure (by default backlog / workers: 1,024 for one process);
every phone on a board keeps its connection, so beyond that number a newcomer waited to be accepted for as long
as the others stayed (tens of seconds in the load test at 1,100 users). `contest web` sets it from
CONTEST_WEB_CONNECTIONS."""

from __future__ import annotations

import asyncio
import time

CROWD = 1_200  # beyond granian's default for one process


async def _keep_alive(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    assert head.startswith(b"HTTP/1.1 200"), head[:40]
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    await reader.readexactly(length)
    return reader, writer


async def test_a_newcomer_is_served_at_once_while_a_crowd_keeps_its_connections(web_app) -> None:
    web = web_app().start()
    crowd = []
    try:
        for start in range(0, CROWD, 200):  # in waves, as a crowd arrives
            crowd += await asyncio.gather(*(_keep_alive(web.port) for _ in range(start, min(start + 200, CROWD))))
        began = time.monotonic()
        reader, writer = await asyncio.wait_for(_keep_alive(web.port), 10)
        assert time.monotonic() - began < 5
        crowd.append((reader, writer))
        # The crowd's connections are still theirs: each asks again and is answered.
        for reader, writer in crowd[:50]:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            await writer.drain()
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).startswith(b"HTTP/1.1 200")
    finally:
        for _, writer in crowd:
            writer.close()
