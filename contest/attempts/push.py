"""Results without polling storms: a worker publishes when it ranks an attempt, and the result page's one held request
wakes on it (Litestar channels on Redis pub/sub, one subscriber connection per web process). With the channel down, the
page polls instead, paced by the server's Retry-After and spread by attempt so that a deadline's auto-submits do not
all ask in the same second."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
import redis.exceptions
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from contest import keys
from contest.settings import get_settings

T = TypeVar("T")
_plugin: ChannelsPlugin | None = None


def channels_plugin() -> ChannelsPlugin:
    """The app's channels: started and stopped with the app (its lifespan), one pub/sub connection per process."""
    global _plugin
    # Bytes, not decoded (Litestar's backend decodes channel names itself); a restarted Redis is reconnected to.
    client = aioredis.Redis.from_url(get_settings().redis.url, retry=Retry(ExponentialBackoff(cap=1, base=0.1), 5))
    _plugin = ChannelsPlugin(backend=RedisChannelsPubSubBackend(redis=client), arbitrary_channels_allowed=True)
    return _plugin


def available() -> bool:
    """True while this process listens to the channel (its reader task runs; it ends if Redis stays out of reach)."""
    task = _plugin._sub_task if _plugin is not None else None  # noqa: SLF001  (Litestar keeps no public flag)
    return task is not None and not task.done()


def poll_after(attempt_id: int) -> int:
    """Seconds until the fallback poll asks again: the base plus a share of the spread chosen by the attempt id."""
    s = get_settings().contest
    return s.result_poll_seconds + attempt_id % max(1, s.result_poll_spread)


async def read_when_ranked(
    attempt_id: int, read: Callable[[], Awaitable[T]], ready: Callable[[T], bool], hold: float
) -> tuple[T, bool]:
    """read(), and while not ready hold up to `hold` seconds for the worker's word, then read() again.

    Subscribed before the first read, so a ranking between the read and the wait is not missed; the wait itself costs
    no query. The flag says whether the channel was there: False means the caller falls back to a paced poll.
    """
    if hold <= 0 or not available():
        return await read(), False
    assert _plugin is not None
    try:
        async with _plugin.start_subscription(keys.attempt_ranked(attempt_id)) as subscriber:
            value = await read()
            if ready(value):
                return value, True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(hold):
                    async for _ in subscriber.iter_events():
                        break
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return await read(), False
    return await read(), True


async def announce_ranked(r: aioredis.Redis, attempt_ids: list[int]) -> None:
    """Wake the result pages waiting on these attempts (workers call it after ranking; nobody listening costs nothing)."""
    if not attempt_ids:
        return
    with contextlib.suppress(redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        pipe = r.pipeline(transaction=False)
        for attempt_id in attempt_ids:
            pipe.publish(keys.attempt_ranked(attempt_id), "1")
        await pipe.execute()
