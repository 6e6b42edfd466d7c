"""What Redis holds for some key patterns, whole, to compare before and after (rendered-fragment caches aside)."""

from __future__ import annotations

import redis.asyncio as aioredis


async def redis_snapshot(r: aioredis.Redis, patterns: list[str]) -> dict[str, object]:
    """Every key matching the patterns with its whole content; the few-seconds board fragment caches are not results."""
    out: dict[str, object] = {}
    for pattern in patterns:
        async for key in r.scan_iter(match=pattern):
            if key.startswith("boardcache:"):
                continue
            kind = await r.type(key)
            if kind == "zset":
                out[key] = await r.zrange(key, 0, -1, withscores=True)
            elif kind == "hash":
                out[key] = await r.hgetall(key)
            elif kind == "set":
                out[key] = sorted(await r.smembers(key))
            else:
                out[key] = (kind, await r.dump(key))
    return out
