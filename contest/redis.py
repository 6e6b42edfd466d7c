"""Redis connections: asyncio for the web app, blocking for RQ workers."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis

from contest.settings import get_settings

_async: aioredis.Redis | None = None


def async_redis() -> aioredis.Redis:
    """The web process's shared asyncio client (created on first use)."""
    global _async
    if _async is None:
        _async = aioredis.Redis.from_url(get_settings().redis.url, decode_responses=True)
    return _async


async def close_async_redis() -> None:
    global _async
    if _async is not None:
        await _async.aclose()
        _async = None


def sync_redis() -> redis.Redis:
    """A blocking client for RQ (which needs bytes, so no decoding)."""
    return redis.Redis.from_url(get_settings().redis.url)
