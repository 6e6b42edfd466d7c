"""The suite runs on real PostgreSQL, Redis and RQ workers.

With DATABASE_URL / REDIS_URL set (CI), it creates its own database on that server and flushes the
Redis database it is given; without them it starts private servers. Either way the environment is
ready before any contest module is imported, and everything started is stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_stack = contextlib.ExitStack()

os.environ.setdefault("CONTEST_DATA_DIR", str(ROOT / ".data" / "test"))
os.environ.setdefault("CONTEST_RATE_LIMIT", "20")
# Public pages are rendered per request in tests (still as for an anonymous viewer); tests/test_shared_pages.py
# turns sharing on to test it.
os.environ.setdefault("CONTEST_SHARED_SECONDS", "0")
os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")


def pytest_configure(config: pytest.Config) -> None:
    from contest.servers import private_postgres, private_redis, scratch_database

    data = Path(os.environ["CONTEST_DATA_DIR"])
    if os.environ.get("DATABASE_URL"):
        name = f"contest_test_{os.getpid()}"
        os.environ["DATABASE_URL"] = _stack.enter_context(scratch_database(os.environ["DATABASE_URL"], name))
    else:
        os.environ["DATABASE_URL"] = _stack.enter_context(private_postgres(data / "pg", wipe=True))
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _stack.enter_context(private_redis(data / "redis"))
    from contest.settings import get_settings

    get_settings.cache_clear()
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    from contest.commands.processes import demo, migrate

    migrate()
    demo()


def pytest_unconfigure(config: pytest.Config) -> None:
    _stack.close()


@pytest.fixture
def clock() -> Iterator:
    """A clock the test moves; starts at the real now."""
    from contest import clock as clock_module

    frozen = clock_module.FrozenClock(datetime.now(UTC))
    clock_module.use(frozen)
    yield frozen
    clock_module.use(None)


@pytest.fixture(scope="session")
async def app():  # type: ignore[no-untyped-def]
    from contest.app import create_app

    return create_app()


def client_for(app):  # type: ignore[no-untyped-def]
    """A browser of its own (its own cookie jar) on the app, in the test's event loop."""
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture(scope="session")
async def app_client(app) -> AsyncIterator:  # type: ignore[no-untyped-def]
    # In the test's own event loop (Litestar's AsyncTestClient runs the app in a portal thread's loop);
    # the startup and shutdown hooks are called here for the same reason.
    for hook in app.on_startup:
        await hook()
    async with client_for(app) as client:
        yield client
    for hook in app.on_shutdown:
        await hook()


@pytest.fixture
async def client(app_client) -> AsyncIterator:  # type: ignore[no-untyped-def]
    """The app, with a fresh cookie jar and fresh rate-limit budgets for each test."""
    from contest.redis import async_redis

    app_client.cookies.clear()
    async for key in async_redis().scan_iter(match="contest_rate_limit*"):
        await async_redis().delete(key)
    yield app_client


def run_worker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """A real RQ worker in burst mode: it scores what is queued and stops."""
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", "worker", "--burst", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=timeout,
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture
def worker():  # type: ignore[no-untyped-def]
    return run_worker


_counter = iter(range(1, 10**9))


@pytest.fixture
async def new_round(clock):  # type: ignore[no-untyped-def]
    """Make a fresh contest with one open round (own boards, own registrations)."""
    from tests.factories import make_round

    async def make(**kw):  # type: ignore[no-untyped-def]
        return await make_round(clock.current, next(_counter), **kw)

    return make


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)
