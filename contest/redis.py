"""Redis connections: asyncio for the web app, blocking for RQ workers."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from contest.settings import get_settings

# A connection from before a Redis restart fails once, then reconnects: retry on it rather than fail the
# request (clients made with from_url do not retry by default). Every write here tolerates a replay.
_async: aioredis.Redis | None = None


def async_redis() -> aioredis.Redis:
    """The web process's shared asyncio client (created on first use)."""
    global _async
    if _async is None:
        # A blocking pool: when a round closes, a burst of requests waits for a free connection, where the default
        # pool (100 at most) failed them with MaxConnectionsError, a 503 (loadtests/run_load.py, 2,000 users).
        pool = aioredis.BlockingConnectionPool.from_url(
            get_settings().redis.url,
            decode_responses=True,
            retry=AsyncRetry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            max_connections=200,
            timeout=20,
        )
        _async = aioredis.Redis.from_pool(pool)
    return _async


async def close_async_redis() -> None:
    global _async
    if _async is not None:
        await _async.aclose()
        _async = None


def sync_redis() -> redis.Redis:
    """A blocking client for RQ (which needs bytes, so no decoding)."""
    return redis.Redis.from_url(get_settings().redis.url, retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2))
