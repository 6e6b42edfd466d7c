"""Waking the scoring workers from the web app: one queued job per burst of submits."""

from __future__ import annotations

import asyncio
from functools import cache

from rq import Queue

from contest import keys
from contest.redis import async_redis, sync_redis


@cache
def scoring_queue() -> Queue:
    return Queue(keys.QUEUE_SCORING, connection=sync_redis())


async def kick() -> None:
    """Make sure a scoring job is queued; a no-op while one is already waiting to start."""
    if await async_redis().set(keys.SCORING_KICK, 1, nx=True, ex=30):
        await asyncio.to_thread(scoring_queue().enqueue, "contest.scoring.jobs.score_submitted", job_timeout=600, result_ttl=60)
